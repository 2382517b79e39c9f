// Which Store backend a configuration selects: storage.url (PostgreSQL, for
// replicas) or else the SQLite file storage.path (the default).
import type { Logger } from '@optifiber/exporter/log/logger';
import type { Config } from './config.js';
import { readSecretFile } from './config.js';
import type { Store } from './store.js';
import { PgStore } from './store-postgres.js';
import { SqliteStore } from './store-sqlite.js';

export async function openStore(storage: Config['storage'], log?: Logger): Promise<Store> {
  if (!storage.url) return new SqliteStore(storage.path);
  const password = storage.password_file ? readSecretFile(storage.password_file, 'PostgreSQL password', 1).secret : undefined;
  return PgStore.open(storage.url, { ...(password !== undefined ? { password } : {}), onError: (e) => log?.warn({ err: e }, 'PostgreSQL connection lost; reconnecting at the next query') });
}

// A throwaway PostgreSQL cluster: Debian's binaries
// (/usr/lib/postgresql/<v>/bin, or $PG_BIN) on a private data directory,
// listening on 127.0.0.1 at a free port and on a socket in the same
// directory. initdb and postgres refuse to run as root: as root they run as
// the `postgres` user (runuser). Used by the remediation store's test suite
// (grafana-app-remediation/service/test/store.test.ts) and the replica e2e
// (grafana-app-remediation/service/e2e/replicas.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The directory of initdb/pg_ctl, or undefined when PostgreSQL is not installed. */
export function pgBinDir() {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'pg_ctl')) ? process.env.PG_BIN : undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const v = readdirSync(base).filter((d) => existsSync(join(base, d, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))[0];
  return v ? join(base, v, 'bin') : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster; resolves with its URL (database `postgres`, trust
 * authentication on loopback) and controls: stop/start (the e2e's database
 * outage), freshDatabase (one per test), destroy.
 */
export async function startPgCluster(o = {}) {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (cmd, args) => {
    const full = join(bin, cmd);
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' }) : spawnSync(full, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const data = join(dir, 'data');
  // C collation: ISO-8601 timestamps stored as text compare as bytes.
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
  const port = o.port ?? (await freePort());
  const opts = [`-c listen_addresses=127.0.0.1`, `-p ${port}`, `-k ${dir}`, '-c max_connections=60', '-c shared_buffers=32MB', '-c fsync=off', '-c log_min_messages=warning'].join(' ');
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'postgres.log'), '-w', '-t', '30', 'start']);
  const stop = (mode = 'fast') => run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    url,
    port,
    dir,
    start,
    stop,
    /** A new empty database; resolves with its URL. */
    async freshDatabase(prefix = 't') {
      const name = `${prefix}_${process.pid}_${++n}`;
      run('createdb', ['-h', dir, '-p', String(port), '-U', 'postgres', '-T', 'template0', name]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    destroy() {
      try {
        stop('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

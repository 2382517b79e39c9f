// The store test suite, once for both backends (issue 13): SQLite (the
// default) and PostgreSQL (a throwaway cluster started here; the suite is
// skipped, loudly, only when the PostgreSQL binaries are not installed).
// "Two replicas" are two Store instances on one database: two processes'
// worth of connections for PostgreSQL; for SQLite one store (a second one on
// the same file refuses to open, tested below with two real processes).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgStore } from '../src/store-postgres.js';
import { SqliteStore, StoreLockedError } from '../src/store-sqlite.js';
import { StaleActionError, type ActionRow, type Store } from '../src/store.js';
import { pgBinDir, startPgCluster, type PgCluster } from '../../../scripts/stack/postgres.mjs';
import { secrets, tmpDir, until } from './helpers.js';

interface Backend {
  name: string;
  available: boolean;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** Two stores on one fresh database (the same instance twice where only one may exist). */
  open: () => Promise<[Store, Store]>;
  /** Stops and restarts the database server (a server the service reaches over the network). */
  outage?: { stop: () => void; start: () => void };
}

let cluster: PgCluster | undefined;
const pgBin = pgBinDir();
if (!pgBin) console.warn('SKIP store suite on PostgreSQL: no PostgreSQL binaries (apt-get install postgresql); only SQLite is tested');

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    available: true,
    open: async () => {
      const s = new SqliteStore(join(tmpDir('store-'), 'r.db'));
      return [s, s];
    },
  },
  {
    name: 'PostgreSQL',
    available: !!pgBin,
    setup: async () => {
      cluster = await startPgCluster();
    },
    teardown: async () => cluster?.destroy(),
    outage: { stop: () => cluster!.stop('fast'), start: () => cluster!.start() },
    open: async () => {
      const url = await cluster!.freshDatabase('store');
      const a = await PgStore.open(url);
      return [a, await PgStore.open(url)];
    },
  },
];

const action = (episode: string, site = 'paris-1', extra: Partial<ActionRow> = {}) => ({
  episode_key: episode,
  idempotency_key: `key-${episode}`,
  site,
  alertname: 'OptiFiberCapacityForecastHigh',
  fingerprint: episode,
  starts_at: '2026-12-07T00:00:00.000Z',
  generator_url: null,
  labels: '{}',
  annotations: '{}',
  mode: 'auto' as const,
  count: 1,
  state: 'baseline' as const,
  result: null,
  reason: null,
  baseline: null,
  received_at_ms: Date.now(),
  created_at: new Date().toISOString(),
  submitted_at: new Date().toISOString(),
  finished_at: null,
  expires_at: null,
  ...extra,
});

describe.each(BACKENDS.filter((b) => b.available))('store on $name', (b) => {
  let a: Store;
  let other: Store;
  const opened: Store[] = [];
  beforeAll(async () => {
    await b.setup?.();
  }, 60_000);
  afterAll(async () => {
    for (const s of new Set(opened)) await s.close();
    await b.teardown?.();
  });
  beforeEach(async () => {
    [a, other] = await b.open();
    opened.push(a, other);
  });

  test('queue: a delivery is stored, listed pending, claimed and acknowledged; ids and counts are numbers', async () => {
    const id = await a.write((tx) => tx.enqueue('{"x":1}', '127.0.0.1', 1_765_000_000_123.5));
    expect(typeof id).toBe('number');
    expect(await a.queueDepth()).toBe(1);
    expect(await a.pendingInbox(10)).toEqual([{ id, body: '{"x":1}', received_at_ms: 1_765_000_000_123.5 }]);
    await a.write(async (tx) => {
      expect([...(await tx.claimInbox([id]))]).toEqual([id]);
      await tx.inboxDone(id);
    });
    expect(await a.queueDepth()).toBe(0);
    expect(await other.write((tx) => tx.claimInbox([id]))).toEqual(new Set());
  });

  test('one transaction per write: a write that throws leaves nothing; a failed savepoint only undoes itself', async () => {
    await expect(
      a.write(async (tx) => {
        await tx.enqueue('lost', undefined, 1);
        await tx.putSetting('policy', { x: 1 }, 'test');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await a.queueDepth()).toBe(0);
    expect(await a.getSetting('policy')).toBeUndefined();
    await a.write(async (tx) => {
      await tx.enqueue('kept', undefined, 1);
      await expect(tx.savepoint(async () => (await tx.enqueue('undone', undefined, 2), Promise.reject(new Error('inner'))))).rejects.toThrow('inner');
    });
    expect((await a.pendingInbox(10)).map((r) => r.body)).toEqual(['kept']);
  });

  test('one action per episode: the second insert of an episode fails and its whole transaction with it', async () => {
    await a.write((tx) => tx.insertAction(action('ep-1')));
    // (the message, not toThrow: better-sqlite3's errors come from the realm of the first test
    // file of a jest worker that loaded it, so instanceof Error fails in later ones)
    const second = await other
      .write(async (tx) => {
        await tx.audit({ kind: 'decision', action_id: null, site: 'paris-1', alertname: null, fingerprint: 'ep-1', starts_at: null, status: 'firing', decision: 'act', reason: 'x', actor: 'policy', details: null });
        return tx.insertAction(action('ep-1'));
      })
      .then((id) => `resolved with ${id}`, (e: unknown) => String((e as Error)?.message ?? e));
    expect(second).toMatch(/unique/i);
    expect(await a.findAudit({}, 10)).toEqual([]);
    expect((await a.findActions({}, 10)).map((r) => r.episode_key)).toEqual(['ep-1']);
  });

  test('concurrent claims from two replicas: every delivery is decided exactly once', async () => {
    const ids = await a.write(async (tx) => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push(await tx.enqueue(`d${i}`, undefined, i));
      return out;
    });
    const decided: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        (w % 2 ? other : a).write(async (tx) => {
          for (const id of await tx.claimInbox(ids)) {
            decided.push(id);
            await tx.inboxDone(id);
          }
        }),
      ),
    );
    expect(decided.sort((x, y) => x - y)).toEqual(ids);
    expect(await a.queueDepth()).toBe(0);
  });

  test('limits are atomic across replicas: concurrent decisions for one site admit exactly one action', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? other : a).write(async (tx) => {
          await tx.lockLimits();
          if (await tx.siteBusy('lyon-2')) return 'busy';
          // the decision reads its rate limit too; the slot it takes is its submitted_at
          const inWindow = await tx.actionsCountedSince(new Date(Date.now() - 3_600_000).toISOString());
          if (inWindow >= 6) return 'rate_limited';
          await tx.insertAction(action(`burst-${i}`, 'lyon-2'));
          return 'act';
        }),
      ),
    );
    expect(results.filter((r) => r === 'act')).toHaveLength(1);
    expect(results.filter((r) => r === 'busy')).toHaveLength(9);
    expect(await a.countInState(['baseline'])).toBe(1);
  });

  test('settings: seeded once by replicas starting together; later puts replace', async () => {
    const seeded = await Promise.all([a, other, a, other].map((s, i) => s.write((tx) => tx.seedSetting('kill_switch', { enabled: false, n: i }, 'config'))));
    expect(seeded.filter(Boolean)).toHaveLength(1);
    await other.write((tx) => tx.putSetting('kill_switch', { enabled: true }, 'alice'));
    expect(await a.getSetting('kill_switch')).toEqual({ value: { enabled: true }, updated_at: expect.any(String), updated_by: 'alice' });
  });

  test('leases: a live lease keeps other replicas out; an expired one is adopted; the stale runner cannot overwrite', async () => {
    const id = await a.write((tx) => tx.insertAction(action('lease-1')));
    const t0 = Date.now();
    expect(await a.write((tx) => tx.claimAction(id, 'replica-a', t0, 5_000))).toBe(true);
    expect(await other.write((tx) => tx.claimAction(id, 'replica-b', t0 + 1_000, 5_000))).toBe(false);
    expect(await other.orphanedActions(t0 + 1_000, 'replica-b')).toEqual([]);
    expect(await a.write((tx) => tx.renewLeases('replica-a', t0 + 4_000, 5_000))).toBe(1);
    expect(await other.orphanedActions(t0 + 6_000, 'replica-b')).toEqual([]);
    // replica-a stops renewing (killed): after the lease, replica-b adopts
    expect(await other.orphanedActions(t0 + 9_500, 'replica-b')).toEqual([{ id }]);
    expect(await other.write((tx) => tx.claimAction(id, 'replica-b', t0 + 9_500, 5_000))).toBe(true);
    const stale = (await a.action(id))!;
    await other.write((tx) => tx.updateAction(id, { state: 'submitted', job_id: 'job-1' }, 'baseline'));
    await expect(a.write((tx) => tx.updateAction(stale.id, { state: 'unknown' }, stale.state))).rejects.toThrow(StaleActionError);
    expect(await a.action(id)).toMatchObject({ state: 'submitted', job_id: 'job-1', owner: 'replica-b' });
  });

  if (b.outage) {
    const { stop, start } = b.outage;
    test('the server stops in the middle of a transaction: the write rejects, nothing of it stays, the store works when it is back', async () => {
      const r = await a
        .write(async (tx) => {
          await tx.enqueue('first half', undefined, 1);
          stop(); // the connection this transaction holds is terminated between two statements
          await tx.enqueue('second half', undefined, 2);
        })
        .then(() => 'committed', (e: unknown) => `rejected: ${(e as Error).message}`);
      expect(r).toMatch(/^rejected: /);
      await expect(a.queueDepth()).rejects.toThrow();
      start();
      await until(() => a.ping().then(() => true, () => false), 10_000, 'the store to answer again');
      expect(await a.pendingInbox(10)).toEqual([]);
      await a.write((tx) => tx.enqueue('after', undefined, 3));
      expect((await other.pendingInbox(10)).map((x) => x.body)).toEqual(['after']);
    });
  }

  test('episodes count deliveries and remember resolution; retention keeps pending work', async () => {
    const e = { episode_key: 'fp@t', fingerprint: 'fp', starts_at: 't', site: 'paris-1', alertname: 'A', now: '2026-12-07T00:00:00.000Z' };
    expect(await a.write((tx) => tx.recordDelivery({ ...e, resolved: false }))).toEqual({ resolvedBefore: false, deliveries: 1 });
    expect(await other.write((tx) => tx.recordDelivery({ ...e, resolved: true }))).toEqual({ resolvedBefore: false, deliveries: 2 });
    expect(await a.write((tx) => tx.recordDelivery({ ...e, resolved: false }))).toEqual({ resolvedBefore: true, deliveries: 3 });
    expect(await a.episodeResolved('fp@t')).toBe(true);
    const pending = await a.write((tx) => tx.enqueue('p', undefined, 0));
    const swept = await a.write((tx) => tx.sweep(Date.now() + 10 * 86_400_000, { inboxRetentionMs: 1000, auditRetentionMs: 60_000 }));
    expect(swept.episodes).toBe(1);
    expect((await a.pendingInbox(5)).map((r) => r.id)).toEqual([pending]);
  });
});

describe('SQLite: one process per database file', () => {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
  const cli = join(root, 'grafana-app-remediation', 'service', 'dist', 'cli.js');
  const dir = tmpDir('store-lock-');
  const s = secrets(dir);
  const db = join(dir, 'remediation.db');
  const start = () => {
    const child = spawn(process.execPath, [cli, `--storage.path=${db}`, '--web.listen-address=127.0.0.1:0', `--webhook.bearer-token-file=${s.webhookTokenFile}`, `--mcp.client-secret-file=${s.mcpSecretFile}`, '--log.level=error'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const listening = new Promise<boolean>((resolve) => {
      child.stdout!.on('data', () => /listening on/.test(out) && resolve(true));
      void exited.then(() => resolve(false));
    });
    return { child, exited, listening, out: () => out };
  };

  test('a second service on the same file refuses to start with a clear error; after kill -9 of the first, a new one starts', async () => {
    const first = start();
    expect(await first.listening).toBe(true);
    const second = start();
    expect(await second.exited).toBe(1);
    expect(second.out()).toMatch(/SQLite database .*remediation\.db is in use by another process .*one remediation service per SQLite file.*PostgreSQL \(storage\.url\)/);
    // the first one is unaffected
    expect(first.child.exitCode).toBeNull();
    first.child.kill('SIGKILL');
    await first.exited;
    const third = start();
    expect(await third.listening).toBe(true);
    // it serves (and has its SIGTERM handler) before it is asked to stop
    expect((await fetch(`${/listening on (\S+)/.exec(third.out())![1]}/-/healthy`)).status).toBe(200);
    third.child.kill('SIGTERM');
    expect([await third.exited, third.child.signalCode, third.out().slice(-500)]).toEqual([0, null, expect.any(String)]);
  }, 60_000); // three process starts on a loaded CI machine

  test('in one process too: a second store on an open file throws StoreLockedError; after close it opens', async () => {
    const path = join(tmpDir('store-lock2-'), 'r.db');
    const one = new SqliteStore(path);
    expect(() => new SqliteStore(path)).toThrow(StoreLockedError);
    await one.close();
    await new SqliteStore(path).close();
  });
});

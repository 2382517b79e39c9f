// Crash-safety: the service (a child process, compiled dist/cli.js) SIGKILLs
// itself at each step of the action state machine (test hook
// REMEDIATION_TEST_CRASH_AT), is restarted on the same database, and must
// finish the action exactly once: one MCP job, one cmd_add at the exporter,
// one action row "succeeded", and a complete audit trail.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMcpSimulator, type McpSimulator } from '@optifiber/mcp-simulator';
import { CRASH_POINTS } from '../src/engine.js';
import { alert, payload, secrets, startStubExporter, tmpDir, until, type StubExporter } from './helpers.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const PORT = 19887 + Math.floor(Math.random() * 500);

let sim: McpSimulator;
let exp: StubExporter;
const dir = tmpDir('rem-crash-');
const s = secrets(dir);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npx tsc -b grafana-app-remediation/service first`);
  exp = await startStubExporter(['paris-1']);
  sim = await startMcpSimulator({ port: 0, clientSecret: s.mcpSecret, exporterUrl: exp.url, exporterToken: exp.token, queuedMs: [10, 20], runningMs: [10, 20], responseDelayMs: [0, 1] });
});
afterAll(async () => {
  await sim.stop();
  await exp.stop();
});

function startService(db: string, crashAt?: string, extra: string[] = []): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | number | null> }> {
  const child = spawn(process.execPath, [CLI,
    `--web.listen-address=127.0.0.1:${PORT}`, `--storage.path=${db}`, `--webhook.bearer-token-file=${s.webhookTokenFile}`, `--api.proxy-token-file=${s.apiTokenFile}`,
    `--mcp.url=${sim.url}`, `--mcp.client-secret-file=${s.mcpSecretFile}`, '--mcp.poll-interval=20ms', '--mcp.backoff-base=10ms', `--exporter.url=${exp.url}`, '--exporter.verify-timeout=5s', '--log.level=warn', ...extra,
  ], { env: { ...process.env, ...(crashAt ? { REMEDIATION_TEST_CRASH_AT: crashAt } : { REMEDIATION_TEST_CRASH_AT: '' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, sig) => r(sig ?? code)));
  return new Promise((resolveP, reject) => {
    child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('listening')) resolveP({ child, exited }); });
    child.on('exit', (code) => reject(new Error(`service exited (${code}) before listening: ${err}`)));
  });
}

const post = (body: unknown) => fetch(`http://127.0.0.1:${PORT}/api/v1/alertmanager/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${s.webhookToken}` }, body: JSON.stringify(body) });
const api = (path: string) => fetch(`http://127.0.0.1:${PORT}/api/v1${path}`, { headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': 'Viewer' } }).then((r) => r.json() as Promise<any>);

describe('crash at every step, restart: exactly one provisioning', () => {
  test.each(CRASH_POINTS.map((p) => [p]))('SIGKILL at %s', async (point) => {
    sim.reset();
    exp.cmdAdds.length = 0;
    exp.sites.get('paris-1')!.cmdModules = 4;
    const db = join(dir, `${point}.db`);
    const body = payload([alert({ fingerprint: 'c0ffee' + CRASH_POINTS.indexOf(point as never) })]);
    // baseline_committed is the approval path (approved -> baseline re-read).
    const approval = point === 'baseline_committed';
    const first = await startService(db, point, approval ? ['--policy.approval-required=true'] : []);
    await post(body).catch(() => undefined); // the process may die before answering
    if (approval) {
      const pending = await until(async () => (await api('/approvals')).approvals[0], 5000, 'pending approval');
      await fetch(`http://127.0.0.1:${PORT}/api/v1/actions/${pending.id}/approve`, { method: 'POST', headers: { Authorization: `Bearer ${s.apiToken}`, 'X-OptiFiber-Role': 'Admin', 'X-Grafana-User': 'alice', 'Content-Type': 'application/json' }, body: '{"comment":"go"}' }).catch(() => undefined);
    }
    const how = await Promise.race([first.exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
    if (how === 'timeout') first.child.kill('SIGKILL');
    expect(how).toBe('SIGKILL');

    const second = await startService(db);
    try {
      const done = await until(async () => {
        const r = await api('/actions');
        return r.actions.length === 1 && r.actions[0].state === 'done' ? r.actions[0] : undefined;
      }, 15000, `action done after crash at ${point}`);
      expect(done.result).toBe('succeeded');
      // Alertmanager re-delivers (at least once): still nothing new.
      expect((await post(body)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 200));
      const after = await api('/actions');
      expect(after.actions).toHaveLength(1);
      expect(sim.stats().jobsCreated).toBe(1);
      expect(exp.cmdAdds).toEqual([{ site: 'paris-1', n: 1 }]);
      expect(exp.sites.get('paris-1')!.cmdModules).toBe(5);
      const trail = await api(`/actions/${done.id}`);
      const steps = trail.audit.map((a: any) => a.decision ?? a.reason);
      expect(steps[0]).toBe(approval ? 'await_approval' : 'act');
      if (approval) expect(done.approvedBy).toBe('alice');
      expect(trail.audit.map((a: any) => a.reason)).toEqual(expect.arrayContaining(['MCP job created', 'MCP job succeeded; verifying capacity in the pages']));
      expect(trail.audit.filter((a: any) => a.kind === 'step' && a.status === 'done').map((a: any) => a.decision)).toEqual(['succeeded']);
      expect(trail.audit.filter((a: any) => a.kind === 'decision' && a.action_id !== null && a.decision !== 'skip')).toHaveLength(1);
      const dupes = await api('/audit?reason=duplicate');
      expect(dupes.audit.length).toBeGreaterThanOrEqual(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 40000);
});

// Issue 12, findings 2 and 5, end to end on real processes: the exporter CLI
// (user-space simulator) with TLS, basic auth for readers and a control
// token; the MCP simulator CLI as the control client over HTTPS
// (NODE_EXTRA_CA_CERTS), exactly as docs/security.md configures it. A job
// created at the MCP adds capacity on the exporter (it was 401 with basic
// auth on), the exporter's audit trail names the identity and the MCP's
// Idempotency-Key, and a read-only basic-auth user cannot do the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { buildCli, repoRoot, simBinary } from './helpers/build-cli.js';
import { CONTROL_TOKEN, HASH, PASSWORD, basic, call, command, makeCert, tmpDir } from './security-fixture.js';

const MCP_CLI = path.join(repoRoot, 'mcp-simulator', 'dist', 'cli.js');
const SECRET = 'mcp-client-secret-0123456789';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

let dir: string;
let ca: Buffer;
const children: ChildProcess[] = [];
let exporterUrl: string;
let mcpUrl: string;
let cliBuild: string;

beforeAll(async () => {
  if (!existsSync(MCP_CLI)) throw new Error(`${MCP_CLI} is missing: run npx tsc -b mcp-simulator (npm test builds it)`);
  dir = tmpDir('ofmcptls-');
  ca = makeCert(dir, 'server');
  writeFileSync(path.join(dir, 'control.token'), CONTROL_TOKEN, { mode: 0o600 });
  writeFileSync(path.join(dir, 'secret'), SECRET, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\nbasic_auth_users:\n  prometheus: '${HASH}'\n`,
  );
  const cli = buildCli();
  cliBuild = path.dirname(path.dirname(cli));
  const [ep, mp] = [await freePort(), await freePort()];
  exporterUrl = `https://127.0.0.1:${ep}`;
  mcpUrl = `http://127.0.0.1:${mp}`;
  const exporter = spawn(
    process.execPath,
    [cli, 'start', `--web.listen-address=127.0.0.1:${ep}`, `--web.config.file=${path.join(dir, 'web.yml')}`, `--control.token-file=${path.join(dir, 'control.token')}`,
      '--source.kind=userspace', `--simulator.binary=${simBinary}`, '--simulator.nsites=2', '--simulator.tick-ms=200', '--sampler.interval=200ms', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  children.push(exporter);
  const mcp = spawn(process.execPath, [MCP_CLI, `--listen=127.0.0.1:${mp}`, `--exporter-url=${exporterUrl}`, `--exporter-token-file=${path.join(dir, 'control.token')}`,
    `--client-secret-file=${path.join(dir, 'secret')}`, '--queued-ms=10,20', '--running-ms=10,20'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'server.pem') },
  });
  children.push(mcp);
  await until('the exporter over TLS', async () => ((await call(`${exporterUrl}/api/v1/sites`, { ca, headers: { Authorization: basic('prometheus', PASSWORD) } })).status === 200 ? true : undefined));
  await until('the MCP simulator', async () => ((await fetch(`${mcpUrl}/-/healthy`)).ok ? true : undefined));
}, 60_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(cliBuild, { recursive: true, force: true });
});

const modules = async (site: string) =>
  ((await call(`${exporterUrl}/api/v1/sites`, { ca, headers: { Authorization: basic('prometheus', PASSWORD) } })).body.sites as { name: string; cmdModules: number }[]).find((s) => s.name === site)!.cmdModules;

test('F2 with TLS and basic auth on: an MCP job adds capacity through the control token; audited with identity and key', async () => {
  const sites = (await call(`${exporterUrl}/api/v1/sites`, { ca, headers: { Authorization: basic('prometheus', PASSWORD) } })).body.sites as { name: string }[];
  const site = sites[0]!.name;
  const before = await modules(site);
  const tok = (await (await fetch(`${mcpUrl}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=optifiber-remediation&client_secret=${SECRET}` })).json()) as { access_token: string };
  const created = await fetch(`${mcpUrl}/api/v1/provisioning/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tok.access_token}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'action-7' },
    body: JSON.stringify({ site, operation: 'cmd_add', count: 1 }),
  });
  expect(created.status).toBe(202);
  const job = (await created.json()) as { id: string };
  const done = await until('the job to finish', async () => {
    const j = (await (await fetch(`${mcpUrl}/api/v1/provisioning/jobs/${job.id}`, { headers: { Authorization: `Bearer ${tok.access_token}` } })).json()) as { state: string; error?: string };
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  });
  expect(done).toMatchObject({ state: 'succeeded' });
  expect(await modules(site)).toBe(before + 1);
  const audit = readFileSync(path.join(dir, 'control-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(audit.at(-1)).toMatchObject({ event: 'done', identity: 'control-token', site, command: 'cmd_add=1', result: 'applied', idempotencyKey: 'mcp-optifiber-remediation-action-7' });
}, 60_000);

test('F2 the read-only basic-auth user cannot change the network (403); nothing applied', async () => {
  const sites = (await call(`${exporterUrl}/api/v1/sites`, { ca, headers: { Authorization: basic('prometheus', PASSWORD) } })).body.sites as { name: string }[];
  const site = sites[1]!.name;
  const before = await modules(site);
  const r = await command(exporterUrl, site, { cmd_add: 1 }, { Authorization: basic('prometheus', PASSWORD) }, ca);
  expect(r.status).toBe(403);
  expect(await modules(site)).toBe(before);
});

// End to end against the real user-space simulator (kernel/build/optifiber-sim):
// its pages read by the real PageReader and Sampler, commands written to its
// cmd_control socket, the change read back from its pages. Skipped (with a
// note) only when the simulator has not been built (`make -C kernel sim`).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PageReader } from '../src/source/page-reader.js';
import { Sampler } from '../src/sampler/sampler.js';
import { apiNotFound, apiRouter } from '../src/api/router.js';
import type { ApiRouter } from '../src/api/router.js';
import { controlRouter } from '../src/control/router.js';
import { UnixSocketControlChannel } from '../src/control/channel.js';
import { req } from './api-fixture.js';
import { schemaErrors } from './api-schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIM = path.resolve(here, '../../kernel/build/optifiber-sim');
const TOKEN = 'sim-token-0123456789abcdef';
const d = existsSync(SIM) ? describe : describe.skip;
if (!existsSync(SIM)) console.warn(`control-sim.test: ${SIM} not built; run make -C kernel sim`);

d('against the real simulator', () => {
  let dir: string;
  let sim: ChildProcess;
  let sampler: Sampler;
  let api: ApiRouter;
  let server: http.Server;
  let base: string;
  const post = (site: string, body: object) =>
    req(`${base}/api/v1/sites/${site}/commands`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ofsim-api-'));
    sim = spawn(SIM, ['run', '--dir', dir, '--sites', 'paris-1,lyon-2', '--tick-ms', '100', '--fault-rate', '0', '--seed', '7'], { stdio: ['ignore', 'ignore', 'pipe'] });
    sim.stderr!.resume();
    const t0 = Date.now();
    while (!existsSync(path.join(dir, 'myinfo')) || !existsSync(path.join(dir, 'cmd_control'))) {
      if (Date.now() - t0 > 5000) throw new Error('simulator did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    sampler = new Sampler({ kind: 'userspace', path: path.join(dir, 'myinfo'), open: (p) => PageReader.open(p), intervalMs: 100 });
    api = apiRouter({ sampler });
    sampler.start();
    while (!sampler.latest()?.source.up || (sampler.latest()?.sites.length ?? 0) < 2) {
      if (Date.now() - t0 > 8000) throw new Error(`no sample: ${sampler.latest()?.source.error}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const app = express();
    app.use(api);
    app.use(controlRouter({ sampler, token: TOKEN, channel: new UnixSocketControlChannel(path.join(dir, 'cmd_control')), rateLimit: { burst: 100, perSecond: 100 }, readbackTimeoutMs: 5000 }));
    app.use(apiNotFound());
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    api?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await sampler?.stop();
    if (sim && sim.exitCode === null) {
      sim.kill('SIGTERM');
      await new Promise((r) => sim.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('sites and snapshot match the schema', async () => {
    const s = await req(`${base}/api/v1/sites`);
    expect(s.status).toBe(200);
    expect(schemaErrors('/api/v1/sites', 'get', 200, s.body)).toEqual([]);
    expect(s.body.sites.map((x: any) => x.name)).toEqual(['paris-1', 'lyon-2']);
    const snap = await req(`${base}/api/v1/snapshot`);
    expect(schemaErrors('/api/v1/snapshot', 'get', 200, snap.body)).toEqual([]);
    expect(snap.body.source).toMatchObject({ kind: 'userspace', up: true, dir: { host: 'userspace', simulated: true } });
  });

  test('long poll delivers the next tick of the simulator', async () => {
    const r = await req(`${base}/api/v1/poll?timeout=5`);
    expect(r.status).toBe(200);
    expect(schemaErrors('/api/v1/poll', 'get', 200, r.body)).toEqual([]);
    expect(r.body.ticks.length).toBeGreaterThanOrEqual(1);
  });

  test('cmd_add / cmd_remove are written and read back from the pages', async () => {
    const before = sampler.latest()!.sites.find((x) => x.sample.name === 'lyon-2')!.sample;
    const up = before.cmdModules < before.cmdModulesMax;
    const r = await post('lyon-2', up ? { cmd_add: 1 } : { cmd_remove: 1 });
    expect(r.status).toBe(200);
    expect(schemaErrors('/api/v1/sites/{site}/commands', 'post', 200, r.body)).toEqual([]);
    expect(r.body.after.cmdModules).toBe(before.cmdModules + (up ? 1 : -1));
    expect(r.body.after.capacityBps).toBe(r.body.after.cmdModules * before.moduleCapacityBps);
    const back = await post('lyon-2', up ? { cmd_remove: 1 } : { cmd_add: 1 });
    expect(back.status).toBe(200);
    expect(back.body.after.cmdModules).toBe(before.cmdModules);
  });

  test('the kernel grammar\'s ERANGE becomes 409', async () => {
    const s = sampler.latest()!.sites[0]!.sample;
    const r = await post('paris-1', { cmd_remove: Math.min(64, s.cmdModules) });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/^ERANGE/);
    expect(schemaErrors('/api/v1/sites/{site}/commands', 'post', 409, r.body)).toEqual([]);
  });

  test('fault set and clear are visible in the pages', async () => {
    const r = await post('paris-1', { fault: 'osnr_degrade', duration: 3600 });
    expect(r.status).toBe(200);
    expect(r.body.after.fault).toBe('osnr_degrade');
    const c = await post('paris-1', { fault: 'clear' });
    expect(c.status).toBe(200);
    expect(c.body.after.fault).toBe('none');
  });

  test('the simulator\'s EINVAL reply is parsed (a line our grammar would never send)', async () => {
    const ch = new UnixSocketControlChannel(path.join(dir, 'cmd_control'));
    await expect(ch.write('site=nowhere cmd_add=1\n')).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

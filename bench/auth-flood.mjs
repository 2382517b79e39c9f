// Scrape latency under a wrong-password flood (issue 12, finding 3).
//
// The exporter (exporter/dist, user-space simulator, 4 sites) runs with a web
// config holding a basic-auth user at bcrypt cost 10. A scraper fetches
// /metrics with the right password every 100 ms: first IDLE_S seconds with no
// other traffic (the baseline, measured in the same run), then FLOOD_S
// seconds while FLOODERS concurrent clients send wrong passwords as fast as
// they are answered, from ADDRESSES different loopback source addresses
// (127.0.0.2..), so the per-address failure limit does not simply turn the
// whole flood away. Target: flood p99 <= 2 x idle p99.
//
//   npx tsc -b exporter && node bench/auth-flood.mjs [--flood-s 60] [--idle-s 30]
//   node bench/auth-flood.mjs --dist /other/exporter/dist --name auth-flood-before
//       the same against another build (one from before issue 12 takes the web
//       config as --web.config-file; the result is written under --name)
//
// Bounded: IDLE_S + FLOOD_S seconds of load, one exporter process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import { summarize, writeResult } from './lib/stats.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const sopt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const IDLE_S = opt('idle-s', 30);
const FLOOD_S = opt('flood-s', 60);
const FLOODERS = 16;
const ADDRESSES = 64;
const SCRAPE_EVERY_MS = 100;
const COST = 10;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = sopt('dist', join(root, 'exporter', 'dist'));
const NAME = sopt('name', 'auth-flood');
// Builds from before issue 12 only know the derived spelling of the flag.
const WEB_FLAG = readFileSync(join(DIST, 'config', 'schema.js'), 'utf8').includes("'--web.config.file'") ? '--web.config.file' : '--web.config-file';
const work = mkdtempSync(join(os.tmpdir(), 'bench-auth-flood-'));
const PASSWORD = 'right-password-123';
writeFileSync(join(work, 'web.yml'), `basic_auth_users:\n  prometheus: '${bcrypt.hashSync(PASSWORD, COST)}'\n`);

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const port = await freePort();
const child = spawn(
  process.execPath,
  [join(DIST, 'cli.js'), 'start', `--web.listen-address=127.0.0.1:${port}`, `${WEB_FLAG}=${join(work, 'web.yml')}`, '--source.kind=userspace', '--simulator.nsites=4', '--log.level=error'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const auth = (p) => `Basic ${Buffer.from(`prometheus:${p}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(headers, o = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const r = http.request({ host: '127.0.0.1', port, path: '/metrics', headers, ...o }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
    });
    r.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    r.end();
  });
}

async function waitReady() {
  for (let i = 0; i < 100; i++) {
    const r = await get({ Authorization: auth(PASSWORD) }, { agent });
    if (r.status === 200) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error('exporter did not come up');
}

async function scrape(seconds) {
  const lat = [];
  const statuses = {};
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const next = performance.now() + SCRAPE_EVERY_MS;
    const r = await get({ Authorization: auth(PASSWORD) }, { agent });
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status === 200) lat.push(r.ms);
    const wait = next - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  return { latencyMs: summarize(lat), statuses };
}

try {
  await waitReady();
  await scrape(3); // warm up: render caches, JIT
  const idle = await scrape(IDLE_S);
  let flooding = true;
  const flood = { requests: 0, statuses: {} };
  const flooder = async (k) => {
    let i = 0;
    while (flooding) {
      const localAddress = `127.0.0.${2 + ((k + i * FLOODERS) % ADDRESSES)}`;
      const r = await get({ Authorization: auth(`wrong-${k}-${i}`) }, { agent: false, localAddress });
      flood.requests++;
      flood.statuses[r.status] = (flood.statuses[r.status] ?? 0) + 1;
      i++;
    }
  };
  const flooders = Array.from({ length: FLOODERS }, (_, k) => flooder(k));
  const underFlood = await scrape(FLOOD_S);
  flooding = false;
  await Promise.all(flooders);
  const ratio = underFlood.latencyMs.p99 / idle.latencyMs.p99;
  const result = {
    description: 'GET /metrics (basic auth, right password) every 100 ms; idle, then under a flood of wrong passwords from 64 loopback addresses (16 concurrent clients)',
    config: { idleSeconds: IDLE_S, floodSeconds: FLOOD_S, flooders: FLOODERS, sourceAddresses: ADDRESSES, bcryptCost: COST, sites: 4 },
    idle,
    underFlood,
    flood: { ...flood, perSecond: flood.requests / FLOOD_S },
    p99Ratio: ratio,
    target: { p99RatioMax: 2, met: ratio <= 2 },
  };
  const path = writeResult(NAME, { build: DIST.startsWith(root) ? 'this tree' : DIST, ...result });
  console.log(`idle p99 ${idle.latencyMs.p99.toFixed(2)} ms, under flood p99 ${underFlood.latencyMs.p99.toFixed(2)} ms (ratio ${ratio.toFixed(2)}, target <= 2: ${ratio <= 2 ? 'met' : 'NOT met'}); flood ${flood.requests} requests ${JSON.stringify(flood.statuses)}; ${path}`);
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

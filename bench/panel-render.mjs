#!/usr/bin/env node
// Site-health panel in Chromium (the e2e Vite harness: real @grafana/ui theme,
// real DataFrames through applyFieldOverrides):
//  1. render time for 4, 100 and 1,000 sites x 500 time buckets: performance
//     marks around a synchronous React render (model + gauges + canvas heat-map),
//     median of repeated renders with fresh series arrays (no memo hits), and
//     the time to the next animation frame (pixels);
//  2. live mode end to end: a real exporter + simulator, a tiny loopback HTTP
//     proxy in front of it (standing in for Grafana's data-source proxy; it
//     buffers whole responses), the data source's long-poll loop in the page;
//     latency = page time when the frame after the render runs - the tick's
//     takenAtMs. Targets: 1,000 x 500 <= 100 ms; live p99 <= 1 s.
// Writes bench/results/panel-render.json.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, startHarness } from '../e2e/lib.mjs';
import { summarize, writeResult } from './lib/stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIZES = [4, 100, 1000];
const BUCKETS = 500;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 30);
const LIVE_INTERVAL_MS = 500;
const started = Date.now();
const result = { method: '', render: {}, live: null, targets: { render1000x500Ms: 100, liveP99Ms: 1000 } };

function waitReady(url, ms) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      http.get(url, (res) => { res.resume(); if (res.statusCode === 200) resolve(); else retry(); }).on('error', retry);
    };
    const retry = () => (Date.now() > until ? reject(new Error(`${url} not ready after ${ms} ms`)) : setTimeout(tryOnce, 200));
    tryOnce();
  });
}

/** Buffering reverse proxy: /open/<path> -> exporter/<path>, whole body at once, CORS for the harness origin. */
function startProxy(target) {
  const server = http.createServer((req, res) => {
    const path = req.url.replace(/^\/open/, '');
    const up = http.get(`${target}${path}`, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => {
        res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'] ?? 'application/json', 'access-control-allow-origin': '*' });
        res.end(Buffer.concat(chunks));
      });
    });
    up.on('error', () => { res.writeHead(502, { 'access-control-allow-origin': '*' }); res.end('{"message":"Bad Gateway"}'); });
    req.on('close', () => up.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) })));
}

const harness = await startHarness();
const chromium = await launchChromium();
try {
  const page = await (await chromium.browser.newContext({ viewport: { width: 1140, height: 720 } })).newPage();
  await page.goto(`${harness.url}?view=panel&sites=1`, { timeout: 120_000 });
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 120_000 });
  for (const n of SIZES) {
    const prep = await page.evaluate(([n, b]) => window.__harness.benchPrepare(n, b), [n, BUCKETS]);
    const r = await page.evaluate(async ([repeats]) => {
      const h = window.__harness;
      const frame = () => new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
      for (let i = 0; i < 3; i++) { h.benchRender(); await frame(); }
      const render = [], pixels = [];
      for (let i = 0; i < repeats; i++) {
        const t0 = performance.now();
        render.push(h.benchRender());
        await frame();
        pixels.push(performance.now() - t0);
      }
      const rows = document.querySelectorAll('[data-testid=heatmap-row-label]').length;
      const gauges = document.querySelectorAll('[data-testid=site-gauge]').length;
      h.benchUnmount();
      return { render, pixels, rows, gauges };
    }, [REPEATS]);
    result.render[`${n}x${BUCKETS}`] = {
      sites: n, buckets: BUCKETS, frames: prep.frames,
      applyFieldOverridesMs: Math.round(prep.overridesMs * 10) / 10,
      renderMs: summarize(r.render), toNextFrameMs: summarize(r.pixels),
      domRowLabels: r.rows, domGauges: r.gauges,
    };
    console.log(`render ${n} x ${BUCKETS}: median ${summarize(r.render).median.toFixed(1)} ms (p90 ${summarize(r.render).p90.toFixed(1)}), to next frame ${summarize(r.pixels).median.toFixed(1)} ms; applyFieldOverrides ${prep.overridesMs.toFixed(0)} ms (Grafana's cost, once per query)`);
  }

  // live mode through a proxy
  const cli = join(root, 'exporter/dist/cli.js');
  const sim = join(root, 'kernel/build/optifiber-sim');
  if (!existsSync(cli) || !existsSync(sim)) {
    result.live = { skipped: `exporter or simulator not built (${existsSync(cli) ? '' : 'exporter/dist/cli.js '}${existsSync(sim) ? '' : 'kernel/build/optifiber-sim'}): run npm run build` };
    console.log(`live: SKIPPED, ${result.live.skipped}`);
  } else {
    const port = 29000 + Math.floor(Math.random() * 1000);
    const exporter = spawn(process.execPath, [cli, 'start', `--web.listen-address=127.0.0.1:${port}`, '--simulator.nsites=8', `--sampler.interval=${LIVE_INTERVAL_MS}ms`, `--simulator.tick-ms=${LIVE_INTERVAL_MS}`, '--log.level=warn'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    exporter.stderr.on('data', (c) => { stderr += c; });
    try {
      await waitReady(`http://127.0.0.1:${port}/-/ready`, 30_000);
      const proxy = await startProxy(`http://127.0.0.1:${port}`);
      try {
        const live = await (await chromium.browser.newContext({ viewport: { width: 1140, height: 720 } })).newPage();
        await live.goto(`${harness.url}?view=live&base=${encodeURIComponent(`${proxy.url}/open`)}`);
        await live.waitForFunction(() => window.__ready === true, null, { timeout: 60_000 });
        await live.waitForTimeout(LIVE_SECONDS * 1000);
        const lat = await live.evaluate(() => window.__harness.latencies.slice(1)); // first = the snapshot, not a new tick
        const gauges = await live.locator('[data-testid=site-gauge]').count();
        result.live = {
          exporter: `node exporter/dist/cli.js start (user-space simulator, 8 sites, tick ${LIVE_INTERVAL_MS} ms)`,
          proxy: 'loopback HTTP reverse proxy buffering whole responses (stands in for Grafana\'s data-source proxy)',
          mechanism: 'GET /api/v1/snapshot, then GET /api/v1/poll?after=<lastSeq>&timeout=20 in a loop',
          durationSeconds: LIVE_SECONDS, gaugesRendered: gauges, latencyMs: summarize(lat),
        };
        const s = summarize(lat);
        console.log(`live through proxy: ${s.n} ticks, tick -> pixels p50 ${s.median.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms`);
      } finally { await proxy.close(); }
    } catch (e) {
      result.live = { error: `${e.message}; exporter stderr: ${stderr.slice(-500)}` };
      console.log(`live: ERROR ${result.live.error}`);
    } finally {
      exporter.kill('SIGTERM');
    }
  }
} finally {
  await chromium.close();
  await harness.close();
}
result.method = `Chromium ${'(Debian, headless, --disable-gpu)'}; renderMs = performance.measure around a synchronous React render (flushSync) of the whole panel with a fresh series array (model + windowed gauges + full heat-map ImageData + visible rows drawn), ${REPEATS} repeats after 3 warm-ups; toNextFrameMs adds the wait for the next animation frame. Live: see live.mechanism.`;
result.durationS = (Date.now() - started) / 1000;
const ok1000 = result.render[`1000x${BUCKETS}`]?.renderMs.median <= 100;
result.verdict = { render1000x500: ok1000 ? 'meets target' : 'misses target', liveP99: result.live?.latencyMs ? (result.live.latencyMs.p99 <= 1000 ? 'meets target' : 'misses target') : 'not measured' };
console.log(`wrote ${writeResult('panel-render', result)}`);

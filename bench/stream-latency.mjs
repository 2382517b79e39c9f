// Stream latency: from the exporter's tick (takenAtMs, the Date.now() at
// which the tick's snapshot completed, carried in every event) and from the
// page update (the writer's update_time_ns of the site samples, ABI, as
// updateTimeMs) to a client, for the SSE stream (/api/v1/stream) and the
// long poll (/api/v1/poll?after=), p50/p99 over a bounded run. Real
// processes: `optifiber start` (simulator + exporter, models loaded) on
// loopback. Writes bench/results/stream-latency.json.
//
//   npm run build && node bench/stream-latency.mjs [--repeat 2] [--min-samples 200] [--min-per-client-1s 60] [--dist DIR] [--out FILE] [--scale F]
//
// Every client runs in its OWN child process (this file, forked with
// `--client sse|poll`), so clients do not queue behind each other's
// JSON.parse on one event loop. Each client stamps, per event, two times
// with Date.now():
//   receipt    the last byte of the event was read by the client: for SSE,
//              the 'data' callback of the chunk holding the event's "\n\n"
//              terminator (stamped before any processing of that chunk); for
//              the long poll, the response 'end' (body complete).
//   processed  after Buffer.concat + utf8 decode + JSON.parse of the event
//              (the meaning of the earlier in-process figure, "the client
//              has the parsed event").
// Latency = stamp - takenAtMs from the event itself. The exporter sets
// takenAtMs with Date.now() and the clients stamp with Date.now() on the
// same host: one clock (CLOCK_REALTIME), no cross-host skew; resolution 1 ms
// (takenAtMs is an integer ms), so figures are +-1 ms.
//
// Target (issue 3): "stream p99 <= 50 ms after the tick", evaluated on the
// RECEIPT p99 of both mechanisms. "page -> client" also contains the wait
// for the next sampler tick (the exporter samples every sampler.interval,
// unsynchronised with the writer), so it is bounded below by ~interval/2 on
// average and up to one interval.
import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const opt = (n, d) => (args.indexOf(`--${n}`) >= 0 ? args[args.indexOf(`--${n}`) + 1] : d);

// ---------------------------------------------------------------------------
// Client mode (child process): one SSE or long-poll client, reporting every
// event to the parent over IPC. Timestamps are taken here, never in the parent.
// ---------------------------------------------------------------------------
if (args[0] === '--client') {
  const kind = args[1];
  const base = args[2];
  const stopAt = Number(args[3]);
  let stopped = false;
  let req = null;
  const seen = new Map(); // site name -> sampleSeq last seen (page -> client counts first deliveries)
  const stop = () => {
    if (stopped) return;
    stopped = true;
    req?.destroy();
    // let the IPC queue drain, then leave
    process.send({ t: 'done' }, () => process.exit(0));
  };
  process.on('message', (m) => m === 'stop' && stop());
  process.on('disconnect', () => process.exit(0));
  setTimeout(stop, Math.max(0, stopAt - Date.now())).unref();
  setTimeout(() => process.exit(0), Math.max(0, stopAt - Date.now()) + 5000).unref(); // hard bound

  /** One received tick: report receipt/processed latencies (tick and page). */
  const report = (ev, recvMs, procMs, parseMs, bytes) => {
    const pageRecv = [];
    const pageProc = [];
    for (const s of ev.sites) {
      if (seen.get(s.name) === s.sampleSeq) continue;
      const first = !seen.has(s.name);
      seen.set(s.name, s.sampleSeq);
      if (!first) {
        pageRecv.push(recvMs - s.updateTimeMs);
        pageProc.push(procMs - s.updateTimeMs);
      }
    }
    process.send({ t: 'ev', seq: ev.seq, recv: recvMs - ev.takenAtMs, proc: procMs - ev.takenAtMs, parseMs, bytes, pageRecv, pageProc });
  };

  if (kind === 'sse') {
    const NLNL = Buffer.from('\n\n');
    const DATA = Buffer.from('data: ');
    let parts = [];
    let prevNL = false; // last byte of the pending bytes is '\n' (terminator split across chunks)
    let first = true;
    const handle = (block, recvMs) => {
      const p = block.indexOf(DATA);
      if (p < 0) return; // comment / heartbeat
      const t0 = performance.now();
      const ev = JSON.parse(block.toString('utf8', p + DATA.length, block.length - 2));
      const procMs = Date.now();
      const parseMs = performance.now() - t0;
      if (first) {
        first = false; // the replayed latest tick on connect is not a push
        return;
      }
      report(ev, recvMs, procMs, parseMs, block.length);
    };
    req = http.get(`${base}/api/v1/stream`, { agent: false }, (res) => {
      res.on('data', (chunk) => {
        const recvMs = Date.now(); // this chunk was just read; stamp before any work
        let from = 0;
        for (;;) {
          let end = -1;
          if (from === 0 && prevNL && parts.length && chunk[0] === 0x0a) end = 1;
          else {
            const i = chunk.indexOf(NLNL, from);
            if (i >= 0) end = i + 2;
          }
          if (end < 0) {
            if (from < chunk.length) {
              parts.push(from ? chunk.subarray(from) : chunk);
              prevNL = chunk[chunk.length - 1] === 0x0a;
            }
            break;
          }
          parts.push(chunk.subarray(from, end));
          const block = parts.length === 1 ? parts[0] : Buffer.concat(parts);
          parts = [];
          prevNL = false;
          handle(block, recvMs);
          from = end;
          if (from >= chunk.length) break;
        }
      });
      res.on('close', stop);
    });
    req.on('error', stop);
  } else {
    let after = null;
    while (!stopped && Date.now() < stopAt) {
      const q = after === null ? '' : `?after=${after}&timeout=5`;
      let r;
      try {
        r = await new Promise((ok, fail) => {
          req = http.get(`${base}/api/v1/poll${q}`, { agent: false }, (res) => {
            const parts = [];
            res.on('data', (c) => parts.push(c));
            res.on('end', () => ok({ recvMs: Date.now(), parts })); // body complete
            res.on('error', fail);
          });
          req.on('error', fail);
        });
      } catch {
        break;
      }
      const t0 = performance.now();
      const body = Buffer.concat(r.parts);
      const j = JSON.parse(body.toString('utf8'));
      const procMs = Date.now();
      const parseMs = performance.now() - t0;
      const ticks = j.ticks ?? (Array.isArray(j) ? j : [j]);
      if (after !== null) for (const t of ticks) if (t.seq > after) report(t, r.recvMs, procMs, parseMs, body.length);
      const last = j.lastSeq ?? ticks.at(-1)?.seq;
      if (typeof last === 'number') after = last;
    }
    stop();
  }
} else {
  await main();
}

// ---------------------------------------------------------------------------
// Orchestrator (parent): exporter + one child process per client.
// ---------------------------------------------------------------------------
async function main() {
  const root = join(dirname(self), '..');
  // --dist DIR: another build of the exporter (e.g. a saved baseline), for before/after in the same conditions.
  const cli = join(opt('dist', join(root, 'exporter', 'dist')), 'cli.js');
  // Each configuration runs until every mechanism has >= MIN_SAMPLES
  // tick->client samples and, for 1 s samplers, every client has >=
  // MIN_PER_CLIENT_1S samples (bounded by the configuration's duration cap).
  // A 1 s sampler gives one tick per second, so the 1 s configurations use 4
  // concurrent clients per mechanism (each client's receipt of each tick is
  // one sample; the p99 then also covers fan-out to several clients).
  const MIN_SAMPLES = Number(opt('min-samples', '200'));
  const MIN_PER_CLIENT_1S = Number(opt('min-per-client-1s', '60'));
  const SCALE = Number(opt('scale', '1')); // shortens the caps for a smoke run
  // --repeat N: run every configuration N times (fresh exporter each time) and
  // keep each repetition as its own entry; the target must hold in all of them.
  const REPEAT = Math.max(1, Number(opt('repeat', '2')));
  const CONFIGS = [
    { sites: 4, interval: '100ms', clients: 1, maxS: 40 },
    { sites: 4, interval: '1s', clients: 4, maxS: 80 },
    { sites: 1000, interval: '1s', clients: 4, maxS: 80 },
    { sites: 1000, interval: '250ms', clients: 1, maxS: 70 },
  ].map((c) => ({ ...c, maxS: Math.max(5, Math.round(c.maxS * SCALE)), minPerClient: c.interval === '1s' ? MIN_PER_CLIENT_1S : 0 }));
  const children = new Set();
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  const track = (child) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pct = (a, p) => {
    if (!a.length) return null;
    const s = [...a].sort((x, y) => x - y);
    return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100;
  };
  const summary = (a) => ({ n: a.length, p50_ms: pct(a, 50), p99_ms: pct(a, 99), max_ms: pct(a, 100) });

  async function startExporter(c) {
    const child = track(
      spawn(process.execPath, [cli, 'start', '--web.listen-address=127.0.0.1:0', `--simulator.nsites=${c.sites}`, `--sampler.interval=${c.interval}`, '--log.level=warn'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    child.stderr.resume();
    const base = await new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error('exporter did not print its URL in 30 s')), 30_000);
      createInterface({ input: child.stdout }).on('line', (l) => {
        const m = /metrics\s+(http:\/\/[^/]+)\/metrics/.exec(l);
        if (m) {
          clearTimeout(t);
          ok(m[1]);
        }
      });
      child.once('exit', (code) => fail(new Error(`exporter exited ${code}`)));
    });
    child.stdout.resume();
    return { child, base };
  }

  /** One client process; resolves when it has exited. */
  function runClient(kind, base, stopAt, agg, perClient) {
    const child = track(fork(self, ['--client', kind, base, String(stopAt)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const mine = { n: 0 };
    perClient.push(mine);
    child.on('message', (m) => {
      if (m.t !== 'ev') return;
      mine.n++;
      agg.tickRecv.push(m.recv);
      agg.tickProc.push(m.proc);
      agg.parseMs.push(m.parseMs);
      agg.bytes.push(m.bytes);
      agg.seqs.add(m.seq);
      for (const v of m.pageRecv) agg.pageRecv.push(v);
      for (const v of m.pageProc) agg.pageProc.push(v);
    });
    const exited = new Promise((r) => child.once('exit', r));
    return { child, exited };
  }

  const out = {
    host: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    exporter: cli,
    method:
      'Loopback, real processes: `optifiber start` (simulator + exporter) and, per configuration, N SSE clients and N long-poll clients running concurrently, ' +
      'EACH CLIENT IN ITS OWN CHILD PROCESS (child_process.fork of this script), so no client waits for another client\'s JSON.parse on a shared event loop ' +
      '(the host still has only `host.cpus` cores shared by exporter, simulator and all clients). Reference time: the tick\'s takenAtMs carried in each event ' +
      '(exporter Date.now() when the tick\'s snapshot completed; the same reference as the earlier in-process bench, so figures compare). Client stamps: Date.now() ' +
      'in the client process; same host, same clock (CLOCK_REALTIME), no cross-host skew; 1 ms resolution (takenAtMs is integer ms), so +-1 ms. ' +
      'receipt = last byte of the event read by the client (SSE: the data callback of the chunk containing the event\'s "\\n\\n" terminator, stamped before any processing; ' +
      'long poll: response body complete, "end"). processed = after Buffer.concat + utf8 decode + JSON.parse of the event (the earlier bench\'s meaning, now per client process). ' +
      'tickToClient = stamp - takenAtMs, one sample per client per received tick (the replayed tick on SSE connect and the first long-poll response are not counted). ' +
      'pageToClient = stamp - updateTimeMs for each site whose sampleSeq is new to that client (includes the wait for the next sampler tick). ' +
      'Targets are evaluated on RECEIPT tickToClient p99 (issue 3: "stream p99 <= 50 ms after the tick"); processed p99 is reported but not the target. ' +
      'Every configuration is run `repeats` times with a fresh exporter; each repetition is its own entry in runs (p99 of ~200-250 samples is the 3rd-4th largest value, so it moves between repetitions), worstP99 is the max over repetitions. ' +
      'The earlier in-process figures (all clients parsing on the bench\'s single event loop) were not re-measured in this run and are not included.',
    repeats: REPEAT,
    minSamples: MIN_SAMPLES,
    minSamplesPerClientAt1s: MIN_PER_CLIENT_1S,
    runs: [],
  };
  const mech = (agg, perClient) => ({
    ticks: agg.seqs.size,
    samplesPerClient: perClient.map((c) => c.n),
    eventBytes_p50: pct(agg.bytes, 50),
    receipt: { tickToClient: summary(agg.tickRecv), pageToClient: summary(agg.pageRecv) },
    processed: { tickToClient: summary(agg.tickProc), pageToClient: summary(agg.pageProc) },
    parseMs: summary(agg.parseMs),
  });

  for (let rep = 1; rep <= REPEAT; rep++) for (const c of CONFIGS) {
    const { child, base } = await startExporter(c);
    // wait for the first ticks with all sites (and the models loaded)
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise((r) => http.get(`${base}/-/ready`, { agent: false }, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false)));
      if (ok) break;
      await sleep(100);
    }
    await sleep(1500);
    const agg = () => ({ tickRecv: [], tickProc: [], pageRecv: [], pageProc: [], parseMs: [], bytes: [], seqs: new Set() });
    const sse = agg();
    const poll = agg();
    const sseClients = [];
    const pollClients = [];
    const t0 = Date.now();
    const stopAt = t0 + c.maxS * 1000;
    const procs = [];
    for (let k = 0; k < c.clients; k++) {
      procs.push(runClient('sse', base, stopAt, sse, sseClients), runClient('poll', base, stopAt, poll, pollClients));
    }
    const enough = () =>
      [
        [sse, sseClients],
        [poll, pollClients],
      ].every(([a, pc]) => a.tickRecv.length >= MIN_SAMPLES && pc.length === c.clients && pc.every((x) => x.n >= c.minPerClient));
    while (Date.now() < stopAt + 1000 && !enough() && procs.some((p) => p.child.exitCode === null)) await sleep(100);
    for (const p of procs) if (p.child.connected) p.child.send('stop');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(8000)]);
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const elapsedS = Math.round((Date.now() - t0) / 100) / 10;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    await exited;
    const run = {
      repeat: rep,
      sites: c.sites,
      samplerInterval: c.interval,
      clientsPerMechanism: c.clients,
      clientProcesses: 2 * c.clients,
      durationS: elapsedS,
      sse: mech(sse, sseClients),
      longPoll: mech(poll, pollClients),
    };
    const cfgTarget = (m) => m.receipt.tickToClient.p99_ms !== null && m.receipt.tickToClient.p99_ms <= 50;
    run.targetMet = { sse: cfgTarget(run.sse), longPoll: cfgTarget(run.longPoll) };
    out.runs.push(run);
    const line = (name, m) =>
      `${name} n ${m.receipt.tickToClient.n} (per client ${m.samplesPerClient.join('/')}) tick->receipt p50/p99 ${m.receipt.tickToClient.p50_ms}/${m.receipt.tickToClient.p99_ms} ` +
      `tick->processed ${m.processed.tickToClient.p50_ms}/${m.processed.tickToClient.p99_ms} ms, parse p50 ${m.parseMs.p50_ms} ms, page->receipt ${m.receipt.pageToClient.p50_ms}/${m.receipt.pageToClient.p99_ms}`;
    console.log(`[${rep}/${REPEAT}] ${String(c.sites).padStart(5)} sites, sampler ${c.interval.padEnd(5)} ${elapsedS}s, ${run.sse.eventBytes_p50} B/event`);
    console.log(`   ${line('SSE ', run.sse)}`);
    console.log(`   ${line('poll', run.longPoll)}`);
  }
  out.target = { streamP99AfterTickMs: 50, evaluatedOn: 'receipt.tickToClient.p99_ms, both mechanisms, every configuration, every repetition' };
  // worst receipt / processed p99 per configuration and mechanism over the repetitions
  out.worstP99 = CONFIGS.map((c) => {
    const rs = out.runs.filter((r) => r.sites === c.sites && r.samplerInterval === c.interval);
    const w = (f) => Math.max(...rs.map(f));
    return {
      sites: c.sites,
      samplerInterval: c.interval,
      clientsPerMechanism: c.clients,
      sse: { receiptP99_ms: w((r) => r.sse.receipt.tickToClient.p99_ms), processedP99_ms: w((r) => r.sse.processed.tickToClient.p99_ms) },
      longPoll: { receiptP99_ms: w((r) => r.longPoll.receipt.tickToClient.p99_ms), processedP99_ms: w((r) => r.longPoll.processed.tickToClient.p99_ms) },
    };
  });
  out.met = out.runs.every((r) => r.targetMet.sse && r.targetMet.longPoll);
  out.metOnProcessed = out.runs.every((r) => r.sse.processed.tickToClient.p99_ms <= 50 && r.longPoll.processed.tickToClient.p99_ms <= 50);
  out.enoughSamples = out.runs.every((r) =>
    [r.sse, r.longPoll].every(
      (m) => m.receipt.tickToClient.n >= MIN_SAMPLES && (r.samplerInterval !== '1s' || m.samplesPerClient.every((n) => n >= MIN_PER_CLIENT_1S)),
    ),
  );
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const outFile = opt('out', join(root, 'bench', 'results', 'stream-latency.json'));
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  console.log(`target stream p99 <= 50 ms after the tick (receipt): ${out.met ? 'met' : 'NOT met'}; enough samples: ${out.enoughSamples}; wrote ${outFile}`);
}

// In-VM check of the real exporter (exporter/dist/cli.js exporter) against
// the real module. Run by the initramfs /init from /app with optifiber.ko
// loaded as "tick_ms=500 seed=11"; prints "RESULT PASS|FAIL <case>[: reason]".
//
//   exporter_starts                 source kind kernel (auto: /proc/optifiber/myinfo), /-/ready
//   exporter_models_up              the committed models load under onnxruntime-node; scores served
//   exporter_metrics_match_pages    every per-site value on /metrics equals the page at the same
//                                   sample (identified by update_time_ns = optifiber_site_sample_timestamp_seconds)
//   exporter_control_requires_token POST without the bearer token: 401, nothing written
//   exporter_control_cmd_add        POST {"cmd_add":1} with the token writes /proc/optifiber/cmd_control;
//                                   the answer, the pages and /metrics all show cmd_modules + 1
//   exporter_iface_link_down        (OF_IFACE_SITE set: the module runs with ifaces=<veth>:<site>)
//                                   the far end of the veth goes down: /metrics shows the site's
//                                   link down, no line for what the veth does not measure (FEC,
//                                   optics), the JSON API null; cmd_add there is 409 EOPNOTSUPP.
//                                   "EXPORTER_LINKDOWN_GZ_B64 <...>" carries that scrape to the
//                                   host, where promtool fires OptiFiberLinkDown from it
//   exporter_sigterm                SIGTERM: exit 0
//
// The reference values come from the C test program (optifiber_vmtest dump),
// which reads the pages with the seqcount protocol of optifiber.h. One
// "EXPORTER_METRICS_GZ_B64 <...>" line carries a scrape out of the VM for
// promtool on the host (case exporter_metrics_lint there).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { assert, check, sleep } from './check.mjs';

const PORT = 9886;
const BASE = `http://127.0.0.1:${PORT}`;
const TOKEN = 'vm-test-token-0123456789abcdef';
const SITES = ['MicrosoftDC', 'Dallas', 'Dobbins', 'Stone'];
// the interface-backed site and the veth's far end (run-qemu.mjs sets them)
const IFACE_SITE = process.env.OF_IFACE_SITE;
const IFACE_PEER = process.env.OF_IFACE_PEER;
// OPTIFIBER_ABSENT_* bit numbers (include/uapi/linux/optifiber.h)
const ABSENT = { throughput: 0, offered: 1, capacity: 2, module_capacity: 3, cmd_modules: 4, link_state: 5, bytes: 6, crc: 7,
  fec_corrected: 8, fec_uncorrectable: 9, los: 10, pre_fec_ber: 11, post_fec_ber: 12, osnr: 13, q: 14, rx_power: 15, tx_power: 16,
  cd: 17, laser_bias: 18, temperature: 19, fault: 20 };
const isAbsent = (s, f) => (BigInt(s.absent ?? '0') >> BigInt(ABSENT[f])) & 1n;
const withModels = existsSync('/app/exporter/models/anomaly.onnx') && existsSync('/app/node_modules/onnxruntime-node');

function request(method, path, { body, headers = {} } = {}) {
  return new Promise((ok, fail) => {
    const req = http.request(`${BASE}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, timeout: 15000 }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (s += c));
      res.on('end', () => ok({ status: res.statusCode, body: s }));
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

const dump = () => JSON.parse(execFileSync('/bin/optifiber_vmtest', ['dump'], { encoding: 'utf8' }));

/** name{labels} -> value, from a text 0.0.4 exposition. */
function parse(text) {
  const m = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

writeFileSync('/tmp/control-token', TOKEN + '\n');
chmodSync('/tmp/control-token', 0o600);
const t0 = Date.now();
const child = spawn(process.execPath, ['/app/exporter/dist/cli.js', 'exporter', `--web.listen-address=127.0.0.1:${PORT}`, '--sampler.interval=100ms', '--control.token-file=/tmp/control-token', '--log.level=info'], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
const logs = [];
let exitCode;
const exited = new Promise((r) => child.once('exit', (code, sig) => r((exitCode = code ?? sig))));
let buf = '';
child.stderr.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    try {
      logs.push(JSON.parse(l));
    } catch {
      logs.push({ raw: l });
    }
  }
});
child.stdout.on('data', () => {});

await check('exporter_starts', async () => {
  for (;;) {
    if (exitCode !== undefined) {
      for (const l of logs.slice(0, 12)) console.log(`INFO exporter log: ${JSON.stringify(l).slice(0, 300)}`);
      throw new Error(`exited ${exitCode}: ${JSON.stringify(logs.slice(-3))}`);
    }
    if (Date.now() - t0 > 90_000) throw new Error(`not ready after 90 s: ${JSON.stringify(logs.slice(-3))}`);
    const r = await request('GET', '/-/ready').catch(() => null);
    if (r?.status === 200) break;
    await sleep(200);
  }
  const src = logs.find((l) => l.msg === 'page source: kernel');
  assert(src && src.path === '/proc/optifiber/myinfo' && src.control === '/proc/optifiber/cmd_control', `source log ${JSON.stringify(logs.find((l) => String(l.msg).startsWith('page source')))}`);
  console.log(`INFO exporter: ready ${((Date.now() - t0) / 1000).toFixed(1)} s after spawn (models ${withModels ? 'included' : 'not included'})`);
});

await check('exporter_models_up', async () => {
  if (!withModels) throw new Error('models or onnxruntime-node not in the initramfs');
  let m;
  const scored = SITES.filter((s) => s !== IFACE_SITE); // a NIC lacks the optics the models read
  for (let i = 0; i < 50; i++) {
    m = parse((await request('GET', '/metrics')).body);
    if (scored.every((s) => m.has(`optifiber_anomaly_score{site="${s}"}`))) break;
    await sleep(100);
  }
  assert(m.get('optifiber_model_up{model="anomaly"}') === 1, `model_up anomaly ${m.get('optifiber_model_up{model="anomaly"}')}`);
  assert(m.get('optifiber_model_up{model="forecast"}') === 1, `model_up forecast ${m.get('optifiber_model_up{model="forecast"}')}`);
  for (const s of scored) {
    const v = m.get(`optifiber_anomaly_score{site="${s}"}`);
    assert(v >= 0 && v <= 1, `${s} anomaly score ${v}`);
  }
  const n = m.get('optifiber_model_inference_duration_seconds_count{model="anomaly"}');
  const sum = m.get('optifiber_model_inference_duration_seconds_sum{model="anomaly"}');
  console.log(`INFO exporter: anomaly inference ${n} runs, mean ${((sum / n) * 1000).toFixed(2)} ms (TCG)`);
});

await check('exporter_metrics_match_pages', async () => {
  let attempts = 0;
  let body;
  let d;
  let m;
  for (;;) {
    attempts++;
    assert(attempts <= 40, `no scrape whose samples are the pages' current ones in 40 attempts`);
    d = dump();
    body = (await request('GET', '/metrics')).body;
    m = parse(body);
    const same = d.sites.every((s) => Math.abs(m.get(`optifiber_site_sample_timestamp_seconds{site="${s.name}"}`) * 1e9 - Number(s.update_time_ns)) < 2000);
    if (same && dump().sites.every((s, i) => s.sample_seq === d.sites[i].sample_seq)) break;
    await sleep(60);
  }
  const eq = (k, want, rel = 0) => {
    const got = m.get(k);
    assert(got !== undefined, `${k} missing`);
    const ok = rel === 0 ? got === want : Math.abs(got - want) <= rel * Math.max(1, Math.abs(want));
    assert(ok, `${k} = ${got}, page ${want}`);
  };
  eq('optifiber_source_up', 1);
  eq('optifiber_sites', 4);
  assert(m.get('optifiber_source_info{kind="kernel",path="/proc/optifiber/myinfo",host="kernel"}') === 1, 'optifiber_source_info kind kernel');
  let absentChecked = 0;
  for (const s of d.sites) {
    const L = `{site="${s.name}"}`;
    // an absent field has no line at all; a present one equals the page
    const f = (field, k, want, rel = 0) => {
      if (!isAbsent(s, field)) return eq(k, want, rel);
      assert(!m.has(k), `${k} = ${m.get(k)}, but the page marks ${field} absent`);
      absentChecked++;
    };
    f('throughput', `optifiber_throughput_bytes_per_second${L}`, s.throughput_bps / 8, 1e-12);
    f('offered', `optifiber_offered_load_bytes_per_second${L}`, s.offered_bps / 8, 1e-12);
    f('capacity', `optifiber_capacity_bytes_per_second${L}`, s.capacity_bps / 8, 1e-12);
    f('module_capacity', `optifiber_cmd_module_capacity_bytes_per_second${L}`, s.module_capacity_bps / 8, 1e-12);
    f('cmd_modules', `optifiber_cmd_modules${L}`, s.cmd_modules);
    f('cmd_modules', `optifiber_cmd_modules_max${L}`, s.cmd_modules_max);
    f('link_state', `optifiber_link_up${L}`, s.link_state === 0 ? 0 : 1);
    f('link_state', `optifiber_link_state{site="${s.name}",state="${['down', 'up', 'degraded'][s.link_state]}"}`, 1);
    f('bytes', `optifiber_transferred_bytes_total${L}`, Number(s.bytes));
    f('crc', `optifiber_crc_errors_total${L}`, Number(s.crc_errors));
    f('fec_corrected', `optifiber_fec_corrected_bit_errors_total${L}`, Number(s.fec_corrected_bits));
    f('fec_uncorrectable', `optifiber_fec_uncorrectable_blocks_total${L}`, Number(s.fec_uncorrectable_blocks));
    f('los', `optifiber_loss_of_signal_events_total${L}`, Number(s.los_events));
    f('pre_fec_ber', `optifiber_pre_fec_bit_error_ratio${L}`, Number(s.pre_fec_ber_e18) / 1e18, 1e-12);
    f('post_fec_ber', `optifiber_post_fec_bit_error_ratio${L}`, Number(s.post_fec_ber_e18) / 1e18, 1e-12);
    f('osnr', `optifiber_osnr_db${L}`, s.osnr_cdb / 100, 1e-12);
    f('q', `optifiber_q_factor_db${L}`, s.q_factor_cdb / 100, 1e-12);
    f('rx_power', `optifiber_rx_power_dbm${L}`, s.rx_power_cdbm / 100, 1e-12);
    f('tx_power', `optifiber_tx_power_dbm${L}`, s.tx_power_cdbm / 100, 1e-12);
    f('temperature', `optifiber_module_temperature_celsius${L}`, s.temperature_mc / 1000, 1e-12);
    eq(`optifiber_site_page_valid${L}`, 1);
    eq(`optifiber_site_remediable${L}`, s.name === IFACE_SITE ? 0 : 1); // commands refused on an interface site
  }
  if (IFACE_SITE) assert(absentChecked >= 10, `only ${absentChecked} absent fields checked: is ${IFACE_SITE} read from an interface?`);
  console.log(`INFO exporter: /metrics matched the pages at sample_seq ${d.sites.map((s) => s.sample_seq).join('/')} (attempt ${attempts}, ${body.length} bytes)`);
  console.log(`EXPORTER_METRICS_GZ_B64 ${gzipSync(body).toString('base64')}`);
});

await check('exporter_control_requires_token', async () => {
  const before = dump().sites.map((s) => s.cmd_modules);
  const r = await request('POST', '/api/v1/sites/Dallas/commands', { body: { cmd_add: 1 } });
  assert(r.status === 401, `no token: ${r.status} ${r.body.slice(0, 120)}`);
  const w = await request('POST', '/api/v1/sites/Dallas/commands', { body: { cmd_add: 1 }, headers: { authorization: 'Bearer wrong-token-0123456789' } });
  assert(w.status === 401 || w.status === 403, `wrong token: ${w.status}`);
  await sleep(600);
  const after = dump().sites.map((s) => s.cmd_modules);
  assert(JSON.stringify(before) === JSON.stringify(after), `cmd_modules changed without a token: ${before} -> ${after}`);
});

await check('exporter_control_cmd_add', async () => {
  const d0 = dump();
  const site = d0.sites.find((s) => s.cmd_modules < s.cmd_modules_max && s.name === 'Dallas') ?? d0.sites.find((s) => s.cmd_modules < s.cmd_modules_max);
  assert(site, 'every site is at cmd_modules_max');
  const t = Date.now();
  const r = await request('POST', `/api/v1/sites/${site.name}/commands`, { body: { cmd_add: 1 }, headers: { authorization: `Bearer ${TOKEN}` } });
  assert(r.status === 200, `POST: ${r.status} ${r.body.slice(0, 200)}`);
  const j = JSON.parse(r.body);
  assert(j.result === 'applied' && j.channel.includes('/proc/optifiber/cmd_control'), `answer ${r.body.slice(0, 200)}`);
  assert(j.after.cmdModules === site.cmd_modules + 1, `answer cmdModules ${j.before.cmdModules} -> ${j.after.cmdModules}, page had ${site.cmd_modules}`);
  const p = dump().sites.find((s) => s.name === site.name);
  assert(p.cmd_modules === site.cmd_modules + 1, `page cmd_modules ${site.cmd_modules} -> ${p.cmd_modules}`);
  let v;
  for (let i = 0; i < 30; i++) {
    v = parse((await request('GET', '/metrics')).body).get(`optifiber_cmd_modules{site="${site.name}"}`);
    if (v === site.cmd_modules + 1) break;
    await sleep(100);
  }
  assert(v === site.cmd_modules + 1, `/metrics optifiber_cmd_modules ${v}`);
  console.log(`INFO exporter: cmd_add ${site.name} ${site.cmd_modules} -> ${p.cmd_modules} modules, answered in ${Date.now() - t} ms (${j.elapsedMs} ms server side)`);
});

if (IFACE_SITE) await check('exporter_iface_link_down', async () => {
  const L = `{site="${IFACE_SITE}"}`;
  let m = parse((await request('GET', '/metrics')).body);
  assert(m.get(`optifiber_link_up${L}`) === 1, `before: optifiber_link_up${L} = ${m.get(`optifiber_link_up${L}`)}`);
  execFileSync('/bin/optifiber_vmtest', ['link', IFACE_PEER, 'down']);
  let body;
  for (let i = 0; i < 60; i++) {
    body = (await request('GET', '/metrics')).body;
    m = parse(body);
    if (m.get(`optifiber_link_up${L}`) === 0) break;
    await sleep(100);
  }
  assert(m.get(`optifiber_link_up${L}`) === 0, `${IFACE_PEER} down, optifiber_link_up${L} = ${m.get(`optifiber_link_up${L}`)}`);
  assert(m.get(`optifiber_link_state{site="${IFACE_SITE}",state="down"}`) === 1, 'link_state down line');
  for (const k of ['optifiber_osnr_db', 'optifiber_rx_power_dbm', 'optifiber_fec_corrected_bit_errors_total', 'optifiber_cmd_modules'])
    assert(!m.has(`${k}${L}`), `${k}${L} = ${m.get(`${k}${L}`)}: a veth does not measure it`);
  assert(m.has(`optifiber_transferred_bytes_total${L}`), 'the byte counter is measured');
  const api = JSON.parse((await request('GET', `/api/v1/snapshot?sites=${IFACE_SITE}`)).body);
  const site = (api.sites ?? []).find((x) => x.name === IFACE_SITE);
  assert(site && site.osnrDb === null && site.cmdModules === null && site.fecCorrectedBits === null && site.linkState === 'down' && site.bytes !== null,
    `JSON API ${IFACE_SITE}: osnrDb ${site?.osnrDb} cmdModules ${site?.cmdModules} fecCorrectedBits ${site?.fecCorrectedBits} linkState ${site?.linkState} bytes ${site?.bytes}, want null null null down, a number`);
  const r = await request('POST', `/api/v1/sites/${IFACE_SITE}/commands`, { body: { cmd_add: 1 }, headers: { authorization: `Bearer ${TOKEN}` } });
  assert(r.status === 409 && /EOPNOTSUPP/.test(r.body) && /network interface/.test(r.body), `cmd_add on ${IFACE_SITE}: ${r.status} ${r.body.slice(0, 200)}`);
  console.log(`EXPORTER_LINKDOWN_GZ_B64 ${gzipSync(body).toString('base64')}`);
  execFileSync('/bin/optifiber_vmtest', ['link', IFACE_PEER, 'up']);
});

await check('exporter_sigterm', async () => {
  if (exitCode !== undefined) throw new Error(`already exited ${exitCode}`);
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(15000).then(() => 'timeout')]);
  assert(code === 0, `exit ${code}`);
});
if (exitCode === undefined) child.kill('SIGKILL');
const errs = logs.filter((l) => l.level === 'error' || l.raw);
if (errs.length) console.log(`INFO exporter: ${errs.length} error/unparsed log lines, first: ${JSON.stringify(errs[0]).slice(0, 300)}`);

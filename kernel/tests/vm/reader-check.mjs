// In-VM check of the TypeScript page reader (exporter/dist) against the real
// module. Run by the initramfs /init from /app with optifiber.ko loaded as
// "tick_ms=50 seed=7"; prints "RESULT PASS|FAIL <case>[: reason]" lines.
// The reference values come from the C test program (optifiber_vmtest dump),
// which reads the same pages with the seqcount protocol of optifiber.h.
import { execFileSync } from 'node:child_process';
import { PageReader } from '../../../exporter/dist/source/page-reader.js';
import { SourceUnavailableError } from '../../../exporter/dist/source/errors.js';
import { assert, check, sleep } from './check.mjs';

const PATH = '/proc/optifiber/myinfo';
const NAMES = ['MicrosoftDC', 'Dallas', 'Dobbins', 'Stone'];

let reader = null;
const dump = () => JSON.parse(execFileSync('/bin/optifiber_vmtest', ['dump'], { encoding: 'utf8' }));

await check('ts_reader_open', () => {
  reader = PageReader.open(PATH);
  const s = reader.snapshot();
  assert(s.dir.host === 'kernel', `host ${s.dir.host}`);
  assert(s.dir.live && s.dir.simulated, `live ${s.dir.live} simulated ${s.dir.simulated}`);
  assert(s.dir.siteCount === 4 && s.sites.length === 4, `siteCount ${s.dir.siteCount}, ${s.sites.length} valid sites`);
  assert(s.invalid.length === 0, `invalid sites ${JSON.stringify(s.invalid)}`);
  assert(s.dir.seed === 7n, `seed ${s.dir.seed}`);
  assert(s.dir.tickIntervalMs === 50, `tickIntervalMs ${s.dir.tickIntervalMs}`);
});

await check('ts_reader_matches_pages', () => {
  assert(reader, 'no reader');
  const c = dump();
  const s = reader.snapshot();
  assert(JSON.stringify(s.sites.map((x) => x.name)) === JSON.stringify(NAMES), `names ${s.sites.map((x) => x.name)}`);
  for (let i = 0; i < 4; i++) {
    const a = s.sites[i];
    const b = c.sites[i];
    assert(a.name === b.name, `site ${i} name ${a.name} != ${b.name}`);
    assert(a.cmdModules === b.cmd_modules, `${a.name} cmdModules ${a.cmdModules} != ${b.cmd_modules}`);
    assert(a.cmdModulesMax === b.cmd_modules_max, `${a.name} cmdModulesMax`);
    assert(a.capacityBps === b.capacity_bps, `${a.name} capacityBps ${a.capacityBps} != ${b.capacity_bps}`);
    assert(a.moduleCapacityBps === b.module_capacity_bps, `${a.name} moduleCapacityBps`);
    assert(Math.abs(a.sampleSeq - b.sample_seq) <= 20, `${a.name} sampleSeq ${a.sampleSeq} vs ${b.sample_seq}`);
    assert(a.linkState === ['down', 'up', 'degraded'][b.link_state], `${a.name} linkState ${a.linkState} vs ${b.link_state}`);
    assert(a.fault === 'none' && b.fault === 0, `${a.name} fault ${a.fault} vs ${b.fault}`);
    assert(a.osnrDb > 0 && a.osnrDb < 60, `${a.name} osnrDb ${a.osnrDb}`);
  }
  console.log(`INFO reader: ${s.sites.map((x) => `${x.name} ${(x.throughputBps / 1e9).toFixed(1)}G/${(x.capacityBps / 1e9).toFixed(0)}G osnr ${x.osnrDb}`).join('; ')}`);
});

await check('ts_reader_samples_advance', async () => {
  assert(reader, 'no reader');
  const a = reader.snapshot();
  await sleep(400);
  const b = reader.snapshot();
  assert(b.dir.tick > a.dir.tick, `tick ${a.dir.tick} -> ${b.dir.tick}`);
  for (let i = 0; i < 4; i++) {
    assert(b.sites[i].sampleSeq > a.sites[i].sampleSeq, `${b.sites[i].name} sampleSeq ${a.sites[i].sampleSeq} -> ${b.sites[i].sampleSeq}`);
  }
  assert(b.consistent, 'snapshot not consistent');
  console.log(`INFO reader: ticks ${a.dir.tick} -> ${b.dir.tick}, retries ${a.retries}+${b.retries}`);
});

await check('ts_reader_source_gone', async () => {
  assert(reader, 'no reader');
  execFileSync('rmmod', ['optifiber']);
  const outcomes = [];
  for (let i = 0; i < 3; i++) {
    try {
      reader.snapshot();
      outcomes.push('snapshot');
    } catch (e) {
      outcomes.push(e instanceof SourceUnavailableError ? 'unavailable' : `${e?.name}: ${e?.message}`);
    }
    await sleep(600); // past pathCheckIntervalMs, so the reader also tries to reattach
  }
  assert(outcomes.every((o) => o === 'unavailable'), `after rmmod: ${outcomes.join(', ')}`);
  let reopened;
  try {
    PageReader.open(PATH);
    reopened = 'opened';
  } catch (e) {
    reopened = e instanceof SourceUnavailableError ? 'unavailable' : `${e?.name}: ${e?.message}`;
  }
  assert(reopened === 'unavailable', `open after rmmod: ${reopened}`);
  reader.close();
});

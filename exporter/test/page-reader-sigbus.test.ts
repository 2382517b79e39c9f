// F6 (issue 12): a page file truncated or overwritten in place while mapped.
// Reading a mapping past the end of its file raises SIGBUS, which kills the
// process (Node cannot catch it), so the reader runs in a child process and
// the test looks at how that process ended.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { rmSync } from 'node:fs';
import { buildCli } from './helpers/build-cli.js';

let dist: string;
beforeAll(() => {
  dist = dirname(buildCli());
});
afterAll(() => rmSync(dirname(dist), { recursive: true, force: true }));

const SCRIPT = (dist: string) => `
import { openSync, writeSync, ftruncateSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { buildPages } = await import(${JSON.stringify(join(dist, 'abi', 'page-encoder.js'))});
const { PageReader } = await import(${JSON.stringify(join(dist, 'source', 'page-reader.js'))});
const file = join(mkdtempSync(join(tmpdir(), 'ofsigbus-')), 'pages');
const fd = openSync(file, 'w+');
let tick = 1;
const image = () => {
  const now = BigInt(Date.now()) * 1000000n;
  const site = (name, i) => ({ name, site_index: i, sample_seq: tick, update_time_ns: now, sim_time_s: 1, cmd_modules: 4, cmd_modules_max: 16, link_state: 1 });
  return buildPages({ tick: tick++, tick_interval_ms: 100, update_time_ns: now, sim_time_s: 1 }, [site('a', 0), site('b', 1), site('c', 2)]);
};
const write = () => { const img = image(); writeSync(fd, img, 0, img.length, 0); return img.length; };
const len = write();
const r = PageReader.open(file, { pathCheckIntervalMs: 0 });
const out = [];
// One snapshot per tick, ticks >= 100 ms apart, as the sampler takes them.
const snap = () => { try { out.push('ok ' + r.snapshot().sites.length); } catch (e) { out.push(e.name + ': ' + e.message); } Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); };
snap();
ftruncateSync(fd, 4096);          // truncated in place: the site pages are gone
snap();
write();                           // whole again: attached again
snap();
writeSync(fd, Buffer.alloc(len), 0, len, 0); // overwritten in place with zeros
snap();
write();
snap();
console.log(JSON.stringify(out));
`;

test('F6 a truncated or overwritten page file is detected before it is read: no SIGBUS, the reader recovers', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT(dist)], { encoding: 'utf8', timeout: 20_000 });
  expect({ signal: r.signal, status: r.status, stderr: r.stderr.slice(0, 300) }).toEqual({ signal: null, status: 0, stderr: '' });
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
  expect(out[0]).toBe('ok 3');
  expect(out[1]).toMatch(/SourceUnavailableError: .*truncated to 4096 bytes/);
  expect(out[2]).toBe('ok 3');
  expect(out[3]).toMatch(/SourceUnavailableError: .*layout changed/);
  expect(out[4]).toBe('ok 3');
});

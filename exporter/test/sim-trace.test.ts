// The simulation trace (src/sim/trace.ts), the data source of training, the
// evaluation and the reports' simulated week: its records are the pages the
// simulator writes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { buildSimTrace, repoRoot } from '../src/sim/trace.js';

describe('training data source', () => {
  const sim = join(repoRoot(), 'kernel', 'build', 'optifiber-sim');
  if (!existsSync(sim)) console.log(`sim-trace.test: ${sim} not built (make -C kernel sim), skipping the parity case`);
  (existsSync(sim) ? test : test.skip)('sim-trace pages are byte-identical to optifiber-sim --fast --max-ticks N', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ofsim-'));
    const N = 300;
    const args = ['--nsites', '3', '--seed', '11', '--time-scale', '1', '--fault-rate', '50000', '--sim-start', '1767225600'];
    const child = spawn(sim, ['run', '--fast', '--max-ticks', String(N), ...args, '--dir', d], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const pages = join(d, 'myinfo');
      let buf: Buffer | undefined;
      for (let i = 0; i < 200 && !buf; i++) {
        await new Promise((r) => setTimeout(r, 25));
        if (existsSync(pages)) {
          const b = readFileSync(pages);
          if (b.length >= 4096 && Number(b.readBigUInt64LE(40)) === N) buf = b;
        }
      }
      expect(buf).toBeDefined();
      const tr = spawnSync(buildSimTrace(), ['11', '3', String(N), '1', '50000', '1767225600'], { maxBuffer: 1 << 26 });
      expect(tr.status).toBe(0);
      for (let i = 0; i < 3; i++) {
        const page = buf!.subarray(4096 * (1 + i), 4096 * (1 + i) + 248);
        const rec = (tr.stdout as Buffer).subarray(((N - 1) * 3 + i) * 248, ((N - 1) * 3 + i + 1) * 248);
        // compare all but seq (0..4), update_time_ns (32..40) and the name (48..80)
        for (const [a, b] of [[4, 32], [40, 48], [80, 248]] as const) expect(Buffer.compare(page.subarray(a, b), rec.subarray(a, b))).toBe(0);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// Shared by the report-*.test.ts files: a Prometheus on 127.0.0.1 (random
// port, temp TSDB) holding a simulated week 2026-W46 backfilled from the
// simulation core (reports/src/simweek.ts, cached across runs), the
// CLI entry point run in-process with a fixed clock, and the artifacts folder
// test-results/report/ (gitignored) where the PDF pages are kept as PNG.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The local-stack launcher finds Debian's binaries the same way `npm start` does.
import { findBinaries, INSTALL_HINT } from '../../scripts/stack/prometheus.mjs';
import { cachedSimWeekTsdb, type SimWeekTsdb } from '../src/simweek.js';
import { runReport } from '../src/cli.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifactsDir = join(repoRoot, 'test-results', 'report');
/** The simulated ISO week and a "now" after it (Saturday of the next week). */
export const WEEK = '2026-W46';
export const WEEK_START = Date.UTC(2026, 10, 9) / 1000;
export const WEEK_END = WEEK_START + 7 * 86400;
export const NOW_MS = Date.UTC(2026, 10, 21, 18, 0, 0);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

export function binaries(): { prometheus: string; promtool: string } {
  const b = findBinaries();
  if (!b.prometheus || !b.promtool) throw new Error(`prometheus/promtool not installed: ${INSTALL_HINT}`);
  return { prometheus: b.prometheus, promtool: b.promtool };
}

export async function startSimWeek(): Promise<SimWeekTsdb & { dir: string; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'optifiber-report-test-'));
  const tsdb = await cachedSimWeekTsdb(dir, { start: WEEK_START - 60, days: 7, nsites: 6, seed: 7, port: await freePort(), ...binaries() });
  return { ...tsdb, dir, url: tsdb.prometheus.url };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function report(args: string[], nowMs = NOW_MS): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runReport(args, { env: {}, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), now: () => nowMs });
  return { code, stdout, stderr };
}

export function artifacts(sub: string): string {
  const d = join(artifactsDir, sub);
  mkdirSync(d, { recursive: true });
  return d;
}

/** RFC 4180 parser (quoted fields, doubled quotes, CRLF) for checking our output. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; }
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; }
    else f += c;
  }
  if (f !== '' || row.length) { row.push(f); rows.push(row); }
  return rows;
}

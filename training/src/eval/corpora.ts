// The labelled corpora of ../shared/datasets as entity streams, with the
// dev/test splits FIXED HERE, before any result was looked at. Every design
// choice of the anomaly score was made on `dev` (and on the simulator);
// `test` is only reported.
//   SKAB  dev: valve1/*     test: valve2/*, other/*, anomaly-free/*   (a file = an entity, 1 s)
//   ASD   dev: omi-1..6     test: omi-7..12     (a server = an entity, 5 min, warmed on its train file)
//   SMD   dev: machine-1-6, 1-7, 2-1, 2-2   test: 2-7, 2-8, 3-3, 3-4   (1 min, warmed on train)
//   simulator  seeds (SIM_SEEDS): dev 7001-7008 with faults, 7101-7102 fault-free;
//              test 9001-9004 with faults, 9100-9115 fault-free. (Until Round 6 seed 9001 and
//              9100-9101 served both: the simulator had no split; 9002-9004 are new.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseInput } from '../csv.js';
import type { EntityStream } from './detectors.js';

export type Split = 'dev' | 'test';

export const SPLITS = {
  skab: { dev: ['valve1'], test: ['valve2', 'other', 'anomaly-free'] },
  asd: { dev: [1, 2, 3, 4, 5, 6].map((i) => `omi-${i}`), test: [7, 8, 9, 10, 11, 12].map((i) => `omi-${i}`) },
  smd: { dev: ['machine-1-6', 'machine-1-7', 'machine-2-1', 'machine-2-2'], test: ['machine-2-7', 'machine-2-8', 'machine-3-3', 'machine-3-4'] },
} as const;

/** Simulator seeds per split: runs with faults (16 sites, 20,000 s) and fault-free runs (16 sites, 12 h). */
export const SIM_SEEDS: Record<Split, { faults: number[]; faultFree: number[] }> = {
  dev: { faults: [7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008], faultFree: [7101, 7102] },
  test: { faults: [9001, 9002, 9003, 9004], faultFree: Array.from({ length: 16 }, (_, i) => 9100 + i) },
};

function wide(text: string, timeStepS?: number): { columns: string[]; t: number[]; values: number[][]; label: number[] } {
  const p = parseInput(text, timeStepS ? { timeStepS } : {});
  if (p.kind !== 'wide') throw new Error(`expected a wide CSV, got ${p.kind}`);
  return { columns: p.columns, t: p.rows.map((r) => r.t), values: p.rows.map((r) => r.values), label: p.rows.map((r) => r.label ?? 0) };
}

export function skab(root: string, split: Split): EntityStream[] {
  const out: EntityStream[] = [];
  for (const dir of SPLITS.skab[split]) {
    const d = join(root, 'anomaly-skab', dir);
    const files = readdirSync(d)
      .filter((f) => f.endsWith('.csv'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const f of files) {
      const w = wide(readFileSync(join(d, f), 'utf8'));
      out.push({ name: `skab/${dir}/${f}`, channels: w.columns, t: w.t, values: w.values, label: w.label });
    }
  }
  return out;
}

function serverCorpus(root: string, folder: string, names: readonly string[], stepS: number): EntityStream[] {
  return names.map((m) => {
    const read = (part: string): string => gunzipSync(readFileSync(join(root, folder, `${m}_${part}.csv.gz`))).toString('utf8');
    const train = wide(read('train'), stepS);
    const test = wide(read('test'), stepS);
    // the test file's index restarts at 0: place it right after the train file
    const off = (train.t.at(-1) ?? 0) + stepS;
    return {
      name: `${folder}/${m}`,
      channels: test.columns,
      warm: { t: train.t, values: train.values },
      t: test.t.map((t) => t + off),
      values: test.values,
      label: test.label,
    };
  });
}

export const asd = (root: string, split: Split): EntityStream[] => serverCorpus(root, 'anomaly-asd', SPLITS.asd[split], 300);
export const smd = (root: string, split: Split): EntityStream[] => serverCorpus(root, 'anomaly-smd', SPLITS.smd[split], 60);

export const CORPORA = { skab, asd, smd } as const;

export function corpusPresent(root: string, name: keyof typeof CORPORA): boolean {
  return existsSync(join(root, `anomaly-${name}`));
}

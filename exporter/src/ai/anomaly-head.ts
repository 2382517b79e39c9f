// The anomaly score head: per-channel evidence (surprise.ts) -> one score in
// 0..1 per entity, as an ONNX graph run by onnxruntime once per tick for
// every site (and a TypeScript twin for tests and backtests).
//
//   score = sigmoid(k * (max_c E_c - ln(R / e80)) + ln 4)
//
// E_c = -ln p_c is channel c's evidence; R = samples per day x channels is
// how many chances the entity has per day to produce a surprise by chance
// (a Bonferroni bound, so more channels or faster sampling do not mean more
// false alarms). R * exp(-max E) is the expected number of samples per day
// this surprising under the entity's own normal behaviour, so:
//   score 0.8  <=> such a sample is expected e80 times per day (0.1: once in
//                  ten days per entity);
//   score 0.5  <=> expected 4^(1/k) x e80 times per day.
// k and e80 are constants of the design, not fitted: they sit in the model
// file (initializers K, LN_E80) and its metadata, so the exporter, the
// backtest and the eval read one definition.
import { decodeModel, encodeModel } from './onnx-proto.js';

export const HEAD_VERSION = '2.0.0';

export interface HeadParams {
  /** Expected chance surprises per entity-day at score 0.8. */
  e80: number;
  /** Slope of the score in nats of evidence. */
  k: number;
}

export const DEFAULT_HEAD: HeadParams = { e80: 0.05, k: 1 };

const LN4 = Math.log(4);

/** ln of the chances per day: ln(samples per day x channels). */
export const lnRate = (samplesPerDay: number, channels: number): number =>
  Math.log(Math.max(1, samplesPerDay) * Math.max(1, channels));

/** Evidence at which one channel alone scores `score` (the inverse of the head). */
export function evidenceForScore(p: HeadParams, lnR: number, score: number): number {
  return lnR + Math.log(1 / p.e80) + (Math.log(score / (1 - score)) - LN4) / p.k;
}

/** TypeScript reference of the graph (float64). */
export function headScore(p: HeadParams, maxEvidence: number, lnR: number): number {
  const m = p.k * (maxEvidence - lnR + Math.log(p.e80)) + LN4;
  return 1 / (1 + Math.exp(-m));
}

/** ONNX: E [N, C] (evidence per channel), ln_rate [N, 1] -> score [N, 1]. */
export function headToOnnx(p: HeadParams, metadata: Record<string, string>): Uint8Array {
  return encodeModel({
    graphName: 'optifiber_anomaly_head',
    docString: 'OptiFiber anomaly score: sigmoid(k * (max_c E_c - ln_rate + ln e80) + ln 4)',
    modelVersion: 2,
    opsets: [{ domain: '', version: 13 }],
    inputs: [
      { name: 'E', dims: ['N', 'C'] },
      { name: 'ln_rate', dims: ['N', 1] },
    ],
    outputs: [{ name: 'score', dims: ['N', 1] }],
    initializers: [
      { name: 'K', dims: [1], data: [p.k] },
      { name: 'LN_E80', dims: [1], data: [Math.log(p.e80)] },
      { name: 'LN4', dims: [1], data: [LN4] },
    ],
    nodes: [
      { op: 'ReduceMax', inputs: ['E'], outputs: ['emax'], attrs: [{ name: 'axes', ints: [1] }, { name: 'keepdims', i: 1 }] },
      { op: 'Sub', inputs: ['emax', 'ln_rate'], outputs: ['d0'] },
      { op: 'Add', inputs: ['d0', 'LN_E80'], outputs: ['d1'] },
      { op: 'Mul', inputs: ['d1', 'K'], outputs: ['d2'] },
      { op: 'Add', inputs: ['d2', 'LN4'], outputs: ['logit'] },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['score'] },
    ],
    metadata: { ...metadata, kind: 'anomaly_head', e80: String(p.e80), k: String(p.k) },
  });
}

export function headFromOnnx(bytes: Uint8Array): { params: HeadParams; metadata: Record<string, string> } {
  const d = decodeModel(bytes);
  const K = d.initializers.get('K');
  const E = d.initializers.get('LN_E80');
  if (!K || !E || d.metadata['kind'] !== 'anomaly_head') throw new Error('not an optifiber anomaly score head (kind=anomaly_head)');
  return { params: { k: K.data[0]!, e80: Math.exp(E.data[0]!) }, metadata: d.metadata };
}

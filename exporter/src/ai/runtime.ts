// Loading the committed ONNX models into onnxruntime-node, with the status
// the metrics need (up, version, sha256, load time) and a TypeScript
// reference twin of each model (used by tests, benchmarks and as the
// parity check).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { headFromOnnx, headScore, type HeadParams } from './anomaly-head.js';
import { forecasterFromOnnx, type LinearForecaster } from './forecast.js';
import { N_FORECAST_FEATURES } from './features.js';

export type ModelName = 'anomaly' | 'forecast';

export interface ModelStatus {
  model: ModelName;
  up: boolean;
  version: string;
  sha256: string;
  path: string;
  lastLoadTimestampSeconds: number; // 0 = never loaded
  lastInferenceTimestampSeconds: number; // 0 = never ran
  /** Whether the last load or reload of the file succeeded (a failed reload keeps the last good model). */
  lastReloadSuccessful: boolean;
  /** Samples from the pages' recent rings the model did not see: a tick's row budget was spent (AiStageOptions.maxRowsPerTick). */
  samplesSkippedTotal: number;
  error?: string;
}

const SESSION_OPTS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/**
 * One model file: read once, parsed by `parse` (which throws on a file this
 * exporter cannot serve) before onnxruntime opens it, and its sha256.
 */
async function openModel<P>(path: string, parse: (bytes: Buffer) => P): Promise<{ parsed: P; session: ort.InferenceSession; sha256: string }> {
  const bytes = readFileSync(path);
  const parsed = parse(bytes);
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTS);
  return { parsed, session, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** What every served model carries: its onnxruntime session, the file's ONNX metadata and sha256. */
abstract class ServedModel {
  constructor(
    readonly session: ort.InferenceSession,
    readonly metadata: Record<string, string>,
    readonly sha256: string,
  ) {}
}

export class AnomalyModel extends ServedModel {
  static async load(path: string): Promise<AnomalyModel> {
    const f = await openModel(path, headFromOnnx);
    return new AnomalyModel(f.session, f.parsed.metadata, f.sha256, f.parsed.params);
  }

  private constructor(session: ort.InferenceSession, metadata: Record<string, string>, sha256: string, readonly head: HeadParams) {
    super(session, metadata, sha256);
  }

  /**
   * One batched run: E holds `channels` evidences per entity (row-major),
   * lnR one ln(chances per day) per entity -> scores in [0, 1].
   */
  async score(E: Float32Array, channels: number, lnR: Float32Array): Promise<Float32Array> {
    const n = lnR.length;
    if (n === 0) return new Float32Array(0);
    const out = await this.session.run(
      { E: new ort.Tensor('float32', E.subarray(0, n * channels), [n, channels]), ln_rate: new ort.Tensor('float32', lnR, [n, 1]) },
      ['score'],
    );
    return out['score']!.data as Float32Array;
  }

  /** The TypeScript reference of the same file. */
  scoreReference(E: Float32Array, channels: number, lnR: Float32Array): Float64Array {
    const out = new Float64Array(lnR.length);
    for (let i = 0; i < lnR.length; i++) {
      let m = 0;
      for (let c = 0; c < channels; c++) m = Math.max(m, E[i * channels + c]!);
      out[i] = headScore(this.head, m, lnR[i]!);
    }
    return out;
  }
}

export class ForecastModel extends ServedModel {
  private constructor(session: ort.InferenceSession, metadata: Record<string, string>, sha256: string, readonly linear: LinearForecaster) {
    super(session, metadata, sha256);
  }

  static async load(path: string): Promise<ForecastModel> {
    const f = await openModel(path, (bytes) => {
      const r = forecasterFromOnnx(bytes);
      if (r.model.w.length !== N_FORECAST_FEATURES) throw new Error(`forecast model has ${r.model.w.length} features, this exporter computes ${N_FORECAST_FEATURES}`);
      return r;
    });
    return new ForecastModel(f.session, f.parsed.metadata, f.sha256, f.parsed.model);
  }

  get horizonSeconds(): number {
    return Number(this.metadata['horizon_seconds'] ?? 900);
  }

  /** X rows of N_FORECAST_FEATURES, lnLevel one per row -> [p10, p50, p90] per row. */
  async predict(X: Float32Array, lnLevel: Float32Array): Promise<Float32Array> {
    const n = lnLevel.length;
    if (n === 0) return new Float32Array(0);
    const out = await this.session.run({
      X: new ort.Tensor('float32', X, [n, N_FORECAST_FEATURES]),
      ln_level: new ort.Tensor('float32', lnLevel, [n, 1]),
    });
    return out['forecast']!.data as Float32Array;
  }
}

export function defaultModelPaths(dir: string): Record<ModelName, string> {
  return { anomaly: join(dir, 'anomaly.onnx'), forecast: join(dir, 'forecast.onnx') };
}

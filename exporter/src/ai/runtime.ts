// Loading the committed ONNX models into onnxruntime-node, with the status
// the metrics need (up, version, sha256, load time) and a TypeScript
// reference twin of each model (used by tests, benchmarks and as the
// parity check).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { iforestFromOnnx, scoreRows, type IForest } from './iforest.js';
import { forecasterFromOnnx, type LinearForecaster } from './forecast.js';
import { N_ANOMALY_FEATURES, N_FORECAST_FEATURES } from './features.js';

export type ModelName = 'anomaly' | 'forecast';

export interface ModelStatus {
  model: ModelName;
  up: boolean;
  version: string;
  sha256: string;
  path: string;
  lastLoadTimestampSeconds: number; // 0 = never loaded
  lastInferenceTimestampSeconds: number; // 0 = never ran
  /** Whether the last (re)load of the file succeeded; false while an older good model keeps serving. Undefined before the first load. */
  lastReloadSuccessful?: boolean;
  error?: string;
}

const SESSION_OPTS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export class AnomalyModel {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly forest: IForest,
    readonly metadata: Record<string, string>,
    readonly sha256: string,
  ) {}

  static async load(path: string): Promise<AnomalyModel> {
    const bytes = readFileSync(path);
    const { forest, model } = iforestFromOnnx(bytes);
    if (forest.nFeatures !== N_ANOMALY_FEATURES) throw new Error(`anomaly model has ${forest.nFeatures} features, this exporter computes ${N_ANOMALY_FEATURES}`);
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTS);
    return new AnomalyModel(session, forest, model.metadata, createHash('sha256').update(bytes).digest('hex'));
  }

  /** One batched run: rows of N_ANOMALY_FEATURES -> scores in [0, 1]. */
  async score(X: Float32Array): Promise<Float32Array> {
    const n = X.length / N_ANOMALY_FEATURES;
    if (n === 0) return new Float32Array(0);
    const out = await this.session.run({ X: new ort.Tensor('float32', X, [n, N_ANOMALY_FEATURES]) }, ['score']);
    return out['score']!.data as Float32Array;
  }

  /** The TypeScript reference implementation of the same file. */
  scoreReference(X: Float32Array): Float64Array {
    return scoreRows(this.forest, X);
  }
}

export class ForecastModel {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly linear: LinearForecaster,
    readonly metadata: Record<string, string>,
    readonly sha256: string,
  ) {}

  static async load(path: string): Promise<ForecastModel> {
    const bytes = readFileSync(path);
    const { model, metadata } = forecasterFromOnnx(bytes);
    if (model.w.length !== N_FORECAST_FEATURES) throw new Error(`forecast model has ${model.w.length} features, this exporter computes ${N_FORECAST_FEATURES}`);
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTS);
    return new ForecastModel(session, model, metadata, createHash('sha256').update(bytes).digest('hex'));
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

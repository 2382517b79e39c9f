// The models themselves: up, identity, freshness and inference cost.
// Status comes from the AI stage (AiStage.status()), durations from its
// observeDuration callback; attach() connects them. Without an AI stage
// attached (metricCatalogue(), unit tests) nothing is rendered.
import type { ModelName, ModelStatus } from '../../ai/runtime.js';
import { Histogram, labelString, type MetricDesc, type Writer } from '../format.js';
import type { CollectContext, Collector } from '../registry.js';

const D = {
  up: { name: 'optifiber_model_up', type: 'gauge', help: 'Whether the model is loaded and serving (1) or missing/corrupt (0); raw metrics flow either way.', labels: ['model'] },
  info: { name: 'optifiber_model_info', type: 'info', help: 'The loaded model file: version (ONNX metadata) and sha256 of the file, value 1; empty labels while the model is down.', labels: ['model', 'version', 'sha256'] },
  reload: { name: 'optifiber_model_last_reload_successful', type: 'gauge', help: 'Whether the last load or SIGHUP reload of the model file succeeded (1) or failed (0); after a failed reload the last good model keeps serving.', labels: ['model'] },
  load: { name: 'optifiber_model_last_load_timestamp_seconds', type: 'gauge', help: 'When the model was last loaded successfully, seconds since the epoch; absent until it first loads.', labels: ['model'] },
  inference: { name: 'optifiber_model_last_inference_timestamp_seconds', type: 'gauge', help: 'When the model last ran successfully in a tick, seconds since the epoch; absent until its first run (the forecast model waits for enough history).', labels: ['model'] },
  skipped: {
    name: 'optifiber_model_samples_skipped_total',
    type: 'counter',
    help: "Site samples read from the pages' recent rings (published between two ticks) that the model neither learned nor scored: a tick learns at most 4 samples per site (+256 in all), the newest.",
    labels: ['model'],
  },
  duration: {
    name: 'optifiber_model_inference_duration_seconds',
    type: 'histogram',
    help: 'Time of one batched onnxruntime run over all sites of a tick.',
    labels: ['model'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  },
} satisfies Record<string, MetricDesc>;

export const MODEL_NAMES: ModelName[] = ['anomaly', 'forecast'];

export class ModelCollector implements Collector {
  readonly name = 'models';
  private status: (() => ModelStatus[]) | undefined;
  private readonly hist = new Map<ModelName, Histogram>(MODEL_NAMES.map((m) => [m, new Histogram(D.duration)]));

  /** Connect the AI stage's status (the server does this when it creates the stage). */
  attach(status: () => ModelStatus[]): void {
    this.status = status;
  }

  /** The AI stage's observeDuration callback. */
  observe(model: ModelName, seconds: number): void {
    this.hist.get(model)?.observe(seconds);
  }

  describe(): MetricDesc[] {
    return Object.values(D);
  }

  private timestamps(w: Writer, d: MetricDesc, v: [ModelName, number][]): void {
    const set = v.filter(([, t]) => t > 0);
    if (set.length === 0) return;
    w.header(d);
    for (const [m, t] of set) w.sample(d.name, labelString({ model: m }), t);
  }

  collect(w: Writer, _ctx: CollectContext): void {
    if (!this.status) return;
    const st = this.status();
    w.header(D.up);
    for (const s of st) w.sample(D.up.name, labelString({ model: s.model }), s.up ? 1 : 0);
    w.header(D.info);
    for (const s of st) w.sample(D.info.name, labelString({ model: s.model, version: s.version, sha256: s.sha256 }), 1);
    w.header(D.reload);
    for (const s of st) w.sample(D.reload.name, labelString({ model: s.model }), s.lastReloadSuccessful ? 1 : 0);
    // Never loaded / never ran: no series (not 0), so OptiFiberModelStale does not
    // fire on a model still warming up (the forecast needs 5-minute buckets of
    // history); a model that never loaded is OptiFiberModelDown's business.
    this.timestamps(w, D.load, st.map((s) => [s.model, s.lastLoadTimestampSeconds]));
    this.timestamps(w, D.inference, st.map((s) => [s.model, s.lastInferenceTimestampSeconds]));
    w.header(D.skipped);
    for (const s of st) w.sample(D.skipped.name, labelString({ model: s.model }), s.samplesSkippedTotal);
    w.header(D.duration);
    for (const [m, h] of this.hist) h.writeSeries(w, `model="${m}"`);
  }
}

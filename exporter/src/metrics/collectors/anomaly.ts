// Anomaly model outputs from the latest tick (the AI stage fills
// SiteInference in the sampler's tick; nothing is computed here):
//   optifiber_anomaly_score{site}                 0..1, >= 0.8 anomalous
//   optifiber_anomaly_contribution{site,feature}  top features of the score
// A site without a score (model down, warm-up) has no series.
import type { SiteState } from '../../sampler/types.js';
import { escapeLabelValue, formatValue, type MetricDesc, type Writer } from '../format.js';
import { ValueLines } from '../lines.js';
import type { CollectContext, Collector } from '../registry.js';

export const ANOMALY_SCORE: MetricDesc = {
  name: 'optifiber_anomaly_score',
  type: 'gauge',
  help: 'Anomaly score of the site, 0..1 from the ONNX anomaly model; >= 0.8 (optifiber_anomaly_score_threshold) means anomalous. The highest of the samples the last tick read (several when the writer is faster than the sampler). Absent while the model is down.',
  labels: ['site'],
};
export const ANOMALY_CONTRIBUTION: MetricDesc = {
  name: 'optifiber_anomaly_contribution',
  type: 'gauge',
  help: 'Score the feature reaches on its own above the all-normal score, for the top 3 features of sites scoring >= 0.5 (at most 64 sites per tick).',
  labels: ['site', 'feature'],
};

export class AnomalyCollector implements Collector {
  readonly name = 'anomaly';
  private readonly score = new ValueLines(ANOMALY_SCORE.name);

  describe(): MetricDesc[] {
    return [ANOMALY_SCORE, ANOMALY_CONTRIBUTION];
  }

  collect(w: Writer, ctx: CollectContext): void {
    const all = ctx.tick?.sites ?? [];
    const scored: SiteState[] = [];
    for (const s of all) if (s.inference.anomalyScore !== undefined) scored.push(s);
    if (scored.length === 0) return;
    w.header(ANOMALY_SCORE);
    w.raw(this.score.render(scored.length, (i) => scored[i]!.sample.name, (i) => scored[i]!.inference.anomalyScore!));
    let contrib = '';
    for (const s of scored) {
      const c = s.inference.contributions;
      if (!c || c.length === 0) continue;
      const site = escapeLabelValue(s.sample.name);
      for (const x of c) contrib += `${ANOMALY_CONTRIBUTION.name}{site="${site}",feature="${escapeLabelValue(x.feature)}"} ${formatValue(x.value)}\n`;
    }
    if (contrib) {
      w.header(ANOMALY_CONTRIBUTION);
      w.raw(contrib);
    }
  }
}

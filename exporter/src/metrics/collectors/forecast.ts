// Forecast model outputs from the latest tick (filled by the AI stage):
//   optifiber_forecast_throughput_bytes_per_second{site,quantile}
//   optifiber_forecast_utilization_ratio{site,quantile}
// quantile "0.1", "0.5", "0.9" (p10/p50/p90 of the 15-minute-ahead forecast).
// A site without a forecast (model down, warm-up) has no series.
// Type unknown (text 0.0.4: untyped), not gauge: promtool lint reserves the
// `quantile` label for summaries except on untyped families, and the rules
// and dashboards select on quantile="0.5"/"0.9". They are gauges in meaning.
import type { SiteState } from '../../sampler/types.js';
import type { MetricDesc, Writer } from '../format.js';
import { ValueLines } from '../lines.js';
import type { CollectContext, Collector } from '../registry.js';

export const FORECAST_THROUGHPUT: MetricDesc = {
  name: 'optifiber_forecast_throughput_bytes_per_second',
  type: 'unknown',
  help: 'Carried traffic forecast 15 minutes ahead (site clock), bytes per second (model output in bit/s divided by 8), by quantile 0.1/0.5/0.9. A gauge, typed untyped because of the quantile label.',
  labels: ['site', 'quantile'],
};
export const FORECAST_UTILIZATION: MetricDesc = {
  name: 'optifiber_forecast_utilization_ratio',
  type: 'unknown',
  help: 'Forecast throughput 15 minutes ahead divided by the current capacity, 0..1 (clipped), by quantile 0.1/0.5/0.9. A gauge, typed untyped because of the quantile label.',
  labels: ['site', 'quantile'],
};
const Q = [
  ['0.1', 'p10'],
  ['0.5', 'p50'],
  ['0.9', 'p90'],
] as const;

export class ForecastCollector implements Collector {
  readonly name = 'forecast';
  private readonly tput = Q.map(([q]) => new ValueLines(FORECAST_THROUGHPUT.name, `,quantile="${q}"`));
  private readonly util = Q.map(([q]) => new ValueLines(FORECAST_UTILIZATION.name, `,quantile="${q}"`));

  describe(): MetricDesc[] {
    return [FORECAST_THROUGHPUT, FORECAST_UTILIZATION];
  }

  collect(w: Writer, ctx: CollectContext): void {
    const fc: SiteState[] = [];
    for (const s of ctx.tick?.sites ?? []) if (s.inference.forecast) fc.push(s);
    const n = fc.length;
    if (n === 0) return;
    const name = (i: number) => fc[i]!.sample.name;
    w.header(FORECAST_THROUGHPUT);
    Q.forEach(([, k], j) => w.raw(this.tput[j]!.render(n, name, (i) => fc[i]!.inference.forecast!.throughputBps[k] / 8)));
    w.header(FORECAST_UTILIZATION);
    Q.forEach(([, k], j) => w.raw(this.util[j]!.render(n, name, (i) => fc[i]!.inference.forecast!.utilization[k])));
  }
}

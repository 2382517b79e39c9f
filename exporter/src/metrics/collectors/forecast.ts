// Forecast model outputs from the latest tick (filled by the AI stage):
//   optifiber_forecast_throughput_bytes_per_second{site,percentile}
//   optifiber_forecast_utilization_ratio{site,percentile}
// percentile "10", "50", "90" (p10/p50/p90 of the 15-minute-ahead forecast).
// A site without a forecast (model down, warm-up) has no series.
// Gauges. The label is `percentile`, not `quantile`: Prometheus reserves
// `quantile` for summaries (promtool lint rejects it on a gauge).
import type { SiteState } from '../../sampler/types.js';
import type { MetricDesc, Writer } from '../format.js';
import { ValueLines } from '../lines.js';
import type { CollectContext, Collector } from '../registry.js';

export const FORECAST_THROUGHPUT: MetricDesc = {
  name: 'optifiber_forecast_throughput_bytes_per_second',
  type: 'gauge',
  help: 'Carried traffic forecast 15 minutes ahead (site clock), bytes per second (model output in bit/s divided by 8), by percentile 10/50/90.',
  labels: ['site', 'percentile'],
};
export const FORECAST_UTILIZATION: MetricDesc = {
  name: 'optifiber_forecast_utilization_ratio',
  type: 'gauge',
  help: 'Forecast throughput 15 minutes ahead divided by the current capacity, 0..1 (clipped), by percentile 10/50/90.',
  labels: ['site', 'percentile'],
};
const Q = [
  ['10', 'p10'],
  ['50', 'p50'],
  ['90', 'p90'],
] as const;

export class ForecastCollector implements Collector {
  readonly name = 'forecast';
  private readonly tput = Q.map(([q]) => new ValueLines(FORECAST_THROUGHPUT.name, `,percentile="${q}"`));
  private readonly util = Q.map(([q]) => new ValueLines(FORECAST_UTILIZATION.name, `,percentile="${q}"`));

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

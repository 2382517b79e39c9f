import { buildGrid, buildSites, cellContributions, parseContributions, topContributions } from '../src/model.js';
import { roleOf } from '../src/roles.js';
import { dsFrame, promFrame } from './frames.js';

describe('frames -> site models', () => {
  test('OptiFiber data source frames', () => {
    const c = JSON.stringify([{ feature: 'osnr_db', value: 0.5 }, { feature: 'crc', value: -0.9 }, { feature: 'temp', value: 0.1 }]);
    const sites = buildSites([
      dsFrame('b', 'utilization', [0.2, 0.4]),
      dsFrame('a', 'utilization', [0.9]),
      dsFrame('a', 'linkUp', [1, 0]),
      dsFrame('a', 'anomalyScore', [0.1, 0.95], 0, 1000, { contributions: ['[]', c] }),
      dsFrame('a', 'utilization', [0.9, 0.95], 0, 60000, { percentile: '50' }),
      dsFrame('a', 'utilization_p90', [0.9, 0.99], 0, 60000, { percentile: '90' }),
    ]);
    expect(sites.map((s) => s.name)).toEqual(['a', 'b']);
    const a = sites[0]!;
    expect(a.utilization).toBe(0.9);
    expect(a.link).toBe('down');
    expect(a.anomaly).toBe(0.95);
    expect(a.forecast).toEqual({ p10: null, p50: 0.95, p90: 0.99 });
    expect(topContributions(a.contributions, 2).map((x) => x.feature)).toEqual(['crc', 'osnr_db']);
    expect(sites[1]!.utilization).toBe(0.4);
    expect(sites[1]!.link).toBe('unknown');
  });

  test('plain Prometheus range queries labelled by site', () => {
    const sites = buildSites([
      promFrame('optifiber_throughput_bytes_per_second', { site: 'x', instance: 'e:9886' }, [5, 10]),
      promFrame('optifiber_capacity_bytes_per_second', { site: 'x' }, [40, 40]),
      promFrame('optifiber_link_up', { site: 'x' }, [1, 1]),
      promFrame('optifiber_anomaly_score', { site: 'x' }, [0.2, 0.3]),
      promFrame('optifiber_forecast_utilization_ratio', { site: 'x', percentile: '90' }, [0.7]),
      promFrame('optifiber_forecast_utilization_ratio', { site: 'x', percentile: '10' }, [0.4]),
      promFrame('site:optifiber_forecast_utilization_p50:ratio', { site: 'x' }, [0.55]),
      promFrame('site:optifiber_utilization:ratio', { site: 'y' }, [0.5]),
      promFrame('up', { job: 'optifiber' }, [1]),
    ]);
    expect(sites.map((s) => s.name)).toEqual(['x', 'y']);
    expect(sites[0]!.utilization).toBeCloseTo(0.25);
    expect(sites[0]!.link).toBe('up');
    expect(sites[0]!.anomaly).toBe(0.3);
    expect(sites[0]!.forecast).toEqual({ p10: 0.4, p50: 0.55, p90: 0.7 });
    expect(sites[1]!.utilization).toBe(0.5);
  });

  test('the p90 recording rule is read as p90, not as the median', () => {
    const sites = buildSites([
      promFrame('site:optifiber_forecast_utilization_p50:ratio', { site: 'x' }, [0.55]),
      promFrame('site:optifiber_forecast_utilization_p90:ratio', { site: 'x' }, [0.8]),
    ]);
    expect(sites[0]!.forecast).toEqual({ p10: null, p50: 0.55, p90: 0.8 });
  });

  test('roles fall back to the legend/refId when the expression has no metric name', () => {
    const f = promFrame('', { site: 'x' }, [1], 0, 1000, 'anomaly');
    f.fields[1]!.labels = { site: 'x' };
    f.name = undefined;
    expect(roleOf(f, f.fields[1]!)).toBe('anomaly');
  });

  test('NaN or null as the latest sample means no current value', () => {
    const [s] = buildSites([dsFrame('a', 'utilization', [0.5, NaN]), dsFrame('a', 'anomalyScore', [0.3, null])]);
    expect(s!.utilization).toBeNull();
    expect(s!.anomaly).toBeNull();
  });

  test('heat grid: max per bucket, NaN for gaps, samples outside the range ignored', () => {
    const sites = buildSites([dsFrame('a', 'anomalyScore', [0.1, 0.5, null, NaN, 0.9, 0.2, 0.3], 0, 1000), dsFrame('b', 'utilization', [0.1])]);
    const g = buildGrid(sites, 0, 6999, 4);
    expect(g.sites).toEqual(['a', 'b']);
    const row = Array.from(g.values.slice(0, 4));
    expect(row[0]).toBeCloseTo(0.5);
    expect(row[1]).toBeNaN(); // null and NaN samples: a gap
    expect(row[2]).toBeCloseTo(0.9);
    expect(row[3]).toBeCloseTo(0.3);
    expect(buildGrid(sites, 0, 1999, 2).values[1]).toBeCloseTo(0.5); // samples after `to` are ignored
    expect(Number.isNaN(g.values[4]!)).toBe(true); // b has no anomaly series: a full row of gaps
    expect(g.sampleIndex[0]).toBe(1);
  });

  test('auto buckets: one per sample, capped at 500', () => {
    const values = Array.from({ length: 800 }, () => 0.1);
    const g = buildGrid(buildSites([dsFrame('a', 'anomalyScore', values)]), 0, 800_000, 0);
    expect(g.buckets).toBe(500);
  });

  test('tooltip contributions come from the bucket\'s sample', () => {
    const sites = buildSites([dsFrame('a', 'anomalyScore', [0.9, 0.1], 0, 1000, { contributions: [JSON.stringify([{ feature: 'osnr', value: 1 }]), '[]'] })]);
    const g = buildGrid(sites, 0, 1999, 2);
    expect(cellContributions(sites[0]!, g, 0, 0)).toEqual([{ feature: 'osnr', value: 1 }]);
    expect(parseContributions('garbage')).toEqual([]);
  });
});

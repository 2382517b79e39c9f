import { FieldType } from '@grafana/data';
import { eventsToFrame, FORECAST_STEPS, forecastToFrames, historyEvents, historyToFrame } from '../src/frames.js';
import { LiveBuffer } from '../src/live.js';
import { points, site, snapshot } from './fixtures.js';

describe('frame conversion', () => {
  test('history: time + metric with unit, display name and site label', () => {
    const f = historyToFrame('A', 'throughputBps', 'paris-1', points('paris-1', 3, 1000, 1000, (i) => ({ throughputBps: i * 1e9 })));
    expect(f.fields.map((x) => x.name)).toEqual(['time', 'throughputBps']);
    expect(f.fields[0]!.type).toBe(FieldType.time);
    expect(f.fields[0]!.values).toEqual([1000, 2000, 3000]);
    const v = f.fields[1]!;
    expect(v.values).toEqual([0, 1e9, 2e9]);
    expect(v.config.unit).toBe('bps');
    expect(v.config.displayNameFromDS).toBe('paris-1 Throughput');
    expect(v.labels).toEqual({ site: 'paris-1' });
    expect(f.refId).toBe('A');
  });

  test('history: anomaly score carries per-sample contributions; missing values are null', () => {
    const f = historyToFrame('A', 'anomalyScore', 's', points('s', 2, 0, 1000, (i) => ({ inference: i ? { anomalyScore: 0.9, contributions: [{ feature: 'osnr', value: 0.7 }] } : {} })));
    expect([...f.fields[1]!.values]).toEqual([null, 0.9]);
    expect(JSON.parse(f.fields[2]!.values[1] as string)).toEqual([{ feature: 'osnr', value: 0.7 }]);
  });

  test('live buffer: one frame per site, rows in tick order, filtered by site', () => {
    const buf = new LiveBuffer('L', 'utilization', 10_000, 10);
    buf.addTicks([snapshot(1, 1000, [site('a', { utilization: 0.1 }), site('b')]), snapshot(2, 2000, [site('a', { utilization: 0.2 }), site('b')])], ['a']);
    const frames = buf.frames();
    expect(frames).toHaveLength(1);
    expect([...frames[0]!.fields[0]!.values]).toEqual([1000, 2000]);
    expect([...frames[0]!.fields[1]!.values]).toEqual([0.1, 0.2]);
    expect(frames[0]!.fields[1]!.config.unit).toBe('percentunit');
    expect(frames[0]!.fields[1]!.labels).toEqual({ site: 'a' });
  });

  test('live buffer: a tick in the last row\'s step overwrites it; replays are ignored; capacity is a hard bound', () => {
    const buf = new LiveBuffer('L', 'osnrDb', 10_000, 10); // step 1 s
    buf.add(1000, site('a', { osnrDb: 20 }));
    buf.add(1500, site('a', { osnrDb: 19 })); // same step: replaces
    buf.add(1200, site('a', { osnrDb: 99 })); // older: ignored
    expect([...buf.frames()[0]!.fields[1]!.values]).toEqual([19]);
    expect([...buf.frames()[0]!.fields[0]!.values]).toEqual([1500]);
    for (let t = 2000; t < 50_000; t += 1000) buf.add(t, site('a', { osnrDb: t / 1000 }));
    const f = buf.frames()[0]!;
    expect(f.length).toBe(10);
    expect([...f.fields[1]!.values]).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  });

  test('forecast: +horizon trajectory with future timestamps and a widening p10-p90 band', () => {
    const now = 1_800_000_000_000;
    const snap = snapshot(5, now, [
      site('a', { utilization: 0.5, inference: { forecast: { horizonSeconds: 900, throughputBps: { p10: 1, p50: 2, p90: 3 }, utilization: { p10: 0.5, p50: 0.6, p90: 0.8 } } } }),
      site('b'),
    ]);
    const { frames, missing } = forecastToFrames('F', 'utilization', snap, null);
    expect(missing).toEqual(['b']);
    const [t, p50, p10, p90] = frames[0]!.fields;
    expect(t!.values).toHaveLength(FORECAST_STEPS + 1);
    expect(t!.values[0]).toBe(now);
    expect(t!.values[FORECAST_STEPS]).toBe(now + 900_000);
    expect(p50!.values[0]).toBeCloseTo(0.5);
    expect(p50!.values[FORECAST_STEPS]).toBeCloseTo(0.6);
    expect(p10!.values[FORECAST_STEPS]).toBeCloseTo(0.5);
    expect(p90!.values[FORECAST_STEPS]).toBeCloseTo(0.8);
    expect(p90!.labels).toEqual({ site: 'a', percentile: '90' });
    expect(p50!.config.displayNameFromDS).toBe('a Utilization forecast p50');
  });

  test('events: link changes and faults', () => {
    const pts = points('a', 4, 0, 1000, (i) => (i === 1 ? { linkState: 'down', fault: 'fiber_cut', faultsTotal: 1 } : i > 1 ? { faultsTotal: 1 } : {}));
    const ev = historyEvents('a', pts);
    expect(ev.map((e) => e.title)).toEqual(['a: link up → down', 'a: fault fiber_cut', 'a: link down → up', 'a: fault fiber_cut cleared']);
    const frame = eventsToFrame('E', ev);
    expect(frame.fields.map((f) => f.name)).toEqual(['time', 'title', 'text', 'tags', 'site', 'kind']);
    expect(frame.length).toBe(4);
  });

  test('events: capacity changes (remediation) with the capacity before and after', () => {
    const pts = points('a', 3, 0, 1000, (i) => (i === 2 ? { cmdModules: 3, capacityBps: 1200e9 } : { cmdModules: 2, capacityBps: 800e9 }));
    const ev = historyEvents('a', pts);
    expect(ev.map((e) => [e.kind, e.title, e.time])).toEqual([['remediation', 'a: CMD modules 2 → 3', 2000]]);
    expect(ev[0]!.text).toBe('1 CMD module added on a: capacity 800 Gbit/s → 1200 Gbit/s.');
  });
});

// The table `npm run eval` prints (and docs/ai.md quotes) from ai.json.
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const f = (x: unknown): string => (x === null || x === undefined ? '-' : typeof x === 'number' ? String(Math.round(x * 1000) / 1000) : String(x));

export function formatTable(r: J): string {
  const rows: [string, string, string][] = [];
  const o = r['optical'];
  if (o?.skipped) rows.push(['optical', 'skipped (dataset absent)', '']);
  else if (o)
    for (const [name, h] of ([['dev half', o.dev_hours_0_2_and_4_6], ['test half', o.test_hours_2_4_and_6_8]] as [string, J][]).filter((x) => x[1])) {
      const e = h['events_at_0_8'];
      rows.push([`optical ${name}: event F1 @0.8 (P/R), events`, `${f(e.f1)} (${f(e.precision)}/${f(e.recall)}), ${e.detected}/${e.windows}`, '>= 0.9, all']);
      rows.push([`optical ${name}: false alarms/h, per-sample F1`, `${f(h['false_alarms_per_hour'])}, ${f(h['per_sample_at_0_8'].f1)}`, '<= 1']);
    }
  const u = r['uk_forecast'];
  if (u?.skipped) rows.push(['UK forecast', 'skipped (dataset absent)', '']);
  else if (u) {
    rows.push(['UK 15-min MAPE served / persistence', `${f(u.model.mape)} / ${f(u.persistence.mape)} (x${f(u.mape_ratio_vs_persistence)})`, '<= 0.80x']);
    rows.push(['UK p10-p90 coverage (test third)', f(u.p10_p90_coverage), '0.75..0.85']);
  }
  for (const [name, c] of Object.entries((r['labelled'] ?? {}) as J)) {
    if (c.skipped) {
      rows.push([name, 'skipped (dataset absent)', '']);
      continue;
    }
    for (const [split, d] of Object.entries(c as J)) {
      const nab = (k: string): string => f(d[k].nab.standard.score);
      rows.push([`${name} ${split}: NAB standard optifiber / gaussian / v1 / null`, `${nab('optifiber')} / ${nab('windowed_gaussian')} / ${nab('v1_before')} / ${nab('null')}`, '>= 2x gaussian, >= v1 + 20']);
      const e = d.optifiber.events_at_0_8;
      rows.push([`${name} ${split}: @0.8 event F1 (P/R), FA/entity-day, delay`, `${f(e.f1)} (${f(e.precision)}/${f(e.recall)}), ${f(e.false_alarms_per_entity_day)}, ${f(e.median_delay_s)} s`, 'FA <= 1']);
    }
  }
  for (const [split, s] of Object.entries((r['simulator'] ?? {}) as J)) {
    for (const [t, b] of Object.entries(s.faults.by_type as J)) {
      const warm = b.onset_before_scoring ? `; ${b.onset_before_scoring} began before scoring` : '';
      rows.push([`sim ${split} ${t}: within ${b.target_s} s`, `${b.within_target}/${b.faults} (median ${f(b.median_delay_s)} s; first of a site ${b.first_of_site_within_target}/${b.first_of_site}${warm})`, 'all']);
    }
    const ff = s.fault_free_1s;
    rows.push([`sim ${split} fault-free 1 s: episodes/site-day`, `${f(ff.episodes_per_site_day)} over ${f(ff.site_days)} site-days`, '0']);
  }
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  return [`${'metric'.padEnd(w0)}  ${'value'.padEnd(w1)}  target`, ...rows.map((x) => `${x[0].padEnd(w0)}  ${x[1].padEnd(w1)}  ${x[2]}`)].join('\n');
}

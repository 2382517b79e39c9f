// Metric names a PromQL expression reads: enough of a lexer to drop strings,
// label matchers, durations, grouping clauses, functions, keywords and
// Grafana variables ($site, $__rate_interval). Used by the tests to check
// dashboards against the metric catalogue and the recording rules.

const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2',
  'inf', 'nan', 'start', 'end',
  // aggregation operators (followed by "(" or by a clause)
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

export function metricNames(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, ' ') // Grafana variables
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  s = s.replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ' ');
  const out = new Set<string>();
  const re = /([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g;
  for (const m of s.matchAll(re)) {
    const name = m[1]!;
    if (m[2]) continue; // a function call
    if (KEYWORDS.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return [...out];
}

// Template variables through Grafana's current variable API
// (CustomVariableSupport): a structured query { kind, regex } edited by
// VariableQueryEditor, answered as MetricFindValue rows. Saved string queries
// of the old metricFindQuery path ("sites", "sites(<regex>)", "metrics") are
// read by parseVariableQuery, which never changes the user's regex: only the
// keyword is case-insensitive (lowercasing the whole query once turned \D
// into \d and ^Dal into ^dal).
import { CustomVariableSupport, type DataQuery, type DataQueryRequest, type DataQueryResponse, type MetricFindValue } from '@grafana/data';
import { from, map, type Observable } from 'rxjs';
import type { DataSource } from './datasource.js';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import { METRICS } from './metrics.js';

export type VariableKind = 'sites' | 'metrics';

export interface OptiFiberVariableQuery extends DataQuery {
  kind: VariableKind;
  /** Sites only: keep names this regex matches; `/re/flags` form for flags (e.g. `/^dal/i`). */
  regex?: string;
}

/** Reads a stored variable query: the structured form, or a legacy string. */
export function parseVariableQuery(raw: unknown): OptiFiberVariableQuery {
  if (raw && typeof raw === 'object' && 'kind' in raw) {
    const q = raw as Partial<OptiFiberVariableQuery>;
    return { refId: q.refId ?? 'OptiFiberVariable', kind: q.kind === 'metrics' ? 'metrics' : 'sites', ...(q.regex ? { regex: q.regex } : {}) };
  }
  const text = (typeof raw === 'string' ? raw : raw && typeof raw === 'object' && 'query' in raw ? String((raw as { query?: unknown }).query ?? '') : '').trim();
  const base = { refId: 'OptiFiberVariable' };
  if (text === '' || /^sites$/i.test(text)) return { ...base, kind: 'sites' };
  if (/^metrics$/i.test(text)) return { ...base, kind: 'metrics' };
  const m = /^sites\(([\s\S]*)\)$/i.exec(text);
  if (m) return { ...base, kind: 'sites', regex: m[1]! };
  throw new Error(`Unknown variable query "${text}": use sites, sites(<regex>) or metrics.`);
}

/** Compiles the user's regex exactly as typed; `/re/flags` sets flags. Throws a readable error. */
export function compileRegex(src: string): RegExp {
  const slashed = /^\/([\s\S]+)\/([dgimsuvy]*)$/.exec(src);
  try {
    return slashed ? new RegExp(slashed[1]!, slashed[2]!.replace('g', '')) : new RegExp(src);
  } catch (e) {
    throw new Error(`Invalid site regex ${JSON.stringify(src)}: ${(e as Error).message}`);
  }
}

/** The values of a variable query, given the exporter's site names. */
export function variableValues(q: OptiFiberVariableQuery, siteNames: string[]): MetricFindValue[] {
  if (q.kind === 'metrics') return METRICS.map((m) => ({ text: m.label, value: m.id }));
  const re = q.regex ? compileRegex(q.regex) : null;
  return siteNames.filter((s) => !re || re.test(s)).map((s) => ({ text: s, value: s }));
}

export class OptiFiberVariableSupport extends CustomVariableSupport<DataSource, OptiFiberVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: Pick<DataSource, 'siteNames'>) {
    super();
  }

  query(request: DataQueryRequest<OptiFiberVariableQuery>): Observable<DataQueryResponse> {
    return from((async () => {
      const q = parseVariableQuery(request.targets[0]);
      return variableValues(q, q.kind === 'sites' ? await this.ds.siteNames() : []);
    })()).pipe(map((values) => ({ data: values })));
  }
}

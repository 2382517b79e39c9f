// Input parsing for the backtests. Three shapes:
//   optical  the testbed format: Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower[,Failure]
//            (one entity per ID, several rows per timestamp);
//   series   `time,value` (one entity, one channel): what the forecast takes;
//   wide     `time,<numeric columns...>` (a channel per column), or with
//            --time-step: index-only files (`idx,m0,...`) and files with no
//            time column at all (a lone column of values, `value,label`),
//            whose rows are then numbered.
// Any of `,` `;` tab as delimiter (detected from the header line). Columns
// are told apart by name, case and punctuation ignored (columnKey):
//   labels   label, anomaly, is_anomaly, attack, outlier, ground_truth... (LABEL_NAMES,
//            or --label-column): kept as the row's label for evaluation, never inputs;
//   entity   id, KPI ID, machine, host, device... (ENTITY_NAMES, or --entity-column):
//            one online model per entity, as for the testbed's devices;
//   changepoint columns are never inputs either.
// The first column (after an entity column that starts the file) is the time
// if it is named like one or reads as times in order. A label must never
// reach the model, so the names public corpora use are all known here. An
// empty cell is a missing value (NaN), never 0.
// Each entity's rows must be in time order (equal times allowed): unsorted
// input is refused, not reordered.

/** Split one delimited line, honouring double quotes. */
export function splitCsv(line: string, delim = ','): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === delim) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Seconds since the epoch from a unix-seconds number, unix-ms, or an ISO-ish date (UTC if no zone). */
export function parseTime(s: string): number {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    return v > 1e11 ? v / 1000 : v;
  }
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : t.replace(' ', 'T') + 'Z';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`cannot parse time "${s}"`);
  return ms / 1000;
}

export interface OpticalRow {
  raw: string; // the timestamp as written
  t: number;
  type: string;
  id: string;
  ber: number;
  osnr: number;
  inPower: number;
  outPower: number;
  label?: number;
}

export interface SeriesRow {
  raw: string;
  t: number;
  value: number;
}

export interface WideRow {
  raw: string;
  t: number;
  values: number[];
  label?: number;
  /** The row's entity, in a file with an entity column. */
  entity?: string;
}

export type ParsedInput =
  | { kind: 'optical'; rows: OpticalRow[] }
  | { kind: 'series'; rows: SeriesRow[] }
  | { kind: 'wide'; columns: string[]; rows: WideRow[]; entityColumn?: string };

export interface ParseOptions {
  /**
   * Seconds between rows: the first column is a row index (idx, index, #, or
   * a numeric time column read as one), or, in a file with no time column,
   * the rows are numbered.
   */
  timeStepS?: number;
  /** More label columns (names, or 1-based column numbers for a file without a header). */
  labelColumns?: string[];
  /** The column naming each row's entity (else one named like ENTITY_NAMES, if any). */
  entityColumn?: string;
}

/** A column name as compared here: lower case, letters and digits only ("Is_Anomaly" -> "isanomaly"). */
export const columnKey = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Ground truth in the spellings public corpora use: kept as the row's label, never an input. */
export const LABEL_NAMES = ['label', 'labels', 'anomaly', 'anomalies', 'isanomaly', 'anomalylabel', 'attack', 'isattack', 'outlier', 'isoutlier', 'groundtruth'];
/** Never inputs: the labels and change-point annotations. */
export const NON_INPUT_NAMES = [...LABEL_NAMES, 'changepoint', 'changepoints', 'ischangepoint'];
/** A first column with one of these names is a row index ('#' keys to ''). */
const INDEX_NAMES = ['idx', 'index', ''];
/** A column with one of these names says which entity (server, KPI, device) a row belongs to. */
export const ENTITY_NAMES = ['id', 'entity', 'entityid', 'series', 'seriesid', 'kpi', 'kpiid', 'machine', 'machineid', 'host', 'hostname', 'device', 'deviceid', 'instance', 'node', 'sensorid'];
const TIME_NAMES = ['time', 'timestamp', 'timestamps', 'datetime', 'date', 'ts', 't', 'epoch', 'unixtime'];

/** A number, or NaN for an empty or non-numeric cell (never 0). */
export const cellNumber = (s: string | undefined): number => (s === undefined || s.trim() === '' ? NaN : Number(s));

export function detectDelimiter(header: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

function assertSorted(ts: number[], what: string): void {
  for (let i = 1; i < ts.length; i++)
    if (ts[i]! < ts[i - 1]!) throw new Error(`${what} is not in time order: data row ${i + 1} (t=${ts[i]}) comes after t=${ts[i - 1]}; sort it by time first`);
}

function parseOptical(header: string[], lines: string[], delim: string): ParsedInput {
  const col = (n: string): number => header.indexOf(n);
  const [cT, cType, cId, cB, cO, cI, cOut, cF] = ['timestamp', 'type', 'id', 'ber', 'osnr', 'inputpower', 'outputpower', 'failure'].map(col) as number[];
  const rows = lines.map((l) => {
    const f = splitCsv(l, delim);
    const raw = f[cT!] ?? '';
    return {
      raw,
      t: parseTime(raw),
      type: f[cType!] ?? '',
      id: f[cId!] ?? '',
      ber: cellNumber(f[cB!]),
      osnr: cellNumber(f[cO!]),
      inPower: cI! >= 0 ? cellNumber(f[cI!]) : NaN,
      outPower: cOut! >= 0 ? cellNumber(f[cOut!]) : NaN,
      label: cF! >= 0 ? (f[cF!] === '1' ? 1 : 0) : undefined,
    } satisfies OpticalRow;
  });
  // devices report on their own clocks and interleave: each ID must be in time order
  const byId = new Map<string, number[]>();
  for (const r of rows) (byId.get(r.id) ?? byId.set(r.id, []).get(r.id)!).push(r.t);
  for (const [id, ts] of byId) assertSorted(ts, `the rows of ID ${id}`);
  return { kind: 'optical', rows };
}

/** True when the first line is data (its first cell is a time and the rest numbers). */
function headerless(first: string[]): boolean {
  try {
    parseTime(first[0] ?? '');
  } catch {
    return false;
  }
  return first.slice(1).every((c) => c === '' || Number.isFinite(Number(c)));
}

/** What the columns of a wide file are: labels, the entity, the inputs, and what the first one is. */
interface Layout {
  /** The time column: a time, a row index (x --time-step), or data ('rows': the rows are numbered). */
  time: 'time' | 'index' | 'rows';
  /** Which column that is: the first that is not a label or the entity. */
  tc: number;
  labels: number[];
  entity: number; // -1: the file is one entity
  inputs: number[];
}

/** A column given by name (case and punctuation ignored) or by 1-based number; -1 if absent. */
function findColumn(names: string[], spec: string): number {
  const byName = names.findIndex((n) => columnKey(n) === columnKey(spec));
  if (byName >= 0 || !/^\d+$/.test(spec)) return byName;
  const k = Number(spec) - 1;
  return k >= 0 && k < names.length ? k : -1;
}

/** True when column tc of every row is a time and each entity's rows are in time order. */
function readsAsTime(body: string[], delim: string, tc: number, entity: number): boolean {
  const last = new Map<string, number>();
  try {
    for (const line of body) {
      const f = splitCsv(line, delim);
      const t = parseTime(f[tc] ?? '');
      const e = entity >= 0 ? (f[entity] ?? '') : '';
      if (t < (last.get(e) ?? -Infinity)) return false;
      last.set(e, t);
    }
  } catch {
    return false;
  }
  return true;
}

function layoutOf(names: string[], hasHeader: boolean, body: string[], delim: string, opts: ParseOptions): Layout {
  const column = (spec: string, what: string): number => {
    const k = findColumn(names, spec);
    if (k < 0) throw new Error(`${what} "${spec}": no such column (columns: ${names.join(', ')})`);
    return k;
  };
  const keys = names.map(columnKey);
  const extra = (opts.labelColumns ?? []).map((c) => column(c, '--label-column'));
  const labels = keys.map((k, i) => (LABEL_NAMES.includes(k) || extra.includes(i) ? i : -1)).filter((i) => i >= 0);
  const entity = opts.entityColumn !== undefined ? column(opts.entityColumn, '--entity-column') : hasHeader ? keys.findIndex((k) => ENTITY_NAMES.includes(k)) : -1;
  const special = (i: number): boolean => i === entity || labels.includes(i) || NON_INPUT_NAMES.includes(keys[i]!);
  const step = opts.timeStepS !== undefined;
  // the time comes first, after an entity column if the file starts with one (series,timestamp,value)
  const tc = Math.max(0, names.findIndex((_, i) => !special(i)));
  const data = names.filter((_, i) => !special(i)).length;
  let time: Layout['time'];
  if (special(tc)) time = 'rows';
  else if (hasHeader && INDEX_NAMES.includes(keys[tc]!)) time = 'index';
  else if (hasHeader && TIME_NAMES.includes(keys[tc]!)) time = step ? 'index' : 'time';
  else if (data === 1) time = 'rows'; // a lone column of no telling name is data, never a clock
  // a column with no telling name is the time if it reads as one, in order
  else time = readsAsTime(body, delim, tc, entity) ? (step ? 'index' : 'time') : 'rows';
  const inputs = names.map((_, i) => i).filter((i) => !(i === tc && time !== 'rows') && !special(i));
  return { time, tc, labels, entity, inputs };
}

/** Why a file needs --time-step, for the error. */
function needsStep(l: Layout, names: string[]): string {
  if (l.time === 'index') return `the first column "${names[l.tc]}" is a row index: pass --time-step (e.g. --time-step 60s)`;
  const why = l.inputs.length === 1 ? 'the file has one data column' : `its first column "${names[l.tc]}" is not a time in time order`;
  return `no time column (${why}): pass --time-step (e.g. --time-step 60s) to number the rows, or sort the file by its time column`;
}

/** One data row by the layout; `seen` counts each entity's rows so far (the row number of a time-less file). */
function rowOf(l: Layout, f: string[], r: number, stepS: number, seen: Map<string, number>): WideRow {
  const entity = l.entity >= 0 ? (f[l.entity] ?? '') : undefined;
  let raw = f[l.tc] ?? '';
  let t: number;
  if (l.time === 'rows') {
    const k = seen.get(entity ?? '') ?? 0;
    seen.set(entity ?? '', k + 1);
    raw = String(k);
    t = k * stepS;
  } else {
    t = l.time === 'index' ? cellNumber(raw) * stepS : parseTime(raw);
    if (!Number.isFinite(t)) throw new Error(`data row ${r + 1}: bad ${l.time} "${raw}"`);
  }
  const row: WideRow = { raw, t, values: l.inputs.map((i) => cellNumber(f[i])) };
  if (l.labels.length) row.label = Math.max(...l.labels.map((i) => (cellNumber(f[i]) > 0 ? 1 : 0)));
  if (entity !== undefined) row.entity = entity;
  return row;
}

export function parseInput(text: string, opts: ParseOptions = {}): ParsedInput {
  // (a byte-order mark, as spreadsheet exports write, is not part of the first cell)
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new Error('empty input');
  const delim = detectDelimiter(lines[0]!);
  const first = splitCsv(lines[0]!, delim);
  const lower = first.map((h) => h.toLowerCase());
  if (lower.includes('ber') && lower.includes('osnr') && lower.includes('id')) return parseOptical(lower, lines.slice(1), delim);
  const hasHeader = !headerless(first);
  const names = hasHeader ? first : first.map((_, i) => `column ${i + 1}`);
  const body = hasHeader ? lines.slice(1) : lines;
  const l = layoutOf(names, hasHeader, body, delim, opts);
  if (l.time !== 'time' && !(opts.timeStepS! > 0)) throw new Error(needsStep(l, names));
  if (!l.inputs.length) throw new Error('no input columns: expected time,<numeric columns...>');
  // (a line's cells live only while its row is built: a big file is never held as strings twice)
  const seen = new Map<string, number>();
  const rows = body.map((line, r) => rowOf(l, splitCsv(line, delim), r, opts.timeStepS ?? 0, seen));
  // each entity's rows in time order (a file of several entities may list them one after another)
  const byEntity = new Map<string, number[]>();
  for (const r of rows) (byEntity.get(r.entity ?? '') ?? byEntity.set(r.entity ?? '', []).get(r.entity ?? '')!).push(r.t);
  for (const [e, ts] of byEntity) assertSorted(ts, l.entity >= 0 ? `the rows of ${names[l.entity]} ${e}` : 'the input');
  return finish(names, l, rows);
}

/** Drops columns without a single number (a trailing delimiter, a text column); a lone column is a series. */
function finish(names: string[], l: Layout, rows: WideRow[]): ParsedInput {
  const keep = l.inputs.map((_, k) => k).filter((k) => rows.some((r) => Number.isFinite(r.values[k])));
  if (!keep.length) throw new Error('no numeric input column');
  if (keep.length < l.inputs.length) for (const r of rows) r.values = keep.map((k) => r.values[k]!);
  const columns = keep.map((k) => names[l.inputs[k]!]!);
  if (columns.length === 1 && !l.labels.length && l.entity < 0) return { kind: 'series', rows: rows.map((r) => ({ raw: r.raw, t: r.t, value: r.values[0]! })) };
  return l.entity >= 0 ? { kind: 'wide', columns, rows, entityColumn: names[l.entity]! } : { kind: 'wide', columns, rows };
}

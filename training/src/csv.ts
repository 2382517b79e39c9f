// Input parsing for the backtests. Three shapes:
//   optical  the testbed format: Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower[,Failure]
//            (one entity per ID, several rows per timestamp);
//   series   `time,value` (one entity, one channel): what the forecast takes;
//   wide     `time,<numeric columns...>` (one entity, a channel per column),
//            or index-only files (`idx,m0,...`) given a --time-step.
// Any of `,` `;` tab as delimiter (detected from the header line). Columns
// named label, anomaly, changepoint or attack are never inputs; label,
// anomaly and attack are kept as the row's label for evaluation only.
// An empty cell is a missing value (NaN), never 0. Rows must be in time
// order (equal times allowed): unsorted input is refused, not reordered.

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
}

export type ParsedInput =
  | { kind: 'optical'; rows: OpticalRow[] }
  | { kind: 'series'; rows: SeriesRow[] }
  | { kind: 'wide'; columns: string[]; rows: WideRow[] };

export interface ParseOptions {
  /** Seconds between rows of an index-only file (its first column is a row index). */
  timeStepS?: number;
}

export const NON_INPUT_COLUMNS = ['label', 'anomaly', 'changepoint', 'attack'];
const LABEL_COLUMNS = ['label', 'anomaly', 'attack'];
const INDEX_COLUMNS = ['idx', 'index', '#'];

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

export function parseInput(text: string, opts: ParseOptions = {}): ParsedInput {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new Error('empty input');
  const delim = detectDelimiter(lines[0]!);
  const first = splitCsv(lines[0]!, delim);
  const lower = first.map((h) => h.toLowerCase());
  if (lower.includes('ber') && lower.includes('osnr') && lower.includes('id')) return parseOptical(lower, lines.slice(1), delim);
  const hasHeader = !headerless(first);
  const names = hasHeader ? first : first.map((_, i) => (i === 0 ? 'time' : `value${i}`));
  const body = hasHeader ? lines.slice(1) : lines;
  const indexOnly = opts.timeStepS !== undefined || INDEX_COLUMNS.includes(lower[0] ?? '');
  if (indexOnly && !(opts.timeStepS! > 0)) throw new Error(`the first column "${names[0]}" is a row index: pass --time-step (e.g. --time-step 60s)`);
  const inputs: number[] = [];
  const labels: number[] = [];
  names.forEach((n, i) => {
    if (i === 0) return;
    if (LABEL_COLUMNS.includes(n.toLowerCase())) labels.push(i);
    if (!NON_INPUT_COLUMNS.includes(n.toLowerCase())) inputs.push(i);
  });
  if (!inputs.length) throw new Error('no input columns: expected time,<numeric columns...>');
  const rows: WideRow[] = body.map((l, r) => {
    const f = splitCsv(l, delim);
    const raw = f[0] ?? '';
    const t = indexOnly ? cellNumber(raw) * opts.timeStepS! : parseTime(raw);
    if (!Number.isFinite(t)) throw new Error(`data row ${r + 1}: bad ${indexOnly ? 'index' : 'time'} "${raw}"`);
    const row: WideRow = { raw, t, values: inputs.map((i) => cellNumber(f[i])) };
    if (labels.length) row.label = Math.max(...labels.map((i) => (cellNumber(f[i]) > 0 ? 1 : 0)));
    return row;
  });
  assertSorted(rows.map((r) => r.t), 'the input');
  // a column without a single number (a trailing delimiter, a text column) is not an input
  const keep = inputs.map((_, k) => rows.some((r) => Number.isFinite(r.values[k]))).map((ok, k) => (ok ? k : -1)).filter((k) => k >= 0);
  if (!keep.length) throw new Error('no numeric input column');
  if (keep.length < inputs.length) {
    for (const r of rows) r.values = keep.map((k) => r.values[k]!);
    inputs.splice(0, inputs.length, ...keep.map((k) => inputs[k]!));
  }
  if (inputs.length === 1 && !labels.length) return { kind: 'series', rows: rows.map((r) => ({ raw: r.raw, t: r.t, value: r.values[0]! })) };
  return { kind: 'wide', columns: inputs.map((i) => names[i]!), rows };
}

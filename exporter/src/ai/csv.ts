// Input parsing for the backtests: a plain `time,value` CSV or the optical
// testbed format (Timestamp,Type,ID,BER,OSNR,InputPower,OutputPower[,Failure]).

/** Split one CSV line, honouring double quotes. */
export function splitCsv(line: string): string[] {
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
    else if (c === ',') {
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

const numOrNaN = (s: string | undefined): number => (s === undefined || s === '' ? NaN : Number(s));

export type ParsedInput = { kind: 'optical'; rows: OpticalRow[] } | { kind: 'series'; rows: SeriesRow[] };

export function parseInput(text: string): ParsedInput {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!lines.length) throw new Error('empty input');
  const header = splitCsv(lines[0]!).map((h) => h.toLowerCase());
  const isOptical = header.includes('ber') && header.includes('osnr') && header.includes('id');
  if (isOptical) {
    const col = (n: string): number => header.indexOf(n);
    const [cT, cType, cId, cB, cO, cI, cOut, cF] = ['timestamp', 'type', 'id', 'ber', 'osnr', 'inputpower', 'outputpower', 'failure'].map(col) as number[];
    const rows = lines.slice(1).map((l) => {
      const f = splitCsv(l);
      const raw = f[cT!] ?? '';
      return {
        raw,
        t: parseTime(raw),
        type: f[cType!] ?? '',
        id: f[cId!] ?? '',
        ber: numOrNaN(f[cB!]),
        osnr: numOrNaN(f[cO!]),
        inPower: cI! >= 0 ? numOrNaN(f[cI!]) : NaN,
        outPower: cOut! >= 0 ? numOrNaN(f[cOut!]) : NaN,
        label: cF! >= 0 ? (f[cF!] === '1' ? 1 : 0) : undefined,
      } satisfies OpticalRow;
    });
    return { kind: 'optical', rows };
  }
  // plain series: first column time, second value; a header row is detected when its time does not parse
  let start = 0;
  try {
    parseTime(splitCsv(lines[0]!)[0] ?? '');
    if (!Number.isFinite(Number(splitCsv(lines[0]!)[1]))) start = 1;
  } catch {
    start = 1;
  }
  const rows = lines.slice(start).map((l) => {
    const f = splitCsv(l);
    return { raw: f[0] ?? '', t: parseTime(f[0] ?? ''), value: Number(f[1]) };
  });
  return { kind: 'series', rows };
}

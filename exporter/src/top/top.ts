// `optifiber top`: a live table of every site, read straight from the mapped
// pages once a second. Rendering is a pure function (rows → string) so it is
// testable; runTop() only owns the timer, the reader and the terminal.
import { SourceError } from '../source/errors.js';
import { PageReader } from '../source/page-reader.js';
import type { DirectoryInfo, FaultKind, InvalidSite, LinkState, Snapshot } from '../source/types.js';

export interface TopRow {
  index: number;
  name: string;
  throughputGbps: number;
  utilizationPct: number; // throughput / capacity; 0 without capacity
  osnrDb: number;
  preFecBer: number;
  link: LinkState;
  fault: FaultKind;
}

export interface TopFrame {
  source: string;
  /** Null while the source is unavailable; `error` then says why. */
  dir: DirectoryInfo | null;
  error?: string;
  rows: TopRow[];
  invalid: InvalidSite[];
  consistent: boolean;
  nowMs: number;
}

export interface RenderOptions {
  /** Terminal lines available; rows beyond are summarised in one line. */
  maxLines?: number;
  color?: boolean;
}

export function rowsFromSnapshot(snapshot: Snapshot): TopRow[] {
  return snapshot.sites.map((site) => ({
    index: site.index,
    name: site.name,
    throughputGbps: site.throughputBps / 1e9,
    utilizationPct: site.capacityBps > 0 ? (100 * site.throughputBps) / site.capacityBps : 0,
    osnrDb: site.osnrDb,
    preFecBer: site.preFecBer,
    link: site.linkState,
    fault: site.fault,
  }));
}

const ANSI = { red: '\x1b[31m', yellow: '\x1b[33m', bold: '\x1b[1m', reset: '\x1b[0m', inverse: '\x1b[7m' };

interface Column {
  title: string;
  width: number;
  alignRight: boolean;
  cell: (row: TopRow) => string;
}

const COLUMNS: Column[] = [
  { title: 'SITE', width: 5, alignRight: true, cell: (r) => String(r.index) },
  { title: 'NAME', width: 20, alignRight: false, cell: (r) => r.name },
  { title: 'GBIT/S', width: 9, alignRight: true, cell: (r) => r.throughputGbps.toFixed(1) },
  { title: 'UTIL%', width: 6, alignRight: true, cell: (r) => r.utilizationPct.toFixed(1) },
  { title: 'OSNR dB', width: 8, alignRight: true, cell: (r) => r.osnrDb.toFixed(2) },
  { title: 'PRE-FEC BER', width: 11, alignRight: true, cell: (r) => (r.preFecBer === 0 ? '0' : r.preFecBer.toExponential(2)) },
  { title: 'LINK', width: 8, alignRight: false, cell: (r) => r.link },
  { title: 'FAULT', width: 13, alignRight: false, cell: (r) => r.fault },
];

function fit(text: string, column: Column): string {
  const clipped = text.length > column.width ? `${text.slice(0, column.width - 1)}…` : text;
  return column.alignRight ? clipped.padStart(column.width) : clipped.padEnd(column.width);
}

function rowColor(row: TopRow): string | null {
  if (row.link === 'down' || row.link === 'unknown') return ANSI.red;
  if (row.link === 'degraded' || row.fault !== 'none') return ANSI.yellow;
  return null;
}

/** The whole screen for one frame, lines joined with "\n" (no cursor control). */
export function renderTop(frame: TopFrame, options: RenderOptions = {}): string {
  const color = options.color ?? false;
  const paint = (code: string | null, text: string) => (color && code !== null ? `${code}${text}${ANSI.reset}` : text);
  const clock = new Date(frame.nowMs).toISOString().slice(11, 19);
  const lines: string[] = [];

  if (frame.dir === null) {
    lines.push(`optifiber top  ${frame.source}  ${clock}`);
    lines.push('');
    lines.push(paint(ANSI.red, `SOURCE UNAVAILABLE: ${frame.error ?? 'unknown error'}`));
    lines.push('retrying every second; Ctrl-C to quit');
    return lines.join('\n');
  }

  const dir = frame.dir;
  lines.push(
    `optifiber top  ${frame.source}  host ${dir.host || '?'}${dir.simulated ? ' (simulated)' : ''}  tick ${dir.tick}  ` +
      `sites ${dir.siteCount}  ${clock}${frame.consistent ? '' : '  [mixed ticks]'}`,
  );
  const down = frame.rows.filter((r) => r.link === 'down').length;
  const degraded = frame.rows.filter((r) => r.link === 'degraded').length;
  const faulted = frame.rows.filter((r) => r.fault !== 'none').length;
  const totalGbps = frame.rows.reduce((sum, r) => sum + r.throughputGbps, 0);
  lines.push(
    `total ${totalGbps.toFixed(1)} Gbit/s  down ${down}  degraded ${degraded}  faults ${faulted}  invalid ${frame.invalid.length}`,
  );
  lines.push(paint(ANSI.inverse, COLUMNS.map((c) => fit(c.title, c)).join(' ')));

  const maxLines = options.maxLines ?? Infinity;
  const footerLines = frame.invalid.length > 0 ? 1 : 0;
  const room = Math.max(0, maxLines - lines.length - footerLines);
  const shown = frame.rows.length > room ? Math.max(0, room - 1) : frame.rows.length;
  for (const row of frame.rows.slice(0, shown)) {
    lines.push(paint(rowColor(row), COLUMNS.map((c) => fit(c.cell(row), c)).join(' ')));
  }
  if (shown < frame.rows.length) lines.push(`… ${frame.rows.length - shown} more sites`);
  if (frame.invalid.length > 0) {
    const first = frame.invalid[0];
    lines.push(paint(ANSI.red, `invalid pages: ${frame.invalid.length} (site ${first?.index}: ${first?.reason})`));
  }
  return lines.join('\n');
}

export interface TopOptions {
  source: string;
  intervalMs?: number;
  out?: NodeJS.WriteStream;
}

/** Refreshes the table every intervalMs until SIGINT/SIGTERM, then restores the terminal. */
export async function runTop(options: TopOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const intervalMs = options.intervalMs ?? 1000;
  const interactive = out.isTTY === true;
  let reader: PageReader | null = null;

  const frame = (): TopFrame => {
    const nowMs = Date.now();
    try {
      reader ??= PageReader.open(options.source, { lazy: true });
      const snapshot = reader.snapshot();
      return { source: options.source, dir: snapshot.dir, rows: rowsFromSnapshot(snapshot), invalid: snapshot.invalid, consistent: snapshot.consistent, nowMs };
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      return { source: options.source, dir: null, error: error.message, rows: [], invalid: [], consistent: false, nowMs };
    }
  };
  const draw = () => {
    const text = renderTop(frame(), { maxLines: interactive ? out.rows : Infinity, color: interactive });
    // Home + clear to end of screen, so the table redraws in place.
    out.write(interactive ? `\x1b[H${text.replace(/\n/g, '\x1b[K\n')}\x1b[K\x1b[J` : `${text}\n\n`);
  };

  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let failure: unknown = null;
  const redraw = () => {
    try {
      draw();
    } catch (error) {
      failure = error; // a bug, not an unavailable source: end and rethrow
      stop();
    }
  };

  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (interactive) out.write('\x1b[?1049h\x1b[?25l'); // alternate screen, hide cursor
  const timer = setInterval(redraw, intervalMs);
  try {
    redraw();
    await stopped;
    if (failure !== null) throw failure;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    (reader as PageReader | null)?.close();
    if (interactive) out.write('\x1b[?25h\x1b[?1049l'); // show cursor, leave alternate screen
  }
}

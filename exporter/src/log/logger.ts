// The exporter's one logger: structured JSON, one object per line on
// stderr, pino-compatible call shape (fields first, message second). Keys
// that look like secrets are redacted, whatever their depth.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET = /pass(word)?|secret|token|authorization|cookie|credential|private.?key/i;

export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * The part of a Logger that the API and control routers and the AI stage
 * call: tests hand them a three-method recorder instead of a real logger.
 */
export type EventLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

function redact(v: unknown, depth = 0): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message };
  if (v === null || typeof v !== 'object' || depth > 4) return typeof v === 'bigint' ? v.toString() : v;
  if (Array.isArray(v)) return v.map((x) => redact(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET.test(k) ? '[redacted]' : redact(x, depth + 1);
  return out;
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const base = opts.base ?? {};
  const emit = (level: Level, fields: Record<string, unknown>, msg: string): void => {
    if (RANK[level] < min) return;
    const rec = { ts: new Date().toISOString(), level, msg, ...(redact({ ...base, ...fields }) as object) };
    write(JSON.stringify(rec) + '\n');
  };
  return {
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
    child: (f) => createLogger({ ...opts, base: { ...base, ...f } }),
  };
}

export const silentLogger: Logger = createLogger({ write: () => {} });

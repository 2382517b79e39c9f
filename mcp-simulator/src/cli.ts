#!/usr/bin/env node
// optifiber-mcp-sim: run the WaveServer MCP stand-in.
//
//   optifiber-mcp-sim [--listen=127.0.0.1:9889] [--exporter-url=http://127.0.0.1:9886]
//     [--exporter-token-file=FILE] [--client-id=ID] [--client-secret-file=FILE]
//     [--seed=N] [--faults=JSON] [--queued-ms=50,150] [--running-ms=100,300]
//     [--tls-cert-file=FILE --tls-key-file=FILE]   (https; PEM, chain then key)
// Environment: MCP_SIM_<FLAG> (e.g. MCP_SIM_EXPORTER_URL). The client secret
// defaults to a random one printed once on stdout when no file is given.
import { readFileSync } from 'node:fs';
import { startMcpSimulator } from './server.js';
import { validateFaultConfig } from './faults.js';

const FLAGS = ['listen', 'exporter-url', 'exporter-token-file', 'client-id', 'client-secret-file', 'seed', 'faults', 'queued-ms', 'running-ms', 'tls-cert-file', 'tls-key-file', 'help'];

function parse(argv: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of FLAGS) {
    const e = env[`MCP_SIM_${f.toUpperCase().replace(/-/g, '_')}`];
    if (e !== undefined) out[f] = e;
  }
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !FLAGS.includes(m[1]!)) throw new Error(`unknown argument ${JSON.stringify(a)} (flags: ${FLAGS.map((f) => `--${f}`).join(' ')})`);
    out[m[1]!] = m[2] ?? 'true';
  }
  return out;
}

const firstLine = (path: string, what: string) => {
  try {
    const t = (readFileSync(path, 'utf8').split('\n')[0] ?? '').trim();
    if (!t) throw new Error('empty');
    return t;
  } catch (e) {
    throw new Error(`${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

/** Both PEM files or neither: a half-configured listener is an error, never plain http. */
function tlsFiles(cert: string | undefined, key: string | undefined): { cert: string; key: string } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new Error('--tls-cert-file and --tls-key-file go together');
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { cert: read(cert, '--tls-cert-file'), key: read(key, '--tls-key-file') };
}

function range(v: string | undefined, name: string): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+),(\d+)$/.exec(v);
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`--${name}: expected MIN,MAX in ms, e.g. 50,150`);
  return [Number(m[1]), Number(m[2])];
}

// Losing stdout/stderr (the launcher died, a closed pipe) must not kill the
// process on its next log line: EPIPE on them is ignored.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

async function main(): Promise<number> {
  let f: Record<string, string>;
  try {
    f = parse(process.argv.slice(2), process.env);
    if (f.help) {
      process.stdout.write(`usage: optifiber-mcp-sim ${FLAGS.map((x) => `[--${x}=...]`).join(' ')}\n`);
      return 0;
    }
    const listen = /^(.+):(\d{1,5})$/.exec(f.listen ?? '127.0.0.1:9889');
    if (!listen) throw new Error('--listen: expected host:port');
    const seed = f.seed !== undefined ? Number(f.seed) : 1;
    const faults = validateFaultConfig({ seed, ...(f.faults ? (JSON.parse(f.faults) as object) : {}) });
    const secret = f['client-secret-file'] ? firstLine(f['client-secret-file'], 'client secret file') : undefined;
    const tls = tlsFiles(f['tls-cert-file'], f['tls-key-file']);
    const sim = await startMcpSimulator({
      host: listen[1]!,
      port: Number(listen[2]),
      ...(f['client-id'] ? { clientId: f['client-id'] } : {}),
      ...(secret ? { clientSecret: secret } : {}),
      ...(f['exporter-url'] ? { exporterUrl: f['exporter-url'] } : {}),
      ...(f['exporter-token-file'] ? { exporterToken: firstLine(f['exporter-token-file'], 'exporter token file') } : {}),
      ...(range(f['queued-ms'], 'queued-ms') ? { queuedMs: range(f['queued-ms'], 'queued-ms')! } : {}),
      ...(range(f['running-ms'], 'running-ms') ? { runningMs: range(f['running-ms'], 'running-ms')! } : {}),
      faults,
      ...(tls ? { tls } : {}),
      log: (fields, msg) => process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), msg, ...fields }) + '\n'),
    });
    process.stdout.write(`MCP simulator listening on ${sim.url} (exporter: ${f['exporter-url'] ?? 'none, standalone'})\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await sim.stop();
    return 0;
  } catch (e) {
    process.stderr.write(`optifiber-mcp-sim: ${(e as Error).message}\n`);
    return 2;
  }
}

main().then((c) => process.exit(c));

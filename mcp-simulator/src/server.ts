// WaveServer MCP north-bound API stand-in.
//
//   POST /oauth/token                      client credentials -> bearer token
//   POST /api/v1/provisioning/jobs         Idempotency-Key required -> 202 job
//   GET  /api/v1/provisioning/jobs/{id}    job state
//   GET  /api/v1/provisioning/jobs         list (?site=, ?idempotencyKey=)
//   GET|PUT /sim/faults, POST /sim/faults/next, POST /sim/reset, GET /sim/stats
//                                          test control (loopback only)
//   GET  /-/healthy
//
// Jobs go queued -> running -> succeeded | failed after seeded random delays.
// A cmd_add job is applied at the end of "running" by calling the exporter's
// control endpoint (POST /api/v1/sites/{site}/commands {"cmd_add": N}); the
// job fails when that call fails. Each job is applied at most once. Without
// an exporter URL the simulator runs standalone and only records the job.
//
// Idempotency (as in draft-ietf-httpapi-idempotency-key-header): the key is
// scoped to the OAuth client; same key + same body -> the same job (202,
// header Idempotent-Replayed: true); same key + different body -> 422; a
// request still being processed under the same key -> 409.
//
// One job per file: http.ts (errors, bodies), auth.ts (OAuth tokens), jobs.ts
// (job table, idempotency, lifecycle), apply.ts (the exporter call),
// provisioning.ts and control.ts (routes), router.ts (dispatch), and here the
// server itself (TLS, connection limits, listen, stop).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { applyJob } from './apply.js';
import { TokenIssuer } from './auth.js';
import type { SimContext } from './context.js';
import { FaultInjector } from './faults.js';
import { JobBook } from './jobs.js';
import { makeHandler } from './router.js';
import { Timers } from './timers.js';
import type { McpSimulator, McpSimulatorOptions } from './types.js';

export { parseJobRequest } from './jobs.js';
export { OPERATIONS } from './types.js';
export type { Job, JobState, McpSimulator, McpSimulatorOptions, SimStats } from './types.js';

/** One simulator's state and settings, defaults applied. */
function buildContext(opts: McpSimulatorOptions): SimContext {
  const faults = new FaultInjector(opts.faults);
  const timers = new Timers();
  const log = opts.log ?? (() => {});
  const maxBody = opts.maxBodyBytes ?? 4096;
  const { exporterUrl, exporterToken, exporterTimeoutMs } = opts;
  const book: JobBook = new JobBook({
    faults,
    timers,
    log,
    queuedMs: opts.queuedMs ?? [50, 150],
    runningMs: opts.runningMs ?? [100, 300],
    apply: (j) => applyJob({ exporterUrl, exporterToken, exporterTimeoutMs, faults, timers, book: () => book }, j),
  });
  const auth = new TokenIssuer({
    clientId: opts.clientId ?? 'optifiber-remediation',
    clientSecret: opts.clientSecret ?? randomBytes(18).toString('base64url'),
    tokenTtlMs: opts.tokenTtlMs ?? 3_600_000,
    maxBody,
    faults,
    onIssued: () => void book.counters.tokensIssued++,
  });
  const responseDelayMs = opts.responseDelayMs ?? [1, 5];
  return { faults, timers, book, auth, log, maxBody, hangMs: opts.hangMs ?? 30_000, responseDelayMs, hanging: new Set() };
}

/** An http or https server with slowloris bounds. */
function makeServer(opts: McpSimulatorOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const headerTimeoutMs = opts.headerTimeoutMs ?? 10_000;
  const limits = { headersTimeout: headerTimeoutMs, requestTimeout: Math.max(headerTimeoutMs, 30_000), connectionsCheckingInterval: Math.min(1000, headerTimeoutMs) };
  const server: Server = opts.tls ? createHttpsServer({ ...limits, cert: opts.tls.cert, key: opts.tls.key }, handler) : createServer(limits, handler);
  server.keepAliveTimeout = 5000;
  server.maxConnections = opts.maxConnections ?? 256;
  return server;
}

async function listen(server: Server, opts: McpSimulatorOptions): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9889, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`;
}

export async function startMcpSimulator(opts: McpSimulatorOptions = {}): Promise<McpSimulator> {
  const ctx = buildContext(opts);
  const server = makeServer(opts, makeHandler(ctx));
  const url = await listen(server, opts);
  return {
    url,
    server,
    jobs: ctx.book.jobs,
    faults: ctx.faults,
    stats: () => ctx.book.stats(),
    reset: () => ctx.book.reset(),
    stop: async () => {
      ctx.timers.stop();
      for (const r of ctx.hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

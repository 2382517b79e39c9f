#!/usr/bin/env node
// A Slack-compatible incoming-webhook recorder standing in for the NOC channel
// on local runs and in tests. Plain Node ESM, no dependencies.
//
//   node alertmanager/noc-receiver.mjs [--host 127.0.0.1] [--port 9888] [--out var/noc/messages.jsonl]
//
// Accepts POST <any path> with a Slack message (JSON) or an Alertmanager
// webhook payload, answers 200 "ok" like Slack, appends one JSON line per
// message ({receivedAt, path, authorization, body}) to --out, and serves what it got at
// GET /messages. As a module: startNocReceiver() for tests.
import { createServer } from 'node:http';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Summarise a recorded message: the fields our Slack template sets
 * (status, alertname, site), or the Alertmanager webhook's own.
 * @param {any} body
 * @returns {{status?: string, alertname?: string, site?: string}}
 */
export function summarize(body) {
  if (body && Array.isArray(body.attachments) && body.attachments[0]) {
    /** @type {Record<string,string>} */
    const f = {};
    for (const x of body.attachments[0].fields ?? []) f[x.title] = x.value;
    return { status: f.status, alertname: f.alertname, site: f.site === '-' ? undefined : f.site };
  }
  if (body && Array.isArray(body.alerts)) {
    return { status: body.status, alertname: body.commonLabels?.alertname, site: body.commonLabels?.site };
  }
  return {};
}

/**
 * @param {{host?: string, port?: number, out?: string, log?: (line: string) => void}} [opts]
 */
export async function startNocReceiver(opts = {}) {
  const host = opts.host ?? '127.0.0.1';
  /** @type {{receivedAt: number, path: string, authorization: string|null, body: any, summary: ReturnType<typeof summarize>}[]} */
  const messages = [];
  /** @type {Set<() => void>} */
  const waiters = new Set();
  if (opts.out) mkdirSync(dirname(opts.out), { recursive: true });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/messages') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(messages));
      return;
    }
    if (req.method === 'GET' && req.url === '/-/healthy') { res.end('ok'); return; }
    if (req.method !== 'POST') { res.writeHead(405); res.end(); return; }
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 20) { res.writeHead(413); res.end(); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      let body;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }); res.end('invalid_payload'); return;
      }
      const m = { receivedAt: Date.now(), path: req.url ?? '/', authorization: req.headers.authorization ?? null, body, summary: summarize(body) };
      messages.push(m);
      if (messages.length > 10000) messages.shift();
      if (opts.out) appendFileSync(opts.out, JSON.stringify(m) + '\n');
      opts.log?.(`noc-receiver: ${m.summary.status ?? '?'} ${m.summary.alertname ?? '?'} ${m.summary.site ?? ''}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      for (const w of waiters) w();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 9888, host, () => resolve(undefined));
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://${host}:${addr.port}`;
  return {
    url,
    port: addr.port,
    messages,
    /**
     * Resolve with the first message (received at or after `since`) matching
     * `pred`, or reject after timeoutMs.
     * @param {(m: typeof messages[number]) => boolean} pred
     * @param {number} timeoutMs
     * @param {number} [since]
     */
    waitFor(pred, timeoutMs, since = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = messages.find((x) => x.receivedAt >= since && pred(x));
          if (m) { waiters.delete(check); clearTimeout(t); resolve(m); return true; }
          return false;
        };
        const t = setTimeout(() => { waiters.delete(check); reject(new Error(`no matching message within ${timeoutMs} ms`)); }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    close() { return new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve(undefined)); }); },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
  const r = await startNocReceiver({
    host: arg('host', '127.0.0.1'), port: Number(arg('port', '9888')), out: arg('out', undefined),
    log: (l) => console.log(l),
  });
  console.log(`noc-receiver listening on ${r.url} (Slack-compatible; GET ${r.url}/messages)`);
  const stop = () => { r.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

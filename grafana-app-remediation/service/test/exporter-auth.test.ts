// Issue 12 (finding 2, "the whole closed loop with TLS and basic auth on"):
// the service reads an exporter that requires credentials with its [read]
// token (exporter.bearer_token_file). The whole path over https is proven by
// closed-loop.mjs --tls; this is the unit-sized check of the credential.
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ExporterClient } from '../src/exporter-client.js';
import { loadConfig } from '../src/config.js';
import { secrets, tmpDir } from './helpers.js';

const TOKEN = 'read-token-0123456789abcdef';
let server: Server;
let url = '';
const seen: string[] = [];

beforeAll(async () => {
  // An exporter whose web config names credentials: anonymous reads are 401.
  server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('{"error":"unauthorized"}');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ sites: [{ name: 'site-01', valid: true, cmdModules: 2, capacityBps: 8e11 }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('exporter.bearer_token_file: the [read] token is sent on GET /api/v1/sites; without it the read is refused', async () => {
  const dir = tmpDir('rem-exp-auth-');
  const s = secrets(dir);
  const file = join(dir, 'exporter_read_token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  const { config } = loadConfig({ env: {}, overrides: {
    webhook: { bearer_token_file: s.webhookTokenFile }, mcp: { url: 'http://127.0.0.1:9', client_secret_file: s.mcpSecretFile },
    exporter: { url, bearer_token_file: file },
  } });
  expect(config.exporter.bearer_token_file).toBe(file);

  const anon = new ExporterClient(url, 1000);
  await expect(anon.sites()).rejects.toThrow(/answered 401/);
  anon.close();
  const withToken = new ExporterClient(url, 1000, TOKEN);
  const sites = await withToken.sites();
  withToken.close();
  expect(sites.get('site-01')?.cmdModules).toBe(2);
  expect(seen).toEqual(['', `Bearer ${TOKEN}`]);
});

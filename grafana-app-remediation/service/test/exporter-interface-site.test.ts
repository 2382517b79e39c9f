// Issue 17 (interface source): a site the kernel module fills from a real
// network interface (ifaces=) has no CMD module fields; the exporter flags it
// (interface: true, remediable: false) and the service keeps it as a known
// site that only dry-runs (policy reason interface), instead of dropping it
// as unknown.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExporterClient } from '../src/exporter-client.js';

let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ sites: [
      { name: 'Dallas', valid: true, cmdModules: null, cmdModulesMax: null, capacityBps: 1e10, linkState: 'up', fault: 'unknown', interface: true, remediable: false },
      { name: 'Stone', valid: true, cmdModules: null, capacityBps: 1e11 },
      { name: 'MicrosoftDC', valid: true, cmdModules: 2, cmdModulesMax: 16, capacityBps: 8e11 },
    ] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('an interface site is known, flagged interface, with NaN module counts; a site missing module fields without the flag is still dropped', async () => {
  const c = new ExporterClient(url, 1000);
  const sites = await c.sites();
  c.close();
  expect(sites.get('Dallas')).toMatchObject({ interface: true, cmdModules: NaN, cmdModulesMax: NaN, capacityBps: 1e10 });
  expect(sites.has('Stone')).toBe(false);
  expect(sites.get('MicrosoftDC')).toMatchObject({ cmdModules: 2, cmdModulesMax: 16 });
  expect(sites.get('MicrosoftDC')!.interface).toBeUndefined();
});

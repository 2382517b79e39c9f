// The wrong-password flood of bench/auth-flood.mjs, in its own process so the
// scraper's latency is the exporter's and not this loop's: FLOODERS clients
// send GET /metrics with a wrong basic-auth password, each as soon as the last
// was answered, on a new connection from one of ADDRESSES loopback source
// addresses (127.0.0.2..). Runs until SIGTERM, then prints
// {"requests": n, "statuses": {...}} on stdout and exits.
//
//   node bench/lib/auth-flooder.mjs PORT FLOODERS ADDRESSES
import http from 'node:http';

const [port, FLOODERS, ADDRESSES] = process.argv.slice(2).map(Number);
const flood = { requests: 0, statuses: {} };
let flooding = true;
const auth = (p) => `Basic ${Buffer.from(`prometheus:${p}`).toString('base64')}`;

function get(headers, localAddress) {
  return new Promise((resolve) => {
    const r = http.request({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    r.on('error', () => resolve(0));
    r.end();
  });
}

async function flooder(k) {
  for (let i = 0; flooding; i++) {
    const status = await get({ Authorization: auth(`wrong-${k}-${i}`) }, `127.0.0.${2 + ((k + i * FLOODERS) % ADDRESSES)}`);
    flood.requests++;
    flood.statuses[status] = (flood.statuses[status] ?? 0) + 1;
  }
}

const all = Array.from({ length: FLOODERS }, (_, k) => flooder(k));
process.on('SIGTERM', async () => {
  flooding = false;
  await Promise.all(all);
  process.stdout.write(JSON.stringify(flood) + '\n', () => process.exit(0));
});

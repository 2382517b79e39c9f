// The CLI as its own process: SIGTERM stops accepting, finishes the request
// in flight, stops the simulator it started, exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { buildCli, startCli } from './helpers/build-cli.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('optifiber exporter process', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  test('SIGTERM: in-flight request finished, new connections refused, simulator stopped, exit 0', async () => {
    const cli = buildCli();
    const started = await startCli(cli, ['--simulator.nsites=10000', '--sampler.interval=1s', '--log.level=info']);
    child = started.child;
    const { base, logs } = started;
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    // wait for the first tick with all sites
    for (let i = 0; i < 100; i++) {
      const body = await new Promise<string>((ok, fail) => http.get(`${base}/metrics`, (r) => { let s = ''; r.on('data', (c) => (s += c)); r.on('end', () => ok(s)); }).on('error', fail));
      if (body.includes('\noptifiber_sites 10000\n')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const simPid = logs.find((l) => l.msg === 'simulator ready')!.pid as number;
    expect(alive(simPid)).toBe(true);

    // A large /metrics response whose client reads nothing yet: in flight.
    const agent = new http.Agent({ keepAlive: true });
    const res = await new Promise<http.IncomingMessage>((ok, fail) => http.get(`${base}/metrics`, { agent }, ok).on('error', fail));
    res.pause();
    const length = Number(res.headers['content-length']);
    expect(length).toBeGreaterThan(10_000_000); // more than loopback socket buffers hold

    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 700));
    expect(child.exitCode).toBeNull(); // still finishing the request
    const refused = await new Promise<string>((ok) => http.get(`${base}/-/healthy`, { agent: false }, () => ok('answered')).on('error', (e: NodeJS.ErrnoException) => ok(e.code ?? 'error')));
    expect(refused).toBe('ECONNREFUSED');

    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => res.on('end', r));
    res.resume(); // an explicit pause() is not undone by adding a 'data' listener
    await ended;
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(length);
    expect(body.toString().endsWith('optifiber_scrape_collector_success{collector="process"} 1\n')).toBe(true);

    expect(await exited).toBe(0);
    expect(alive(simPid)).toBe(false);
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: no new connections, finishing in-flight requests', 'simulator stopped', 'stopped']));
    agent.destroy();
  }, 60_000);

  test('invalid configuration: exit 2 with the offending key on stderr, nothing started', async () => {
    const cli = buildCli();
    child = spawn(process.execPath, [cli, 'exporter', '--sampler.interval=10ms', '--bogus=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err).toContain('--sampler.interval: must be at least 100 ms');
    expect(err).toContain('--bogus: unknown flag');
  }, 30_000);
});

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { spawnSync } from 'node:child_process';
import { chooseSource, findSimulatorBinary, SimulatorProcess } from '../src/sim/supervisor.js';
import { buildCli, simBinary } from './helpers/build-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'optifiber-supervisor-test-'));
const fakeKernel = join(dir, 'proc', 'myinfo');
const missingKernel = join(dir, 'nope', 'myinfo');
const cfg = (argv: string[]) => loadConfig({ argv, env: {} }).config;

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('source selection order', () => {
  beforeAll(() => {
    mkdirSync(join(dir, 'proc'));
    writeFileSync(fakeKernel, '');
  });

  test('the kernel module when its file exists', async () => {
    const s = await chooseSource(cfg([`--source.kernel-path=${fakeKernel}`]));
    expect(s).toMatchObject({ kind: 'kernel', path: fakeKernel, controlPath: join(dir, 'proc', 'cmd_control') });
    expect(s.simulator).toBeUndefined();
  });

  test('an explicit path wins over the kernel module; the kernel path itself is kind kernel', async () => {
    const f = join(dir, 'pages');
    const s = await chooseSource(cfg([`--source.kernel-path=${fakeKernel}`, `--source.path=${f}`]));
    expect(s).toMatchObject({ kind: 'file', path: f });
    const k = await chooseSource(cfg([`--source.kernel-path=${fakeKernel}`, `--source.path=${fakeKernel}`]));
    expect(k.kind).toBe('kernel');
  });

  test('forced kinds', async () => {
    expect((await chooseSource(cfg([`--source.kernel-path=${missingKernel}`, '--source.kind=kernel']))).kind).toBe('kernel');
    expect((await chooseSource(cfg(['--source.kind=file', '--source.path=/x']))).path).toBe('/x');
    expect((await chooseSource(cfg(['--source.kind=kernel', '--control.socket=/y']))).controlPath).toBe('/y');
  });

  test('neither: the embedded simulator is started, and stopped', async () => {
    const s = await chooseSource(cfg(['--source.kind=auto', `--source.kernel-path=${missingKernel}`, '--simulator.nsites=3', '--simulator.tick-ms=100']));
    try {
      expect(s.kind).toBe('userspace');
      expect(s.reason).toMatch(/simulator/);
      expect(existsSync(s.path)).toBe(true);
      expect(s.controlPath).toMatch(/cmd_control$/);
      expect(s.simulator!.deadReason()).toBeUndefined();
    } finally {
      await s.simulator!.stop();
    }
    expect(s.simulator!.deadReason()).toBe('simulator stopped');
    expect(existsSync(s.path)).toBe(false); // our temp dir is removed
  });
});

describe('simulator supervision', () => {
  test('restarted with backoff after it dies, said in the log', async () => {
    const logs: { level: string; msg: string }[] = [];
    const log = {
      debug() {},
      info: (_f: object, msg: string) => logs.push({ level: 'info', msg }),
      warn: (_f: object, msg: string) => logs.push({ level: 'warn', msg }),
      error: (_f: object, msg: string) => logs.push({ level: 'error', msg }),
      child() {
        return log;
      },
    };
    const sim = new SimulatorProcess(cfg(['--simulator.nsites=2', '--simulator.tick-ms=100']).simulator, log);
    await sim.start();
    try {
      const pid1 = sim.pid!;
      process.kill(pid1, 'SIGKILL');
      await waitFor(() => sim.deadReason() !== undefined, 2000);
      expect(sim.deadReason()).toMatch(/not running/);
      await waitFor(() => sim.pid !== pid1 && sim.deadReason() === undefined && logs.filter((l) => l.msg === 'simulator ready').length === 2, 5000);
      expect(logs.some((l) => l.level === 'warn' && l.msg === 'simulator died; restarting it')).toBe(true);
      expect(sim.restarts).toBe(1);
    } finally {
      await sim.stop();
    }
  });

  test('a missing binary is a clear error', () => {
    expect(() => new SimulatorProcess(cfg(['--simulator.binary=/nonexistent/optifiber-sim']).simulator)).toThrow(
      /optifiber-sim not found at \/nonexistent\/optifiber-sim: build it with `make -C kernel sim`/,
    );
    expect(findSimulatorBinary()).toMatch(/kernel\/build\/optifiber-sim$/);
  });

  test('the simulator does not outlive a crashing exporter', () => {
    const cli = buildCli();
    const sup = cli.replace(/cli\.js$/, 'sim/supervisor.js');
    const script = `
      import { SimulatorProcess } from ${JSON.stringify(sup)};
      const sim = new SimulatorProcess({ binary: ${JSON.stringify(simBinary)}, nsites: 2 });
      await sim.start();
      console.log(JSON.stringify({ pid: sim.pid, dir: sim.dir }));
      throw new Error('crash');
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    const { pid, dir: simDir } = JSON.parse(r.stdout.trim().split('\n')[0]!) as { pid: number; dir: string };
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      try {
        process.kill(pid, 0);
        spawnSync('sleep', ['0.05']);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    expect(existsSync(simDir)).toBe(false);
  });
});

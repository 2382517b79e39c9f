// Chooses the page source and, when it is the embedded user-space
// simulator, starts and supervises it: restart with exponential backoff
// when it dies, said in the log every time, stopped when we exit.
//
// source.kind defaults to kernel: without the module the exporter serves
// optifiber_source_up 0 and attaches when it appears; simulated data only
// with kind userspace (npm start) or auto, and it is labelled
// (optifiber_source_simulated, "simulated" in the API).
//
// Order (source.kind=auto): an explicit source.path (kind "kernel" when it
// is the kernel path, else "file"), else the kernel module's
// /proc/optifiber/myinfo when it exists, else the simulator. An explicit
// path wins over auto-detection so that what the operator typed is what is
// read, as with node_exporter's --path.* flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { SourceKind } from '../sampler/types.js';

export interface SourceChoice {
  kind: SourceKind;
  path: string;
  /** cmd_control for the control path, when known. */
  controlPath?: string;
  simulator?: SimulatorProcess;
  /** Why this source was chosen, for the log. */
  reason: string;
}

/** kernel/build/optifiber-sim, found by walking up from this module (src/ or dist/). */
export function findSimulatorBinary(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const p = join(dir, 'kernel', 'build', 'optifiber-sim');
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export async function chooseSource(config: Config, log: Logger = silentLogger): Promise<SourceChoice> {
  const { kind, path, kernel_path: kernelPath } = config.source;
  const kernelControl = join(dirname(kernelPath), 'cmd_control');
  const withControl = (c: SourceChoice): SourceChoice => {
    const ctl = config.control.socket ?? c.controlPath;
    if (ctl !== undefined) c.controlPath = ctl;
    return c;
  };
  const replaying = config.replay.file !== undefined;
  // --replay plays through the user-space page writer: the default kind (kernel) gives way to it
  if (replaying && ((kind !== 'auto' && kind !== 'userspace' && kind !== 'kernel') || path !== undefined))
    throw new Error(`--replay plays through the user-space page writer: it cannot be combined with ${path !== undefined ? 'source.path' : `source.kind=${kind}`}`);
  // An explicit source.path that is not the kernel's is a file, whatever the (default) kind: what the operator typed is what is read.
  if (!replaying && kind === 'kernel' && path !== undefined && resolve(path) !== resolve(kernelPath)) return withControl({ kind: 'file', path, reason: 'source.path given' });
  if (!replaying && kind === 'kernel') return withControl({ kind: 'kernel', path: kernelPath, controlPath: kernelControl, reason: 'source.kind=kernel (the default)' });
  if (kind === 'file') return withControl({ kind: 'file', path: path!, reason: 'source.kind=file' });
  if (kind === 'auto' && path !== undefined) {
    if (resolve(path) === resolve(kernelPath))
      return withControl({ kind: 'kernel', path, controlPath: kernelControl, reason: 'source.path is the kernel path' });
    return withControl({ kind: 'file', path, reason: 'source.path given' });
  }
  if (kind === 'auto' && existsSync(kernelPath) && !replaying)
    return withControl({ kind: 'kernel', path: kernelPath, controlPath: kernelControl, reason: `${kernelPath} exists (kernel module loaded)` });
  const sim = new SimulatorProcess(config.simulator, log, undefined, config.replay);
  const ready = await sim.start();
  return withControl({
    kind: 'userspace',
    path: ready.pages,
    controlPath: ready.control,
    simulator: sim,
    reason: replaying
      ? `replay of ${config.replay.file} through the user-space page writer`
      : kind === 'userspace' ? 'source.kind=userspace' : `no ${kernelPath} and no source.path: embedded user-space simulator`,
  });
}

export interface SimReady {
  pages: string;
  control: string;
}

export class SimulatorProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private startedAt = 0;
  private ownDir: string | undefined;
  private ready: SimReady | undefined;
  readonly binary: string;
  readonly dir: string;
  restarts = 0;

  constructor(
    private readonly cfg: Config['simulator'],
    private readonly log: Logger = silentLogger,
    private readonly readyTimeoutMs = 15_000,
    /** A recording to play instead of the simulation (same binary, same page writer). */
    private readonly replay?: Config['replay'],
  ) {
    const bin = cfg.binary ?? findSimulatorBinary();
    if (bin === undefined || !existsSync(bin))
      throw new Error(
        `optifiber-sim not found${bin ? ` at ${bin}` : ''}: build it with \`make -C kernel sim\` or pass --simulator.binary`,
      );
    this.binary = bin;
    if (cfg.dir !== undefined) this.dir = cfg.dir;
    else this.dir = this.ownDir = mkdtempSync(join(tmpdir(), 'optifiber-sim-'));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
  get paths(): SimReady | undefined {
    return this.ready;
  }

  /** A reason when the simulator is known not to be running (the sampler reports the source down). */
  deadReason(): string | undefined {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return undefined;
    return this.stopping ? 'simulator stopped' : `simulator not running (restart ${this.restarts} pending)`;
  }

  args(): string[] {
    const c = this.cfg;
    // --parent-pid: the kernel stops the simulator if we die without stopping it (SIGKILL).
    const a = ['run', '--dir', this.dir, '--parent-pid', String(process.pid)];
    const r = this.replay;
    if (r?.file !== undefined) {
      // the recording brings its own sites and times: only the tick is ours
      a.push('--replay', r.file);
      if (r.speed !== undefined) a.push('--speed', String(r.speed));
      if (r.site !== undefined) a.push('--replay-site', r.site);
      if (r.value_scale !== undefined) a.push('--replay-value-scale', String(r.value_scale));
      if (r.loop) a.push('--loop');
      if (r.delay !== undefined) a.push('--replay-delay-ms', String(r.delay));
      if (c.tick_ms !== undefined) a.push('--tick-ms', String(c.tick_ms));
      return a;
    }
    if (c.sites !== undefined) a.push('--sites', c.sites.join(','));
    else if (c.nsites !== undefined) a.push('--nsites', String(c.nsites));
    if (c.seed !== undefined) a.push('--seed', String(c.seed));
    if (c.tick_ms !== undefined) a.push('--tick-ms', String(c.tick_ms));
    if (c.time_scale !== undefined) a.push('--time-scale', String(c.time_scale));
    if (c.fault_rate !== undefined) a.push('--fault-rate', String(c.fault_rate));
    return a;
  }

  start(): Promise<SimReady> {
    this.stopping = false;
    return this.spawnOnce();
  }

  private spawnOnce(): Promise<SimReady> {
    const args = this.args();
    this.log.info({ binary: this.binary, args }, 'starting the embedded user-space simulator (no kernel module in use)');
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // However this process ends (crash, uncaught exception, process.exit), the simulator goes too.
    const reap = () => {
      child.kill('SIGTERM');
      if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    };
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    this.startedAt = Date.now();
    const stderr = createInterface({ input: child.stderr! });
    stderr.on('line', (line) => this.log.info({ pid: child.pid, line }, 'simulator stderr'));
    return new Promise<SimReady>((resolveReady, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        child.kill('SIGKILL');
        reject(new Error(`simulator did not report ready within ${this.readyTimeoutMs} ms`));
      }, this.readyTimeoutMs);
      const stdout = createInterface({ input: child.stdout! });
      stdout.on('line', (line) => {
        let ev: { event?: string; pages?: string; control?: string } | undefined;
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          this.log.debug({ line }, 'simulator stdout');
          return;
        }
        if (ev?.event === 'ready' && !done) {
          done = true;
          clearTimeout(timer);
          this.ready = { pages: ev.pages ?? join(this.dir, 'myinfo'), control: ev.control ?? join(this.dir, 'cmd_control') };
          this.log.info({ pid: child.pid, ...this.ready }, 'simulator ready');
          resolveReady(this.ready);
        }
      });
      child.on('error', (e) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          reject(e);
        }
      });
      child.on('exit', (code, signal) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          reject(new Error(`simulator exited before ready (code ${code}, signal ${signal})`));
          return;
        }
        if (this.stopping || this.child !== child) return;
        if (Date.now() - this.startedAt > 30_000) this.backoffMs = 250; // ran long enough: reset backoff
        const delay = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
        this.restarts++;
        this.log.warn({ pid: child.pid, code, signal, restartInMs: delay, restarts: this.restarts }, 'simulator died; restarting it');
        this.restartTimer = setTimeout(() => {
          this.restartTimer = undefined;
          if (this.stopping) return;
          this.spawnOnce().catch((e: unknown) => {
            this.log.error({ err: e }, 'simulator restart failed; will retry');
            this.child?.emit('exit', null, null); // schedule the next attempt
          });
        }, delay);
      });
    });
  }

  /**
   * No more restarts from now on. Called first thing on shutdown: a service
   * manager's SIGTERM often reaches the whole process group, simulator
   * included, and its exit must not be taken for a crash.
   */
  prepareStop(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
  }

  /** SIGTERM, then SIGKILL after graceMs. Removes the temp dir we created. */
  async stop(graceMs = 3000): Promise<void> {
    this.prepareStop();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
      this.log.info({ pid: child.pid }, 'simulator stopped');
    }
    if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
  }
}

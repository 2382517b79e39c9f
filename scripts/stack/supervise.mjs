// Process supervision for the local stack (`npm start`, scripts/stack/prometheus.mjs).
// Plain Node ESM, no dependencies.
//
// - Each part is its own process, restarted with exponential backoff
//   (0.5 s doubling to 10 s; back to 0.5 s once it stayed up 30 s) when it
//   exits unexpectedly.
// - stdout and stderr go straight to a log file descriptor, never through a
//   pipe to the launcher: a dead launcher cannot make a child die of EPIPE on
//   its next log line.
// - Children are started through `setpriv --pdeathsig SIGKILL` (util-linux)
//   when available: the kernel kills them when the launcher dies, even by
//   SIGKILL, so nothing is left orphaned on its port.
// - Ports are checked before the first start: a port already taken is an
//   error naming it, never a "started" with someone else's process behind it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

const SETPRIV = (() => {
  const r = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--pdeathsig') ? 'setpriv' : null;
})();

/** @param {number} port @param {string} [host] @returns {Promise<boolean>} */
export function portFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Throws one error naming every taken port. @param {{name: string, port: number}[]} parts */
export async function assertPortsFree(parts) {
  const taken = [];
  for (const p of parts) if (!(await portFree(p.port))) taken.push(`${p.name} port ${p.port}`);
  if (taken.length) throw new Error(`already in use: ${taken.join(', ')} (another process listens there: stop it first, e.g. a previous stack; see \`ss -ltnp\`)`);
}

/** @param {string} file @param {number} [n] */
export function tail(file, n = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts `bin args` and keeps it running.
 * @param {{name: string, bin: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv, say?: (m: string) => void, onStart?: (pid: number) => void}} o
 */
export function superviseProcess(o) {
  const say = o.say ?? (() => {});
  mkdirSync(dirname(o.logFile), { recursive: true });
  let stopping = false;
  let restarts = 0;
  let delay = 500;
  /** @type {import('node:child_process').ChildProcess} */
  let child;
  /** @type {Promise<{code: number|null, signal: string|null}>} */
  let exitP;
  /** @type {{code: number|null, signal: string|null} | null} */
  let firstExit = null;
  let resolveFirstExit = /** @type {(v: {code: number|null, signal: string|null}) => void} */ (() => {});
  const firstExitP = new Promise((r) => (resolveFirstExit = r));
  /** @type {NodeJS.Timeout | undefined} */
  let timer;

  const start = () => {
    const fd = openSync(o.logFile, 'a');
    const [bin, args] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', o.bin, ...o.args]] : [o.bin, o.args];
    child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: o.env ?? process.env });
    closeSync(fd);
    const startedAt = Date.now();
    const c = child;
    exitP = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
    if (c.pid) o.onStart?.(c.pid);
    c.once('error', (e) => say(`${o.name}: cannot start ${o.bin}: ${e.message}`));
    void exitP.then((x) => {
      if (!firstExit) {
        firstExit = x;
        resolveFirstExit(x);
      }
      if (stopping) return;
      if (Date.now() - startedAt > 30_000) delay = 500;
      restarts++;
      say(`${o.name} exited (${x.signal ?? `code ${x.code}`}); restarting in ${delay / 1000} s (restart ${restarts}; log ${o.logFile})`);
      timer = setTimeout(start, delay);
      delay = Math.min(10_000, delay * 2);
    });
  };
  start();
  return {
    get pid() {
      return child.pid ?? -1;
    },
    get restarts() {
      return restarts;
    },
    /** The first exit of the first process (start-up failure detection). */
    firstExit: firstExitP,
    get exitedBeforeReady() {
      return firstExit;
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitP;
      clearTimeout(t);
    },
  };
}

/**
 * Waits until `ready()` resolves truthy, or throws when the supervised
 * process exits first (with its log tail) or `timeoutMs` passes.
 * @param {ReturnType<typeof superviseProcess>} sup @param {() => Promise<unknown>} ready @param {number} timeoutMs @param {string} name @param {string} logFile
 */
export async function waitStarted(sup, ready, timeoutMs, name, logFile) {
  const deadline = Date.now() + timeoutMs;
  let last = 'not started';
  for (;;) {
    const x = sup.exitedBeforeReady;
    if (x) throw new Error(`${name} exited during start-up (${x.signal ?? `code ${x.code}`}):\n${tail(logFile)}`);
    try {
      if (await ready()) return;
    } catch (e) {
      last = /** @type {Error} */ (e).message;
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready after ${timeoutMs / 1000} s (${last}); see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** GET url answers 2xx within 1 s. @param {string} url */
export async function httpOk(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await r.arrayBuffer();
  return r.ok;
}

// Where control lines are written: the kernel module's /proc file or the
// user-space simulator's unix stream socket. Both report the kernel grammar's
// errors as ControlChannelError with an errno-style code.
import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';

export type ControlErrno = 'EINVAL' | 'ERANGE' | 'EOPNOTSUPP' | 'EACCES' | 'EPERM' | 'ENOENT' | 'EIO' | 'ETIMEDOUT' | 'ECONNREFUSED' | 'EPROTO';

export class ControlChannelError extends Error {
  constructor(
    readonly code: ControlErrno | string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlChannelError';
  }
}

export interface ControlChannel {
  /** e.g. "procfs:/proc/optifiber/cmd_control" (for logs and messages). */
  readonly describe: string;
  /** Writes one complete line ("site=X cmd_add=1\n"); resolves when accepted. */
  write(line: string): Promise<void>;
}

/**
 * /proc/optifiber/cmd_control: one write(2) per line, errno as the answer.
 * Needs root, or CAP_DAC_OVERRIDE + CAP_NET_ADMIN (see docs/security.md).
 */
export class ProcfsControlChannel implements ControlChannel {
  readonly describe: string;
  constructor(readonly path = '/proc/optifiber/cmd_control') {
    this.describe = `procfs:${path}`;
  }

  async write(line: string): Promise<void> {
    const buf = Buffer.from(line, 'utf8');
    let fh;
    try {
      // O_WRONLY without O_CREAT/O_TRUNC: never create a regular file by mistake.
      fh = await open(this.path, fsConstants.O_WRONLY);
      const { bytesWritten } = await fh.write(buf, 0, buf.length);
      if (bytesWritten !== buf.length) throw new ControlChannelError('EIO', `short write to ${this.path}: ${bytesWritten} of ${buf.length} bytes`);
    } catch (e) {
      if (e instanceof ControlChannelError) throw e;
      // errno 95 is EOPNOTSUPP to the kernel and ENOTSUP to libuv: one name here
      const raw = (e as NodeJS.ErrnoException).code ?? 'EIO';
      const code = raw === 'ENOTSUP' ? 'EOPNOTSUPP' : raw;
      throw new ControlChannelError(code, procfsMessage(code, this.path));
    } finally {
      await fh?.close().catch(() => {});
    }
  }
}

function procfsMessage(code: string, path: string): string {
  switch (code) {
    case 'EINVAL':
      return `the kernel rejected the command (EINVAL from ${path})`;
    case 'ERANGE':
      return `the kernel refused the command: it would take cmd_modules outside 1..cmd_modules_max (ERANGE from ${path})`;
    case 'EOPNOTSUPP':
      return `the kernel refused the command: the site is read from a network interface (ifaces=), which has no CMD modules to add or remove and takes no injected faults (EOPNOTSUPP from ${path})`;
    case 'EACCES':
    case 'EPERM':
      return `the exporter may not write ${path} (${code}): it needs root (or CAP_DAC_OVERRIDE and CAP_NET_ADMIN), or use a privileged helper socket; see docs/security.md`;
    case 'ENOENT':
      return `${path} does not exist: is the optifiber module loaded?`;
    default:
      return `writing ${path} failed (${code})`;
  }
}

/**
 * The user-space simulator's DIR/cmd_control socket: one connection per
 * command, one line out, one line back ("ok" or "error EINVAL: message").
 */
export class UnixSocketControlChannel implements ControlChannel {
  readonly describe: string;
  constructor(
    readonly path: string,
    readonly timeoutMs = 3000,
  ) {
    this.describe = `unix:${path}`;
  }

  write(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection({ path: this.path });
      let reply = '';
      let done = false;
      const finish = (err?: ControlChannelError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new ControlChannelError('ETIMEDOUT', `no reply from the simulator at ${this.path} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.write(line));
      sock.on('data', (chunk: string) => {
        reply += chunk;
        if (reply.length > 4096) {
          finish(new ControlChannelError('EPROTO', `overlong reply from the simulator at ${this.path}`));
          return;
        }
        const nl = reply.indexOf('\n');
        if (nl >= 0) finish(parseSimReply(reply.slice(0, nl), this.path));
      });
      sock.on('end', () => finish(new ControlChannelError('EPROTO', `the simulator at ${this.path} closed the connection without a reply`)));
      sock.on('error', (e: NodeJS.ErrnoException) => {
        const code = e.code ?? 'EIO';
        const msg =
          code === 'ENOENT' || code === 'ECONNREFUSED'
            ? `the simulator's control socket ${this.path} is not accepting connections (${code}): is the simulator running?`
            : code === 'EACCES'
              ? `the exporter may not connect to ${this.path} (EACCES): run it as the simulator's user`
              : `control socket ${this.path} failed (${code})`;
        finish(new ControlChannelError(code, msg));
      });
    });
  }
}

/** "ok" -> undefined; "error ERANGE: msg" -> ControlChannelError. */
export function parseSimReply(line: string, path: string): ControlChannelError | undefined {
  const l = line.replace(/\r$/, '');
  if (l === 'ok') return undefined;
  const m = /^error ([A-Z]+): ?(.*)$/.exec(l);
  if (m) return new ControlChannelError(m[1]!, m[2]!.slice(0, 200) || m[1]!);
  return new ControlChannelError('EPROTO', `unexpected reply from the simulator at ${path}: ${JSON.stringify(l.slice(0, 80))}`);
}

/** HTTP status for a channel error. */
export function statusForChannelError(code: string): number {
  switch (code) {
    case 'EINVAL':
      return 400; // the kernel's grammar disagrees with ours (or an unknown site)
    case 'ERANGE':
      return 409; // valid command, but it conflicts with the current state
    case 'EOPNOTSUPP':
      return 409; // a replayed recording or a real interface: nothing to command
    case 'EACCES':
    case 'EPERM':
      return 403;
    case 'ETIMEDOUT':
      return 504;
    default:
      return 502; // the channel itself failed: module not loaded, simulator gone
  }
}

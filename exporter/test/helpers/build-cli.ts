// Compiles exporter/src with swc into a temp dir (no type-check; tsc -b does
// that) so tests can spawn the real CLI as its own process without
// depending on a fresh exporter/dist.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as swc from '@swc/core';

const exporterDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = join(exporterDir, '..');
export const simBinary = join(repoRoot, 'kernel', 'build', 'optifiber-sim');

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Returns the path of the compiled cli.js. */
export function buildCli(): string {
  const out = mkdtempSync(join(tmpdir(), 'optifiber-cli-build-'));
  const src = join(exporterDir, 'src');
  for (const f of walk(src)) {
    const dest = join(out, 'dist', relative(src, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    const r = swc.transformFileSync(f, {
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
      module: { type: 'es6' },
      sourceMaps: false,
    });
    writeFileSync(dest, r.code);
  }
  cpSync(join(exporterDir, 'package.json'), join(out, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(out, 'node_modules'));
  return join(out, 'dist', 'cli.js');
}

export interface StartedCli {
  child: ChildProcess;
  /** http://127.0.0.1:PORT, as `optifiber start` printed it. */
  base: string;
  /** The JSON log lines on stderr so far ({raw} for others). */
  logs: Record<string, unknown>[];
}

/** Spawns `cli start` on a free port with the simulator and `args`; resolves once it printed its URLs. */
export async function startCli(cli: string, args: string[]): Promise<StartedCli> {
  const child = spawn(process.execPath, [cli, 'start', '--web.listen-address=127.0.0.1:0', `--simulator.binary=${simBinary}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    try {
      logs.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      logs.push({ raw: l });
    }
  });
  const base = await new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`no URL printed; logs: ${JSON.stringify(logs)}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /metrics\s+(http:\/\/[^/]+)\/metrics/.exec(l);
      if (m) {
        clearTimeout(t);
        ok(m[1]!);
      }
    });
  });
  return { child, base, logs };
}

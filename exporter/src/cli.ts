#!/usr/bin/env node
// The exporter's commands and the dispatcher every `optifiber` command goes
// through:
//
//   optifiber exporter [flags]   serve /metrics and the API from the pages
//   optifiber start [flags]      simulator + exporter, printing every URL (npm start)
//   optifiber top [flags]        live terminal view of the pages
//
// The user-facing `optifiber` (cli/, package @optifiber/cli) adds train and
// backtest (@optifiber/training) and report (@optifiber/reports) to this table
// and calls main() with it; `node exporter/dist/cli.js` (the container's
// entry point) runs the exporter's own commands only, so the exporter needs
// nothing of the packages built on it.
//
// Flags, OPTIFIBER_* environment variables and --config.file (YAML) share one
// key table (src/config/schema.ts); precedence flags > env > file > defaults.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, configHelp, loadConfig, type LoadOptions, type LoadResult } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger } from './log/logger.js';
import { buildInfo, startExporter } from './http/server.js';
import { chooseSource } from './sim/supervisor.js';
import { findRunningStack } from './top/stack.js';
import { runTop } from './top/top.js';

export interface CommandContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface Command {
  summary: string;
  run(ctx: CommandContext): Promise<number>;
}

/** SIGHUP handlers (the AI issue registers model reload here). */
export const sighupHandlers: (() => void | Promise<void>)[] = [];

/**
 * `--replay FILE` and `--speed X` (as `optifiber start --replay FILE --speed 60`
 * and `npm start -- --replay ...` spell them) are the keys replay.file and
 * replay.speed.
 */
export function replayAliases(argv: string[]): string[] {
  const alias: Record<string, string> = { '--replay': '--replay.file', '--speed': '--replay.speed' };
  return argv.map((a) => {
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    const to = alias[flag];
    return to === undefined ? a : to + (eq >= 0 ? a.slice(eq) : '');
  });
}

function load(ctx: CommandContext, defaults?: LoadOptions['defaults']): LoadResult | number {
  try {
    const r = loadConfig({ argv: replayAliases(ctx.argv), env: ctx.env, booleanFlags: ['--help'], ...(defaults ? { defaults } : {}) });
    if (r.switches.has('--help')) {
      ctx.stdout(configHelp() + '\n');
      return 0;
    }
    if (r.positional.length > 0) {
      ctx.stderr(`optifiber: unexpected argument ${JSON.stringify(r.positional[0])}\n`);
      return 2;
    }
    return r;
  } catch (e) {
    if (e instanceof ConfigError) {
      ctx.stderr(`optifiber: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function serve(ctx: CommandContext, defaults: LoadOptions['defaults'], printUrls: boolean): Promise<number> {
  const r = load(ctx, defaults);
  if (typeof r === 'number') return r;
  const config: Config = r.config;
  const log = createLogger({ level: config.log.level });
  for (const w of r.warnings) log.warn({}, w);
  const build = buildInfo();
  log.info({ ...build, configFile: r.configFile }, 'starting optifiber exporter');
  let handle;
  try {
    handle = await startExporter(config, log);
  } catch (e) {
    log.error({ err: e }, 'startup failed');
    return 1;
  }
  sighupHandlers.push(() => handle.reloadModels(), () => handle.reloadWebConfig());
  if (printUrls) {
    const u = handle.url;
    const lines = [
      `OptiFiber is running (source: ${handle.source.kind} ${handle.source.path})`,
      `  metrics        ${u}/metrics`,
      `  sites          ${u}/api/v1/sites`,
      `  snapshot       ${u}/api/v1/snapshot`,
      `  history        ${u}/api/v1/sites/{site}/history`,
      `  stream (SSE)   ${u}/api/v1/stream`,
      `  long poll      ${u}/api/v1/poll`,
      `  commands       ${u}/api/v1/sites/{site}/commands (POST, bearer token)`,
      `  healthy/ready  ${u}/-/healthy  ${u}/-/ready`,
    ];
    if (handle.source.controlPath) lines.push(`  cmd_control    ${handle.source.controlPath}`);
    lines.push('Ctrl-C to stop.');
    ctx.stdout(lines.join('\n') + '\n');
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
      handle
        .stop()
        .then(() => {
          log.info({}, 'stopped');
          resolve(0);
        })
        .catch((e: unknown) => {
          log.error({ err: e }, 'shutdown failed');
          resolve(1);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      if (sighupHandlers.length === 0) log.info({}, 'SIGHUP: reserved for model reload; no models loaded');
      for (const h of sighupHandlers) Promise.resolve(h()).catch((e: unknown) => log.error({ err: e }, 'SIGHUP handler failed'));
    });
  });
}

export const COMMANDS: Record<string, Command> = {
  exporter: {
    summary: 'serve Prometheus metrics and the API from the pages (kernel module, file or simulator)',
    run: (ctx) => serve(ctx, undefined, false),
  },
  start: {
    summary: 'start the user-space simulator and the exporter, printing every URL (npm start)',
    run: (ctx) => serve(ctx, { source: { kind: 'userspace' } }, true),
  },
  top: {
    summary: 'live terminal view of the pages (starts the simulator if there is no source)',
    run: async (ctx) => {
      // Logs would scribble over the table: warnings and errors only, unless asked.
      const r = load(ctx, { log: { level: 'warn' } });
      if (typeof r === 'number') return r;
      const log = createLogger({ level: r.config.log.level });
      let src;
      try {
        // Next to a running `npm start` (and no source given): that stack's pages.
        const stack = r.config.source.path === undefined ? findRunningStack() : null;
        if (stack) ctx.stderr(`optifiber top: showing the pages of the running stack (npm start, pid ${stack.pid}, exporter ${stack.exporterUrl}): ${stack.source.path}\n`);
        src = stack ? { path: stack.source.path, simulator: undefined } : await chooseSource(r.config, log);
      } catch (e) {
        ctx.stderr(`optifiber top: ${e instanceof Error ? e.message : String(e)}\n`);
        return 1;
      }
      try {
        await runTop({ source: src.path, intervalMs: r.config.sampler.interval });
      } finally {
        await src.simulator?.stop();
      }
      return 0;
    },
  },
};

function usage(commands: Record<string, Command>): string {
  const cmds = Object.entries(commands)
    .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
    .join('\n');
  return `usage: optifiber <command> [flags]\n\ncommands:\n${cmds}\n\noptifiber <command> --help lists the flags.\n`;
}

/** Runs `optifiber <argv[0]> ...` from `commands` (the exporter's own by default); returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, commands: Record<string, Command> = COMMANDS): Promise<number> {
  const ctx: CommandContext = {
    argv: argv.slice(1),
    env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  };
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout)(usage(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const b = buildInfo();
    ctx.stdout(`optifiber ${b.version} (revision ${b.revision}, node ${b.nodejsVersion})\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    ctx.stderr(`optifiber: unknown command ${JSON.stringify(name)}\n${usage(commands)}`);
    return 2;
  }
  return cmd.run(ctx);
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`optifiber: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

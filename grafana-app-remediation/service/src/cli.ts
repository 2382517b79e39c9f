#!/usr/bin/env node
// optifiber-remediation [--config.file=FILE] [--section.key=value ...] | --help
// Flags > OPTIFIBER_REMEDIATION_* environment > YAML file > defaults.
// Test hook: REMEDIATION_TEST_CRASH_AT=<point> (see engine.ts CRASH_POINTS).
import { ConfigError, configHelp, loadConfig } from './config.js';
import { startRemediationService } from './service.js';
import { createLogger } from '@optifiber/exporter/log/logger';

// Losing stdout/stderr (the launcher died, a closed pipe) must not kill the
// process on its next log line: EPIPE on them is ignored.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: optifiber-remediation [--config.file=FILE] [flags]\n\n${configHelp()}\n`);
    return 0;
  }
  let loaded;
  try {
    loaded = loadConfig({ argv, env: process.env });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`optifiber-remediation: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger({ level: loaded.config.log.level, base: { service: 'remediation' } });
  for (const w of loaded.warnings) log.warn({}, w);
  let svc;
  try {
    svc = await startRemediationService(loaded.config, { logger: log, ...(process.env.REMEDIATION_TEST_CRASH_AT ? { crashAt: process.env.REMEDIATION_TEST_CRASH_AT } : {}) });
  } catch (e) {
    process.stderr.write(`optifiber-remediation: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof ConfigError ? 2 : 1;
  }
  process.stdout.write(`remediation service listening on ${svc.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await svc.stop();
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`optifiber-remediation: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

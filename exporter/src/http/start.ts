// Start-up: the web config, control token and audit trail, the page
// source, the sampler, the models and the server, listening; and the handle
// that reloads and stops them. The CLI and the integration tests use it.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { ControlAudit } from '../control/audit.js';
import { loadControlToken } from '../control/auth.js';
import { ProcfsControlChannel, UnixSocketControlChannel, type ControlChannel } from '../control/channel.js';
import { standardRegistry } from '../metrics/catalogue.js';
import { enabledCollectors } from '../metrics/collector-table.js';
import { Sampler } from '../sampler/sampler.js';
import { chooseSource, type SourceChoice } from '../sim/supervisor.js';
import { PageReader } from '../source/page-reader.js';
import { createModels } from './models.js';
import { ExporterServer } from './server.js';
import { grantsControl, loadWebConfig, type WebConfig } from './web-config.js';

/** The simulator's cmd_control is a unix socket; the kernel's is a /proc file. */
function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}


export interface ExporterHandle {
  url: string;
  source: SourceChoice;
  sampler: Sampler;
  server: ExporterServer;
  /** Reload the models from models.dir (SIGHUP). Never throws. */
  reloadModels(): Promise<void>;
  /** Re-read --web.config.file now (SIGHUP); an invalid version is logged and the last good one kept. */
  reloadWebConfig(): void;
  /** Stop serving (graceful), the sampler and the simulator if we started it. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The persistent control audit trail, opened whenever some credential can
 * control (--control.token-file, or a web config granting the control scope)
 * or --control.audit-file is given: control.audit_file, else
 * control-audit.jsonl next to the file that grants control (the token file,
 * else the web config). Undefined when nothing can control.
 */
export function openControlAudit(config: Config, webConfig: WebConfig | undefined): ControlAudit | undefined {
  const grantedBy = config.control.token_file ?? (webConfig && grantsControl(webConfig) ? config.web.config_file : undefined);
  const file = config.control.audit_file ?? (grantedBy !== undefined ? resolve(dirname(grantedBy), 'control-audit.jsonl') : undefined);
  return file === undefined ? undefined : new ControlAudit(file);
}

interface Secrets {
  webConfig?: WebConfig;
  token?: string;
}

/** --web.config.file and --control.token-file, read and checked; their warnings logged. */
function loadSecrets(config: Config, log: Logger): Secrets {
  const out: Secrets = {};
  if (config.web.config_file !== undefined) {
    out.webConfig = loadWebConfig(config.web.config_file);
    for (const w of out.webConfig.warnings) log.warn({ file: config.web.config_file }, w);
  }
  if (config.control.token_file !== undefined) {
    const t = loadControlToken(config.control.token_file);
    for (const w of t.warnings) log.warn({ file: config.control.token_file }, w);
    out.token = t.token;
  }
  return out;
}

/** The audit trail, opened before anything listens: a trail that cannot be written stops the start instead of disabling anything silently. */
function openAuditLogged(config: Config, webConfig: WebConfig | undefined, log: Logger): ControlAudit | undefined {
  const audit = openControlAudit(config, webConfig);
  if (audit?.file !== undefined) {
    if (audit.skippedLines) log.warn({ file: audit.file, skipped: audit.skippedLines }, 'control audit trail: unreadable lines skipped (a torn last line after a crash)');
    log.info({ file: audit.file }, 'control audit trail');
  }
  return audit;
}

function createSampler(config: Config, source: SourceChoice, log: Logger): Sampler {
  return new Sampler({
    kind: source.kind,
    path: source.path,
    open: (p) => PageReader.open(p, { lazy: true, pathCheckIntervalMs: Math.min(1000, config.sampler.interval) }),
    intervalMs: config.sampler.interval,
    historyMs: config.sampler.history,
    historyMaxBytes: config.sampler.history_max_bytes,
    logger: log,
    ...(source.simulator ? { deadReason: () => source.simulator!.deadReason() } : {}),
  });
}

function controlChannel(source: SourceChoice): ControlChannel | undefined {
  if (source.controlPath === undefined) return undefined;
  return isSocket(source.controlPath) ? new UnixSocketControlChannel(source.controlPath) : new ProcfsControlChannel(source.controlPath);
}

/** Source + sampler + server, listening. */
export async function startExporter(config: Config, log: Logger): Promise<ExporterHandle> {
  const { webConfig, token } = loadSecrets(config, log);
  const audit = openAuditLogged(config, webConfig, log);
  const source = await chooseSource(config, log);
  log.info({ kind: source.kind, path: source.path, control: source.controlPath, reason: source.reason }, `page source: ${source.kind}`);
  try {
    const sampler = createSampler(config, source, log);
    const collectors = enabledCollectors(config.collector);
    log.info({ collectors }, 'enabled collectors');
    const metrics = standardRegistry(log, collectors);
    // Models run in the sampler's tick (a TickStage), never on a scrape.
    const models = await createModels(config, log, metrics);
    if (models.ai) sampler.addStage(models.ai.stage);
    const channel = controlChannel(source);
    const server = new ExporterServer({
      config,
      sampler,
      log,
      metrics,
      control: { ...(channel ? { channel } : {}), ...(token ? { token } : {}), ...(audit ? { audit } : {}) },
      ...(webConfig ? { webConfig, webConfigFile: config.web.config_file! } : {}),
    });
    const addr = await server.listen();
    sampler.start();
    log.info({ url: addr.url, control: token !== undefined || (webConfig !== undefined && grantsControl(webConfig)) ? 'enabled' : 'disabled' }, 'listening');
    let stopping: Promise<void> | undefined;
    return {
      url: addr.url,
      source,
      sampler,
      server,
      reloadModels: () => models.reload(),
      reloadWebConfig: () => void server.webConfigWatcher?.check(true),
      stop: (graceMs?: number) =>
        (stopping ??= (async () => {
          source.simulator?.prepareStop();
          await server.close(graceMs);
          await sampler.stop();
          await source.simulator?.stop();
          audit?.close();
          await server.closeAuth();
        })()),
    };
  } catch (e) {
    await source.simulator?.stop();
    throw e;
  }
}

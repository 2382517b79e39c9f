// The MCP simulator and the remediation service on loopback, in this process,
// for the end-to-end harnesses (e2e/harness.mjs, the app's e2e stack).
// `npm start` runs them as separate supervised processes (scripts/start.mjs). Secrets live in <varDir>/secrets (mode 0600),
// shared with scripts/stack/prometheus.mjs: remediation_token (Alertmanager ->
// service webhook bearer), remediation_api_token (Grafana plugin proxy ->
// service), mcp_client_secret (service -> MCP simulator).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMcpSimulator, type McpSimulator, type McpSimulatorOptions } from '@optifiber/mcp-simulator';
import { createLogger, type Logger } from '@optifiber/exporter/log/logger';
import { loadConfig, type ConfigInput } from './config.js';
import { startRemediationService, type RemediationService } from './service.js';

export interface RemediationStackOptions {
  /** State folder. Default <cwd>/var. */
  varDir?: string;
  secretsDir?: string;
  exporterUrl?: string; // http://127.0.0.1:9886
  /** Exporter control token file (cmd_add through the control API); without it MCP jobs fail at the exporter. */
  exporterTokenFile?: string;
  servicePort?: number; // 9887
  mcpPort?: number; // 9889
  /** Extra service configuration (same keys as the YAML file), e.g. {policy: {cooldown: '60s'}}. */
  service?: ConfigInput;
  /** Extra simulator options (delays, faults). */
  mcp?: Partial<McpSimulatorOptions>;
  logger?: Logger;
  quiet?: boolean;
  log?: (msg: string) => void;
}

export interface RemediationStack {
  urls: Record<string, string>;
  secrets: { webhookTokenFile: string; apiTokenFile: string; mcpSecretFile: string };
  service: RemediationService;
  mcp: McpSimulator;
  stop(): Promise<void>;
}

function secretFile(path: string, env?: string): string {
  if (env) writeFileSync(path, env + '\n', { mode: 0o600 });
  else if (!existsSync(path) || readFileSync(path, 'utf8').trim().length < 16) writeFileSync(path, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export async function startRemediationStack(o: RemediationStackOptions = {}): Promise<RemediationStack> {
  const varDir = resolve(o.varDir ?? 'var');
  const secretsDir = resolve(o.secretsDir ?? join(varDir, 'secrets'));
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(varDir, 'remediation'), { recursive: true });
  const webhookTokenFile = secretFile(join(secretsDir, 'remediation_token'), process.env.OPTIFIBER_REMEDIATION_TOKEN);
  const apiTokenFile = secretFile(join(secretsDir, 'remediation_api_token'));
  const mcpSecretFile = secretFile(join(secretsDir, 'mcp_client_secret'));
  const exporterUrl = o.exporterUrl ?? 'http://127.0.0.1:9886';
  const logger = o.logger ?? createLogger({ level: 'info', base: { service: 'remediation' } });
  const exporterToken = o.exporterTokenFile && existsSync(o.exporterTokenFile) ? readFileSync(o.exporterTokenFile, 'utf8').split('\n')[0]!.trim() : undefined;
  const mcp = await startMcpSimulator({
    port: o.mcpPort ?? 9889,
    clientSecret: readFileSync(mcpSecretFile, 'utf8').trim(),
    exporterUrl,
    ...(exporterToken ? { exporterToken } : {}),
    log: (f, m) => logger.debug({ component: 'mcp-sim', ...f }, m),
    ...o.mcp,
  });
  let service: RemediationService;
  try {
    const { config } = loadConfig({
      env: {},
      overrides: {
        ...o.service,
        web: { listen_address: `127.0.0.1:${o.servicePort ?? 9887}`, ...o.service?.web },
        webhook: { bearer_token_file: webhookTokenFile, ...o.service?.webhook },
        api: { proxy_token_file: apiTokenFile, ...o.service?.api },
        storage: { path: join(varDir, 'remediation', 'remediation.db'), ...o.service?.storage },
        mcp: { url: mcp.url, client_secret_file: mcpSecretFile, ...o.service?.mcp },
        exporter: { url: exporterUrl, ...o.service?.exporter },
      },
    });
    service = await startRemediationService(config, { logger });
  } catch (e) {
    await mcp.stop();
    throw e;
  }
  const urls = {
    'remediation webhook': `${service.url}/api/v1/alertmanager/webhook`,
    'remediation API': `${service.url}/api/v1/overview`,
    'remediation metrics': `${service.url}/metrics`,
    'MCP simulator': `${mcp.url}/api/v1/provisioning/jobs`,
  };
  if (!o.quiet) {
    const out = o.log ?? ((m: string) => process.stdout.write(m + '\n'));
    out(`Remediation (exporter ${exporterUrl}${exporterToken ? '' : ', NO control token: MCP jobs will fail at the exporter'}):`);
    for (const [k, v] of Object.entries(urls)) out(`  ${k.padEnd(20)} ${v}`);
  }
  return {
    urls,
    secrets: { webhookTokenFile, apiTokenFile, mcpSecretFile },
    service,
    mcp,
    stop: async () => {
      await service.stop();
      await mcp.stop();
    },
  };
}

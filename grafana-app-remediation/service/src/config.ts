// Configuration of the remediation service: defaults < YAML file
// (--config.file) < environment (OPTIFIBER_REMEDIATION_*) < flags <
// programmatic overrides, by the exporter's loader (exporter/src/config/
// loader.ts) over this key table: it gives the flag (--mcp.client-id), the
// env variable (OPTIFIBER_REMEDIATION_MCP_CLIENT_ID) and the YAML key
// (mcp: {client_id}). Every problem is collected with where it came from and
// reported at once. Secrets are files (readSecretFile).
import { z } from 'zod';
import {
  createConfigLoader,
  type ConfigInputOf,
  type ConfigOf,
  type KeyTable,
  type LoadOptions as GenericLoadOptions,
  type LoadResult,
} from '@optifiber/exporter/config/loader';
import { bool, duration, httpUrl, int, listenAddress, str } from '@optifiber/exporter/config/validators';

export { ConfigError } from '@optifiber/exporter/config/loader';
export { readSecretFile } from '@optifiber/exporter/config/secret';

const MCP_URL_EXAMPLE = 'http://127.0.0.1:9889';

export const KEYS = {
  web: {
    listen_address: { schema: listenAddress('127.0.0.1:9887'), default: '127.0.0.1:9887', help: 'address to listen on (host:port)' },
    max_request_bytes: { schema: int(1024, 16 * 1024 * 1024), default: 1024 * 1024, help: 'largest webhook/API body accepted (413 above)' },
    header_timeout: { schema: duration(100, 600_000), default: 10_000, help: 'a client must send its request headers within this time (slowloris)' },
    request_timeout: { schema: duration(100, 3_600_000), default: 30_000, help: 'a client must send its whole request within this time' },
    keep_alive_timeout: { schema: duration(100, 600_000), default: 5_000, help: 'idle keep-alive connections are closed after this time' },
    max_connections: { schema: int(1, 100_000), default: 256, help: 'at most this many open connections; further ones are closed at once' },
    config_file: { schema: str(), help: "web config in the exporter-toolkit format (the exporter's own loader): tls_server_config (HTTPS) and http_server_config.headers; basic_auth_users is refused (every route has its own credential)" },
  },
  webhook: {
    bearer_token_file: { schema: str(), help: 'file holding the bearer token Alertmanager sends (http_config.authorization.credentials_file)' },
    basic_auth_username: { schema: str(), help: 'basic-auth user name Alertmanager sends (with basic_auth_password_file)' },
    basic_auth_password_file: { schema: str(), help: 'file holding the basic-auth password' },
  },
  api: {
    proxy_token_file: { schema: str(), help: "file holding the token Grafana's plugin proxy sends; the role header is trusted only with it (absent = REST API disabled, 403)" },
  },
  storage: {
    path: { schema: str(), default: 'var/remediation/remediation.db', help: 'SQLite database (audit log, queue, actions, policy): the default, one service per file (a second one refuses to start)' },
    url: { schema: str(), help: 'PostgreSQL URL (postgres://user@host:port/db or postgres:///db?host=/socket/dir) instead of the SQLite file: several replicas share it (docs/remediation-api.md, Storage and replicas)' },
    password_file: { schema: str(), help: 'file holding the PostgreSQL password (with storage.url; never put it in the URL)' },
    lease: { schema: duration(1000, 600_000), default: 15_000, help: 'a replica renews its hold on the actions it runs every lease/3; one that stops renewing (killed) has its actions adopted after this long' },
    inbox_retention: { schema: duration(1000, 30 * 86_400_000), default: 86_400_000, help: 'processed webhook bodies are deleted after this long (and beyond the newest 1000)' },
    audit_retention: { schema: duration(60_000, 3650 * 86_400_000), default: 400 * 86_400_000, help: 'audit rows and finished episodes are deleted after this long (action rows are kept)' },
  },
  mcp: {
    url: { schema: httpUrl(MCP_URL_EXAMPLE), default: 'http://127.0.0.1:9889', help: 'WaveServer MCP north-bound API base URL' },
    client_id: { schema: str(), default: 'optifiber-remediation', help: 'OAuth2 client id (client credentials grant)' },
    client_secret_file: { schema: str(), help: 'file holding the OAuth2 client secret (required)' },
    ca_file: { schema: str(), help: "CA certificate(s), PEM, an https:// mcp.url is verified against instead of the system CAs (Prometheus' tls_config.ca_file)" },
    request_timeout: { schema: duration(50, 120_000), default: 2000, help: 'timeout of one MCP HTTP request' },
    backoff_base: { schema: duration(1, 60_000), default: 100, help: 'first retry delay (doubles, full jitter)' },
    backoff_max: { schema: duration(1, 600_000), default: 5000, help: 'largest retry delay' },
    submit_deadline: { schema: duration(1000, 86_400_000), default: 600_000, help: 'give up creating the job after this long (action failed)' },
    poll_interval: { schema: duration(10, 60_000), default: 250, help: 'job polling interval' },
    job_timeout: { schema: duration(1000, 86_400_000), default: 600_000, help: 'give up polling a job after this long (action failed)' },
  },
  exporter: {
    url: { schema: httpUrl(MCP_URL_EXAMPLE), default: 'http://127.0.0.1:9886', help: 'exporter base URL (GET /api/v1/sites for baselines and read-after-write verification)' },
    verify_timeout: { schema: duration(100, 3_600_000), default: 30_000, help: 'how long the new capacity may take to show in the pages' },
    request_timeout: { schema: duration(50, 60_000), default: 2000, help: 'timeout of one exporter request' },
    bearer_token_file: { schema: str(), help: "file holding a [read] bearer token of the exporter (its web config's bearer_tokens), sent on GET /api/v1/sites when the exporter requires credentials; an https:// URL is verified against the system CAs plus NODE_EXTRA_CA_CERTS" },
  },
  policy: {
    dry_run: { schema: bool(), default: false, help: 'initial policy: decide and audit, never call MCP' },
    approval_required: { schema: bool(), default: false, help: 'initial policy: every action waits for an Admin' },
    cooldown: { schema: duration(0, 30 * 86_400_000), default: 900_000, help: 'initial policy: minimum time between two actions on one site' },
    max_cmd_modules: { schema: int(1, 64), default: 16, help: "initial policy: never provision beyond this many CMD modules per site (also capped by the site's own maximum)" },
    rate_limit_actions: { schema: int(1, 100_000), default: 6, help: 'initial policy: at most this many actions in rate_limit_window, all sites together' },
    rate_limit_window: { schema: duration(1000, 30 * 86_400_000), default: 3_600_000, help: 'initial policy: the rate-limit window' },
    modules_per_action: { schema: int(1, 8), default: 1, help: 'initial policy: CMD modules added per action' },
    approval_timeout: { schema: duration(1000, 30 * 86_400_000), default: 3_600_000, help: 'initial policy: a pending approval expires after this long' },
  },
  grafana: {
    url: { schema: httpUrl(MCP_URL_EXAMPLE), help: 'Grafana base URL for annotations (optional)' },
    token_file: { schema: str(), help: 'file holding a Grafana service-account token (annotations:write)' },
  },
  log: {
    level: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', help: 'log level' },
  },
} satisfies KeyTable;

export type Config = ConfigOf<typeof KEYS>;
export type ConfigInput = ConfigInputOf<typeof KEYS>;

const loader = createConfigLoader({
  keys: KEYS,
  envPrefix: 'OPTIFIBER_REMEDIATION_',
  positional: false,
  check: (c) => {
    const problems: string[] = [];
    if (!c.webhook.bearer_token_file && !c.webhook.basic_auth_password_file)
      problems.push('webhook: no authentication configured: set webhook.bearer_token_file (--webhook.bearer-token-file) or webhook.basic_auth_username + webhook.basic_auth_password_file');
    if (!!c.webhook.basic_auth_username !== !!c.webhook.basic_auth_password_file) problems.push('webhook: basic_auth_username and basic_auth_password_file go together');
    if (!c.mcp.client_secret_file) problems.push('mcp.client_secret_file (--mcp.client-secret-file): required, the OAuth2 client secret for the MCP');
    if (!!c.grafana.url !== !!c.grafana.token_file) problems.push('grafana: url and token_file go together (annotations are optional: set both or neither)');
    if (c.mcp.backoff_base > c.mcp.backoff_max) problems.push('mcp.backoff_base must not exceed mcp.backoff_max');
    if (c.storage.url && !/^postgres(ql)?:\/\//.test(c.storage.url)) problems.push('storage.url must be a postgres:// (or postgresql://) URL; leave it unset for the SQLite file storage.path');
    if (c.storage.password_file && !c.storage.url) problems.push('storage.password_file goes with storage.url');
    if (c.storage.url && /^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(c.storage.url)) problems.push('storage.url: put the password in storage.password_file, not in the URL (it would show in process lists and logs)');
    return problems;
  },
});

export function configHelp(): string {
  return loader.help();
}

export type LoadOptions = Pick<GenericLoadOptions<typeof KEYS>, 'argv' | 'env' | 'overrides'>;

/** The environment is only read when given (env: process.env in the CLI). */
export function loadConfig(o: LoadOptions = {}): LoadResult<Config> {
  return loader.load({ ...o, env: o.env ?? {} });
}

export interface PrometheusStackOptions {
  /** Exporter base URL (scraped at /metrics). Default http://127.0.0.1:9886. */
  exporterUrl?: string;
  /** Project-local state folder. Default <repo>/var. */
  varDir?: string;
  /** Secrets folder. Default <varDir>/secrets. */
  secretsDir?: string;
  prometheusPort?: number; // default 9090
  alertmanagerPort?: number; // default 9093
  /** Remediation webhook URL. Default http://127.0.0.1:9887/api/v1/alertmanager/webhook. */
  remediationUrl?: string;
  /**
   * TLS on every hop (closed loop --tls): scrape the exporter over https with
   * basic auth, alerts and webhook over https verified against caFile, and
   * Prometheus/Alertmanager serving https with certFile/keyFile. Clients of
   * the returned https URLs need the CA (NODE_EXTRA_CA_CERTS).
   */
  tls?: { caFile: string; certFile: string; keyFile: string; scrapeUser: string; scrapePasswordFile: string; apiUser: string; apiPasswordFile: string; apiPasswordHash: string };
  /** Bearer token; default $OPTIFIBER_REMEDIATION_TOKEN, else the existing file, else random. */
  remediationToken?: string;
  /** Slack-compatible NOC webhook. Default http://127.0.0.1:9888/slack/noc. */
  nocWebhookUrl?: string;
  /** Max wait for the exporter target to be up. Default 60000. */
  timeoutMs?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Replay speed: every alert `for:` and Alertmanager group_wait/group_interval/repeat_interval divided by it. Default 1. */
  timeScale?: number;
  /** Scrape interval of the exporter and rule evaluation interval (Prometheus duration). Default: as checked in (1s). */
  interval?: string;
  quiet?: boolean;
  log?: (msg: string) => void;
  /** Called with the pid of each process started (restarts included). */
  onStart?: (name: "prometheus" | "alertmanager", pid: number) => void;
}

export interface PrometheusStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  urls: Record<string, string>;
  varDir: string;
  secretsDir: string;
  /** Headers for the returned URLs: the basic-auth user under `tls`, {} otherwise. */
  authHeaders: Record<string, string>;
  logs: { prometheus: string; alertmanager: string };
  pids: { prometheus: number; alertmanager: number };
  stop(): Promise<void>;
}

export const REPO_ROOT: string;
export const INSTALL_HINT: string;
export function findBinaries(): { prometheus: string | null; alertmanager: string | null; promtool: string | null; amtool: string | null };
export function renderPrometheusConfig(o: { exporterUrl: string; prometheusListen: string; alertmanagerListen: string; rulesGlob?: string }): string;
export function withTls(promText: string, amText: string, t: { caFile: string; scrapeUser: string; scrapePasswordFile: string; apiUser: string; apiPasswordFile: string }): { prom: string; am: string };
export function renderAlertmanagerConfig(o: { secretsDir: string; remediationUrl?: string }): string;
export function durationMs(d: string): number;
export function scaleDurations(text: string, keys: string[], factor: number, minMs?: number): string;
export function startPrometheusStack(opts?: PrometheusStackOptions): Promise<PrometheusStack | null>;

export interface PrometheusStackOptions {
  /** Exporter base URL (scraped at /metrics). Default http://127.0.0.1:9886. */
  exporterUrl?: string;
  /** Project-local state folder. Default <repo>/var. */
  varDir?: string;
  /** Secrets folder. Default <varDir>/secrets. */
  secretsDir?: string;
  prometheusPort?: number; // default 9090
  alertmanagerPort?: number; // default 9093
  /**
   * Alertmanager peers (default 1: one, no gossip). Two or more form a
   * cluster over loopback gossip and Prometheus sends to every one
   * (startAlertmanagerCluster). Their web ports: `alertmanagerPorts`, else
   * alertmanagerPort, +2, +4, ...
   */
  alertmanagers?: number;
  alertmanagerPorts?: number[];
  /** Gossip ports of the peers (default: each web port + 1). */
  clusterPorts?: number[];
  /** remote_write every sample (scraped and recorded) to this URL (VictoriaMetrics: http://127.0.0.1:8428/api/v1/write). */
  remoteWriteUrl?: string;
  /** Alertmanager --cluster.peer-timeout (default its own, 15s). */
  peerTimeout?: string;
  /** Remediation webhook URL. Default http://127.0.0.1:9887/api/v1/alertmanager/webhook. */
  remediationUrl?: string;
  /** One webhook_config per remediation replica (npm start -- --ha). */
  remediationUrls?: string[];
  /**
   * TLS on every hop (closed loop --tls): scrape the exporter over https with
   * basic auth, alerts and webhook over https verified against caFile, and
   * Prometheus/Alertmanager serving https with certFile/keyFile. Clients of
   * the returned https URLs need the CA (NODE_EXTRA_CA_CERTS).
   */
  tls?: { caFile: string; certFile: string; keyFile: string; scrapeUser: string; scrapePasswordFile: string; apiUser: string; apiPasswordFile: string; apiPasswordHash: string };
  /** Bearer token; default $OPTIFIBER_REMEDIATION_TOKEN, else the existing file, else random. */
  remediationToken?: string;
  /** Bases of the alerts' runbook and dashboard links (alertmanager/templates/links.tmpl). Default localLinks(). */
  links?: LinkBases;
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
  onStart?: (name: string, pid: number) => void;
}

export interface AlertmanagerClusterOptions {
  /** One web port per peer; one peer runs without gossip. */
  webPorts: number[];
  /** Gossip port per peer (default web port + 1). */
  clusterPorts?: number[];
  /** State folder: <dir>/alertmanager-N/{data,alertmanager.log} per peer (one peer: <dir>/{data,alertmanager.log}). */
  dir: string;
  /** Config text for every peer, or per peer index (0-based). */
  config: string | ((peer: number) => string);
  /** --cluster.peer-timeout (Alertmanager's default 15s). */
  peerTimeout?: string;
  /** --cluster.tls-config file: gossip over (mutual) TLS. */
  clusterTlsConfig?: string;
  bin?: string;
  scheme?: "http" | "https";
  /** Extra flags for every peer (e.g. --web.config.file). */
  webFlags?: string[];
  /** Headers of the readiness requests (basic auth under --web.config.file). */
  authHeaders?: Record<string, string>;
  logLevel?: "debug" | "info" | "warn" | "error";
  log?: (msg: string) => void;
  onStart?: (name: string, pid: number) => void;
  /** Wait until every peer is up and sees the others (default true). */
  wait?: boolean;
  timeoutMs?: number;
}

export interface AlertmanagerPeer {
  /** "alertmanager" alone, "alertmanager-1".."alertmanager-N" clustered. */
  name: string;
  /** Also its --web.external-url: the `externalURL` of every webhook it sends. */
  url: string;
  webPort: number;
  /** host:port of its gossip listener ('' alone). */
  clusterAddress: string;
  logFile: string;
  readonly pid: number;
}

export interface AlertmanagerCluster {
  peers: AlertmanagerPeer[];
  urls: string[];
  /** host:port of each peer (Prometheus' alerting targets). */
  listen: string[];
  /** '' when every peer is up and (clustered) sees all N members; else what is missing. Throws when a peer exited. */
  ready(): Promise<string>;
  stop(): Promise<void>;
}

export interface PrometheusStack {
  prometheusUrl: string;
  /** The first Alertmanager peer. */
  alertmanagerUrl: string;
  alertmanagerUrls: string[];
  alertmanagers: AlertmanagerPeer[];
  urls: Record<string, string>;
  varDir: string;
  secretsDir: string;
  /** The bases the notifications' links are built from (effectiveLinks(opts.links)). */
  links: Required<LinkBases>;
  /** Headers for the returned URLs: the basic-auth user under `tls`, {} otherwise. */
  authHeaders: Record<string, string>;
  logs: { prometheus: string; alertmanager: string; alertmanagers: string[] };
  /** prometheus and each Alertmanager peer by name. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

export const REPO_ROOT: string;
export const INSTALL_HINT: string;
export function findBinaries(): { prometheus: string | null; alertmanager: string | null; promtool: string | null; amtool: string | null };
export function renderPrometheusConfig(o: { exporterUrl: string; prometheusListen: string; alertmanagerListen: string | string[]; rulesGlob?: string }): string;
export function startAlertmanagerCluster(o: AlertmanagerClusterOptions): Promise<AlertmanagerCluster>;
export function withTls(promText: string, amText: string, t: { caFile: string; scrapeUser: string; scrapePasswordFile: string; apiUser: string; apiPasswordFile: string }): { prom: string; am: string };
export function renderAlertmanagerConfig(o: { secretsDir: string; remediationUrl?: string; remediationUrls?: string[]; templatesDir?: string }): string;
/** Where alert links point: Grafana's root URL and the published docs/runbooks (absolute, no trailing /). */
export interface LinkBases { grafanaUrl?: string; runbookUrl?: string }
export function localLinks(): Required<LinkBases>;
export function checkedInLinks(): Required<LinkBases>;
export function linkBase(what: string, url: string): string;
export function renderLinksTemplate(o?: LinkBases): string;
export function effectiveLinks(o: LinkBases): Required<LinkBases>;
export function writeAlertmanagerTemplates(dir: string, links?: LinkBases): string;
export function durationMs(d: string): number;
export function scaleDurations(text: string, keys: string[], factor: number, minMs?: number): string;
export function startPrometheusStack(opts?: PrometheusStackOptions): Promise<PrometheusStack | null>;

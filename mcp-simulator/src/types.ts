// The simulator's public types: jobs, options, stats and the running handle.
import type { Server } from 'node:http';
import type { FaultConfig, FaultInjector } from './faults.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';
export const OPERATIONS = ['cmd_add'] as const;

export interface Job {
  id: string;
  idempotencyKey: string;
  clientId: string;
  site: string;
  operation: 'cmd_add';
  count: number;
  reference?: string;
  state: JobState;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  result?: unknown;
  /** Previous externally visible state (for the poll_stale fault). */
  previous?: Omit<Job, 'previous'>;
}

export interface McpSimulatorOptions {
  host?: string; // 127.0.0.1
  port?: number; // 9889; 0 = any
  clientId?: string; // optifiber-remediation
  clientSecret?: string; // required for a real deployment; tests pass one
  tokenTtlMs?: number; // 3600000
  /** Exporter base URL; undefined = standalone (jobs succeed without applying). */
  exporterUrl?: string;
  exporterToken?: string;
  /** Timeout of the call to the exporter. Default 10000 ms. */
  exporterTimeoutMs?: number;
  /** [min, max] ms a job stays queued / running. Defaults [50, 150] / [100, 300]. */
  queuedMs?: [number, number];
  runningMs?: [number, number];
  /** Added latency of every API answer, [min, max] ms. Default [1, 5]. */
  responseDelayMs?: [number, number];
  /** How long a create_timeout* fault holds the request before dropping it. Default 30000. */
  hangMs?: number;
  faults?: Partial<FaultConfig>;
  /** Largest JSON body. Default 4096. */
  maxBodyBytes?: number;
  /** Slowloris bounds: request headers within headerTimeoutMs (10 s), at most maxConnections (256) open. */
  headerTimeoutMs?: number;
  maxConnections?: number;
  log?: LogFn;
  /** Serve https with this PEM certificate chain and key (a real MCP is https; clients verify with their CA). */
  tls?: { cert: string; key: string };
}

export type LogFn = (fields: Record<string, unknown>, msg: string) => void;

export interface McpSimulator {
  url: string;
  server: Server;
  jobs: Map<string, Job>;
  faults: FaultInjector;
  stats(): SimStats;
  reset(): void;
  stop(): Promise<void>;
}

export interface SimStats {
  tokensIssued: number;
  createRequests: number;
  jobsCreated: number;
  idempotentReplays: number;
  conflicts: number;
  pollRequests: number;
  applied: Record<string, number>;
  applyErrors: number;
  faultsInjected: Record<string, number>;
  jobsByState: Record<JobState, number>;
}

/** The counters reset() zeroes; faultsInjected and jobsByState are derived when read. */
export type Counters = Omit<SimStats, 'faultsInjected' | 'jobsByState'>;

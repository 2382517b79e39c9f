export interface PgCluster {
  url: string;
  port: number;
  dir: string;
  start(): void;
  stop(mode?: 'fast' | 'immediate' | 'smart'): void;
  freshDatabase(prefix?: string): Promise<string>;
  destroy(): void;
}
export function pgBinDir(): string | undefined;
export function startPgCluster(o?: { port?: number }): Promise<PgCluster>;

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const rel = (...p: string[]) => join(ROOT, ...p);
export const readText = (...p: string[]) => readFileSync(rel(...p), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readYaml = (...p: string[]): any => parse(readText(...p));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readJson = (...p: string[]): any => JSON.parse(readText(...p));

export function dashboardFiles(): string[] {
  return readdirSync(rel('provisioning', 'dashboards')).filter((f) => f.endsWith('.json')).sort();
}

/** grafana-<x>/src/plugin.json, or null while that plugin is not written yet. */
export function pluginJson(dir: string): { id: string; type: string; dependencies?: { grafanaDependency?: string } } | null {
  const p = rel(dir, 'src', 'plugin.json');
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Every panel, rows' nested panels included. */
export function panels(d: Json): Json[] {
  return (d.panels ?? []).flatMap((p: Json) => [p, ...(p.panels ?? [])]);
}

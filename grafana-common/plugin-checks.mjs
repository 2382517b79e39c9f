// Checks a Grafana plugin without a Grafana server: plugin.json against the
// documented rules (https://grafana.com/developers/plugin-tools/reference/plugin-json)
// and the built dist/ folder (AMD module whose only imports are shared modules).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GRAFANA_EXTERNALS, pluginPublicPath } from './webpack.plugin.mjs';

export const PLUGIN_ID_RE = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource)$/;
const SEMVER_RE = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const RANGE_RE = /^(>=|>|\^|~)?\s*\d+\.\d+\.\d+/;

/** @returns {string[]} problems (empty when valid) */
export function checkPluginJson(json, { dist = false } = {}) {
  const p = [];
  const req = (cond, msg) => { if (!cond) p.push(msg); };
  req(typeof json.id === 'string' && PLUGIN_ID_RE.test(json.id), `id ${JSON.stringify(json.id)} does not match ${PLUGIN_ID_RE}`);
  req(['app', 'panel', 'datasource', 'renderer', 'secretsmanager'].includes(json.type), `type ${JSON.stringify(json.type)} is not a plugin type`);
  req(typeof json.id === 'string' && json.id.endsWith(`-${json.type}`), `id must end with -${json.type}`);
  req(typeof json.name === 'string' && json.name.length > 0, 'name is required');
  const info = json.info;
  req(info && typeof info === 'object', 'info is required');
  if (info) {
    req(info.logos && typeof info.logos.small === 'string' && typeof info.logos.large === 'string', 'info.logos.small and info.logos.large are required');
    req(typeof info.version === 'string' && (SEMVER_RE.test(info.version) || (!dist && info.version === '%VERSION%')), `info.version ${JSON.stringify(info.version)} is not semver`);
    req(typeof info.updated === 'string' && (/^\d{4}-\d{2}-\d{2}$/.test(info.updated) || (!dist && info.updated === '%TODAY%')), `info.updated ${JSON.stringify(info.updated)} is not YYYY-MM-DD`);
    req(Array.isArray(info.keywords) && info.keywords.length > 0 && info.keywords.every((k) => typeof k === 'string'), 'info.keywords must be a non-empty string array');
    req(info.author && typeof info.author.name === 'string', 'info.author.name is required');
    req(typeof info.description === 'string' && info.description.length > 0, 'info.description is required');
    if (info.links) req(Array.isArray(info.links) && info.links.every((l) => l.name && l.url), 'info.links entries need name and url');
  }
  const dep = json.dependencies;
  req(dep && typeof dep.grafanaDependency === 'string' && RANGE_RE.test(dep.grafanaDependency), 'dependencies.grafanaDependency must be a semver range such as ">=11.0.0"');
  if (json.type === 'datasource') {
    req(json.metrics === true || json.logs === true || json.annotations === true, 'a datasource declares metrics/logs/annotations');
    for (const r of json.routes ?? []) {
      req(typeof r.path === 'string' && typeof r.url === 'string', 'each route needs path and url');
      // A datasource only reads; a route open to POST would let any Viewer
      // send writes with the route's credential (issue 12, finding 8).
      req(r.method === 'GET', `datasource route ${JSON.stringify(r.path)} must be GET-only ("method": "GET")`);
    }
  }
  return p;
}

/**
 * Parses the dependency list of an AMD module: `define(["a","b"], function ...)`.
 * @returns {string[] | null} null when the file is not an AMD define.
 */
export function amdDependencies(source) {
  const m = /^\s*(?:\/\*[\s\S]*?\*\/\s*)?define\(\s*(\[[^\]]*\])\s*,\s*(?:function|\()/.exec(source);
  if (!m) return null;
  return JSON.parse(m[1].replace(/'/g, '"'));
}

/** @returns {string[]} problems with dist/ of a built plugin */
export function checkDist(pluginDir) {
  const dist = join(pluginDir, 'dist');
  const p = [];
  if (!existsSync(dist)) return [`${dist} is missing: run npm run build`];
  for (const f of ['module.js', 'plugin.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
    if (!existsSync(join(dist, f)) || statSync(join(dist, f)).size === 0) p.push(`dist/${f} is missing or empty`);
  }
  if (p.length) return p;
  const json = JSON.parse(readFileSync(join(dist, 'plugin.json'), 'utf8'));
  p.push(...checkPluginJson(json, { dist: true }).map((m) => `dist/plugin.json: ${m}`));
  for (const logo of [json.info?.logos?.small, json.info?.logos?.large]) {
    if (logo && !existsSync(join(dist, logo))) p.push(`logo ${logo} is not in dist/`);
  }
  for (const inc of json.includes ?? []) {
    if (inc.type !== 'dashboard') continue;
    if (!existsSync(join(dist, inc.path))) p.push(`included dashboard ${inc.path} is not in dist/`);
    else if (inc.uid && JSON.parse(readFileSync(join(dist, inc.path), 'utf8')).uid !== inc.uid) p.push(`included dashboard ${inc.path} does not have uid ${inc.uid}`);
  }
  const source = readFileSync(join(dist, 'module.js'), 'utf8');
  const deps = amdDependencies(source);
  if (!deps) p.push('dist/module.js is not an AMD module (no leading define([...]))');
  else for (const d of deps) if (!GRAFANA_EXTERNALS.includes(d)) p.push(`dist/module.js imports ${d}, which Grafana does not share`);
  p.push(...checkBundle(source, json.id));
  return p;
}

/**
 * What must not be inside a plugin bundle: a copy of React's JSX runtime (it
 * defines the element type symbols itself; with `react` external nothing
 * else in our code does), and an absolute public path.
 * @returns {string[]} problems
 */
export function checkBundle(source, pluginId) {
  const p = [];
  if (/Symbol\.for\(\s*["']react\.(transitional\.)?element["']\s*\)/.test(source) || /react-jsx-runtime|jsx-runtime\.production/.test(source)) {
    p.push('dist/module.js bundles react/jsx-runtime (use the classic JSX runtime or make it external)');
  }
  const pub = /__webpack_require__\.p\s*=\s*"([^"]*)"|\.p="([^"]*)"/.exec(source);
  const path = pub ? pub[1] ?? pub[2] : undefined;
  if (path !== undefined && path !== pluginPublicPath(pluginId)) p.push(`dist/module.js public path ${JSON.stringify(path)} is not ${JSON.stringify(pluginPublicPath(pluginId))} (breaks under a sub-path)`);
  return p;
}

#!/usr/bin/env node
// Creates the docker secrets docker-compose.yml names, under <repo>/secrets/
// (git-ignored by secrets/.gitignore). Existing files are kept, so re-running
// never rotates a secret by accident; --force rewrites the generated ones.
//
//   node provisioning/scripts/init-secrets.mjs [--dir secrets] [--force]
//
// The directory is 0700 (other host users cannot read it); the files are 0644
// because compose bind-mounts each file into containers that run as non-root
// users with other uids (grafana 472, nobody, node 1000).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const token = () => randomBytes(32).toString('base64url');

/** name -> [description, value generator]. Names match docker-compose.yml `secrets:`. */
export const SECRETS = {
  exporter_control_token: ['bearer token of the exporter control API (exporter, MCP simulator)', token],
  remediation_webhook_token: ['bearer token Alertmanager sends to the remediation webhook', token],
  remediation_proxy_token: ["token Grafana's plugin proxy sends to the remediation REST API (app secureJsonData.serviceToken)", token],
  mcp_client_secret: ['OAuth2 client secret of the remediation service at the MCP API', token],
  // The NOC receiver (alertmanager/noc-receiver.mjs) listens on 127.0.0.1:9888 in the stack.
  noc_slack_webhook_url: ['Slack incoming-webhook URL of the NOC channel (default: the local recorder)', () => 'http://127.0.0.1:9888/services/optifiber-noc'],
  grafana_admin_password: ['password of the Grafana admin user', token],
  // Empty: the compose exporter serves its read API without authentication.
  optifiber_datasource_token: ['bearer token of the OptiFiber datasource (jsonData.authType bearer)', () => ''],
  optifiber_datasource_password: ['basic-auth password of the OptiFiber datasource (jsonData.authType basic)', () => ''],
};

export function initSecrets({ dir = join(REPO_ROOT, 'secrets'), force = false, log = (/** @type {string} */ _s) => {} } = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const gi = join(dir, '.gitignore');
  if (!existsSync(gi)) writeFileSync(gi, '*\n!.gitignore\n');
  const written = [];
  for (const [name, [what, gen]] of Object.entries(SECRETS)) {
    const path = join(dir, name);
    if (existsSync(path) && !force) continue;
    writeFileSync(path, gen(), { mode: 0o644 });
    chmodSync(path, 0o644);
    written.push(name);
    log(`wrote ${path} (${what})`);
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--dir');
  const dir = i > 0 ? resolve(process.argv[i + 1] ?? 'secrets') : undefined;
  const written = initSecrets({ ...(dir ? { dir } : {}), force: process.argv.includes('--force'), log: (s) => process.stdout.write(s + '\n') });
  if (written.length === 0) process.stdout.write('all secrets exist (use --force to regenerate)\n');
}

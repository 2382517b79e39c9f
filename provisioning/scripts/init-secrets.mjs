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
//
// TLS of the remediation service (issue 12, finding 16): a CA made here with
// openssl signs the service's certificate for 127.0.0.1/localhost (every
// service shares the `net` namespace's loopback). The CA's key is used once
// and discarded: re-issuing means regenerating the set (--force), and a key
// that does not exist cannot leak. Alertmanager (webhook tls_config.ca_file)
// and Grafana (SSL_CERT_DIR, its plugin proxy uses the system roots) trust the
// CA; the service serves the certificate through its web config.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** name -> description: the TLS set, made together by makeServiceTls(). Names match docker-compose.yml `secrets:`. */
export const TLS_SECRETS = {
  service_tls_ca: 'CA certificate (PEM) Alertmanager and Grafana verify the remediation service with',
  service_tls_cert: 'certificate (PEM) of the remediation service for IP 127.0.0.1 and localhost, signed by service_tls_ca',
  service_tls_key: 'private key (PEM) of service_tls_cert',
  remediation_web_config: "the remediation service's web config (exporter-toolkit format): tls_server_config naming the two files above",
};

/** Where the remediation container finds its certificate and key (docker secrets). */
const IN_CONTAINER = '/run/secrets';

/** Writes the TLS set into dir (mode 0644, like the other secrets); throws with openssl's message on failure. */
export function makeServiceTls(dir) {
  const work = mkdtempSync(join(tmpdir(), 'optifiber-tls-'));
  const f = (n) => join(work, n);
  const run = (args) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')}: ${r.error?.message ?? r.stderr}`);
  };
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run(['req', '-x509', ...ec, '-days', '825', '-subj', '/CN=OptiFiber stack CA', '-keyout', f('ca.key'), '-out', f('ca.pem'),
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', ...ec, '-subj', '/CN=optifiber-remediation', '-keyout', f('server.key'), '-out', f('server.csr')]);
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n');
    run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '825', '-extfile', f('server.ext'), '-out', f('server.crt')]);
    const files = {
      service_tls_ca: readFileSync(f('ca.pem')),
      service_tls_cert: readFileSync(f('server.crt')),
      service_tls_key: readFileSync(f('server.key')),
      remediation_web_config: `# Written by provisioning/scripts/init-secrets.mjs.\ntls_server_config:\n  cert_file: ${IN_CONTAINER}/service_tls_cert\n  key_file: ${IN_CONTAINER}/service_tls_key\n`,
    };
    for (const [name, data] of Object.entries(files)) {
      writeFileSync(join(dir, name), data, { mode: 0o644 });
      chmodSync(join(dir, name), 0o644);
    }
    return Object.keys(files);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

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
  // The TLS set is one unit: a missing part (or --force) makes all of it again.
  if (force || Object.keys(TLS_SECRETS).some((n) => !existsSync(join(dir, n)))) {
    for (const name of makeServiceTls(dir)) {
      written.push(name);
      log(`wrote ${join(dir, name)} (${TLS_SECRETS[name]})`);
    }
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--dir');
  const dir = i > 0 ? resolve(process.argv[i + 1] ?? 'secrets') : undefined;
  const written = initSecrets({ ...(dir ? { dir } : {}), force: process.argv.includes('--force'), log: (s) => process.stdout.write(s + '\n') });
  if (written.length === 0) process.stdout.write('all secrets exist (use --force to regenerate)\n');
}

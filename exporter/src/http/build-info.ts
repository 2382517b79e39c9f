// The exporter's build info (optifiber_exporter_build_info, --version):
// the package version and, in a git checkout, the source revision.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildInfo } from '../metrics/registry.js';

export function buildInfo(): BuildInfo {
  const here = dirname(fileURLToPath(import.meta.url));
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    /* packaged without package.json */
  }
  let revision = 'unknown';
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: here, encoding: 'utf8', timeout: 2000 });
  if (git.status === 0 && /^[0-9a-f]+$/.test(git.stdout.trim())) revision = git.stdout.trim();
  return { version, revision, nodejsVersion: process.version };
}

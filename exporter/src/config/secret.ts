// Secrets (tokens, passwords, client secrets) are configured as files, never
// as values: the exporter's control token, the remediation service's webhook,
// proxy, MCP and Grafana credentials.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './loader.js';

/**
 * Reads a secret from a file: first line, trimmed, at least `min` printable
 * characters. Throws a ConfigError with a precise message (never containing
 * the secret); returns warnings, e.g. when the file is group/world readable.
 */
export function readSecretFile(path: string, what: string, min = 16): { secret: string; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`]);
  }
  const secret = (text.split('\n')[0] ?? '').trim();
  if (!secret) throw new ConfigError([`${what} file ${path} is empty`]);
  if (secret.length < min) throw new ConfigError([`${what} in ${path} is shorter than ${min} characters`]);
  if (!/^[\x21-\x7e]+$/.test(secret)) throw new ConfigError([`${what} in ${path} must be printable ASCII without spaces`]);
  const warnings: string[] = [];
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) warnings.push(`${what} file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  } catch {
    // stat after a successful read: ignore
  }
  return { secret, warnings };
}

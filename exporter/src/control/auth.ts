// The --control.token-file token (checked by http/credentials.ts, identity "control-token").
import { ConfigError } from '../config/loader.js';
import { readSecretFile } from '../config/secret.js';

export const MIN_TOKEN_LENGTH = 16;

/**
 * Reads the control token from a file (config/secret.ts: first line,
 * surrounding whitespace removed). Throws with a precise message for a
 * missing, empty, short or malformed token. Returns warnings (e.g. a
 * world-readable file) for the log; the token itself is never part of any
 * message.
 */
export function loadControlToken(path: string): { token: string; warnings: string[] } {
  try {
    const { secret, warnings } = readSecretFile(path, 'control token', MIN_TOKEN_LENGTH);
    return { token: secret, warnings };
  } catch (e) {
    // The exporter reports this as a startup failure with the bare reason.
    throw e instanceof ConfigError ? new Error(e.problems.join('; ')) : e;
  }
}

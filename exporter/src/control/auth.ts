// Bearer-token check for the control path.
import { createHash, timingSafeEqual } from 'node:crypto';
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

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Returns a checker for "Authorization: Bearer <token>". Both sides are
 * hashed to fixed-length digests and compared with timingSafeEqual, so the
 * time taken depends neither on the position of the first differing byte nor
 * on the length of the expected token.
 */
export function bearerChecker(token: string): (authorization: string | undefined) => 'ok' | 'missing' | 'wrong' {
  const expected = digest(token);
  return (authorization) => {
    if (!authorization) return 'missing';
    const m = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(authorization);
    if (!m) return 'missing';
    return timingSafeEqual(digest(m[1]!), expected) ? 'ok' : 'wrong';
  };
}

// Bearer-token check for the control path.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export const MIN_TOKEN_LENGTH = 16;

/**
 * Reads the control token from a file (first line, surrounding whitespace
 * removed). Throws with a precise message for a missing, empty, short or
 * malformed token. Returns warnings (e.g. a world-readable file) for the log;
 * the token itself is never part of any message.
 */
export function loadControlToken(path: string): { token: string; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`control token file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token === '') throw new Error(`control token file ${path} is empty`);
  if (token.length < MIN_TOKEN_LENGTH) throw new Error(`control token in ${path} is shorter than ${MIN_TOKEN_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error(`control token in ${path} must be printable ASCII without spaces`);
  const warnings: string[] = [];
  try {
    const mode = statSync(path).mode;
    if (mode & 0o077) warnings.push(`control token file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  } catch {
    // stat after a successful read: ignore
  }
  return { token, warnings };
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

/**
 * Optional bearer-token authentication, with the semantics of `panoptes ingest
 * --bearer-token-file`: the file holds the token (surrounding whitespace trimmed); a request
 * must carry `Authorization: Bearer <token>`; the comparison is between SHA-256 digests with
 * timingSafeEqual, so neither the token's content nor its length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';

export type AuthResult = 'ok' | 'missing' | 'invalid';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface BearerAuth {
  enabled: boolean;
  check(header: string | undefined): AuthResult;
  challenge: string;
}

export function bearerAuth(token: string | undefined): BearerAuth {
  const expected = token === undefined ? null : digest(token);
  return {
    enabled: expected !== null,
    challenge: 'Bearer realm="panoptes-inference"',
    check(header) {
      if (expected === null) return 'ok';
      if (header === undefined || header.trim() === '') return 'missing';
      const sp = header.indexOf(' ');
      if (sp < 0 || header.slice(0, sp).toLowerCase() !== 'bearer') return 'invalid';
      return timingSafeEqual(digest(header.slice(sp + 1).trim()), expected) ? 'ok' : 'invalid';
    },
  };
}

/** Reads a bearer token file; a missing, unreadable or empty file is a configuration error. */
export function readBearerTokenFile(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([{ path: 'bearerTokenFile', message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
  if (token === '') throw new ConfigError([{ path: 'bearerTokenFile', message: `${path} is empty` }]);
  return token;
}

/** Whether a listen host is loopback only (no warning needed when it serves without auth). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Optional authentication, as Prometheus's `remote_write` sends it: `authorization` (a bearer
 * token) or `basic_auth`. Secrets are compared through their SHA-256 digests with
 * timingSafeEqual, so neither the content nor the length of the secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

export interface AuthConfig {
  /** Shown in the WWW-Authenticate challenge; default `panoptes`. */
  realm?: string;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
}

export type AuthResult = 'ok' | 'missing' | 'invalid';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** Builds the checker once (digests precomputed); with no credentials configured everything passes. */
export function authChecker(cfg: AuthConfig): { enabled: boolean; check(header: string | undefined): AuthResult; challenge: string } {
  const bearer = cfg.bearerToken !== undefined ? digest(cfg.bearerToken) : null;
  const basic = cfg.basicAuth !== undefined ? digest(`${cfg.basicAuth.username}:${cfg.basicAuth.password}`) : null;
  const enabled = bearer !== null || basic !== null;
  const realm = (cfg.realm ?? 'panoptes').replace(/["\\]/g, '');
  const challenge = `${basic !== null ? 'Basic' : 'Bearer'} realm="${realm}"`;
  return {
    enabled,
    challenge,
    check(header) {
      if (!enabled) return 'ok';
      if (header === undefined || header.trim() === '') return 'missing';
      const sp = header.indexOf(' ');
      if (sp < 0) return 'invalid';
      const scheme = header.slice(0, sp).toLowerCase();
      const cred = header.slice(sp + 1).trim();
      if (scheme === 'bearer' && bearer !== null) return sameSecret(cred, bearer) ? 'ok' : 'invalid';
      if (scheme === 'basic' && basic !== null) {
        const decoded = Buffer.from(cred, 'base64').toString('utf8');
        return sameSecret(decoded, basic) ? 'ok' : 'invalid';
      }
      return 'invalid';
    },
  };
}

/** A bearer token file: the token, surrounding whitespace trimmed (as Prometheus's credentials_file). */
export function readBearerTokenFile(path: string): string {
  const token = readSecret(path, 'bearerTokenFile');
  if (token === '') throw new ConfigError([{ path: 'bearerTokenFile', message: `${path} is empty` }]);
  return token;
}

/** A basic-auth file: one line `username:password` (the password may contain ':'). */
export function readBasicAuthFile(path: string): { username: string; password: string } {
  const line = readSecret(path, 'basicAuthFile');
  const i = line.indexOf(':');
  if (i <= 0) throw new ConfigError([{ path: 'basicAuthFile', message: `${path} must hold one line "username:password"` }]);
  return { username: line.slice(0, i), password: line.slice(i + 1) };
}

function readSecret(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([{ path: key, message: `cannot read ${path}: ${(err as Error).message}` }]);
  }
}

/**
 * Authentication of the inference server: the project's one bearer-token checker
 * (`pipelines/core/auth.ts`, the semantics of `panoptes ingest --bearer-token-file`: SHA-256
 * digests compared with timingSafeEqual), plus the loopback test behind `serve`'s warning.
 */
import { authChecker } from '../../core/auth.ts';

export { readBearerTokenFile } from '../../core/auth.ts';
export type { AuthResult } from '../../core/auth.ts';

export function bearerAuth(token: string | undefined): ReturnType<typeof authChecker> {
  return authChecker({ realm: 'panoptes-inference', ...(token !== undefined ? { bearerToken: token } : {}) });
}

/** Whether a listen host is loopback only (no warning needed when it serves without auth). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

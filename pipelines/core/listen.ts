/**
 * Binding an HTTP server to a user-given address. EADDRINUSE, EACCES and EADDRNOTAVAIL mean the
 * user's address is the problem, not a bug: they become a ConfigError (exit 2, one line) instead
 * of a stack trace.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from './errors.ts';
import type { Logger } from './logger.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Logs one warning when a server listens beyond loopback without auth (every server that takes
 * --bearer-token-file calls it once it listens, fastify or node:http).
 */
export function warnIfOpen(o: { host: string; listen: string; authed: boolean; log?: Logger; name?: string }): void {
  if (!LOOPBACK.test(o.host) && !o.authed) {
    o.log?.warn(`${o.name ?? 'server'} listens on ${o.listen} beyond loopback without auth: anyone who reaches it can use its API (set --bearer-token-file)`, { listen: o.listen });
  }
}

export function listenOn(server: Server, host: string, port: number, path = 'listen'): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) =>
      reject(new ConfigError([{ path, message: `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${err.code ?? err.message}` }]));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve(server.address() as AddressInfo);
    });
  });
}

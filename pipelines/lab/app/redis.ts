/**
 * The lab's Redis clients, on ioredis. Set up so a cut proxy shows up at once, as with a real
 * cache outage: `enableOfflineQueue: false` fails a command while the connection is down instead
 * of queueing it behind the reconnect loop, commands in flight when the socket closes fail (no
 * resend), and every command and connect has the service's timeout. The long-lived client of a
 * service reconnects in the background every 50 ms (loopback: cheap), and a command that finds it
 * reconnecting waits at most 100 ms for it (`whenReady`), so a restored Redis serves the next request
 * as a real client would within a moment; the short-lived one of the orchestrator (schema checks,
 * teardown) tries once.
 */
import { Redis } from 'ioredis';

function options(host: string, port: number, timeoutMs: number) {
  return {
    host,
    port,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
  };
}

/** A service's client: reconnects forever in the background; a command while down fails at once. */
export async function serviceRedis(host: string, port: number, timeoutMs: number): Promise<Redis> {
  const r = new Redis({ ...options(host, port, timeoutMs), lazyConnect: true, retryStrategy: () => 50 });
  // Errors surface on the commands; the event only reports the reconnect loop.
  r.on('error', () => undefined);
  await r.connect().catch(() => undefined);
  return r;
}

/** A client for one job (check, teardown): one connect attempt, no reconnects; `quit` it after. */
export async function oneShotRedis(host: string, port: number, timeoutMs: number): Promise<Redis> {
  const r = new Redis({ ...options(host, port, timeoutMs), lazyConnect: true, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
  } catch (e) {
    r.disconnect();
    throw e;
  }
  return r;
}

/** Resolves when `r` is ready or after `ms` (the command then fails at once, offline queue off). */
export function whenReady(r: Redis, ms = 100): Promise<void> {
  if (r.status === 'ready' || r.status === 'end') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      r.off('ready', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    r.once('ready', done);
  });
}

/**
 * `ingest --workers N`: N receiver processes behind one listen port (node:cluster; the primary
 * accepts connections and hands each to a worker in turn, and a keep-alive connection stays with
 * its worker). A request is served whole by one worker, with its own Kafka producer, so the
 * guarantees of one receiver hold unchanged: 204 only once that worker's producer acknowledged
 * every record of the request.
 *
 * Why: one receiver spends most of its CPU on the JavaScript thread (HTTP, snappy, protobuf
 * decoding, Avro encoding, handing records to the client), so on a machine with idle cores one
 * process tops out before the machine does.
 *
 * The primary does no request work. It starts the workers (options travel in an environment
 * variable, and each worker reads its own secret files), answers their requests for the cluster's
 * metrics (prom-client's AggregatorRegistry sums every worker's registry, so any worker's
 * GET /metrics shows the whole receiver), replaces a worker that dies, and on SIGINT/SIGTERM tells
 * every worker to finish its in-flight requests and exit.
 */
import cluster, { type Worker } from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { CliIo, ParsedArgs } from '../../pipelines/core/cli-types.ts';
import { loadConfig } from '../../pipelines/core/config.ts';
import { ConnectError, describeError } from '../../pipelines/core/errors.ts';
import { createLogger } from '../../pipelines/core/logger.ts';
import { ingestSpec } from './spec.ts';

/** The environment variable carrying a worker's CLI options (JSON). */
export const WORKER_ENV = 'PANOPTES_INGEST_WORKER';
const WORKER_ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'worker-entry.js');

/** Messages between the primary and its workers. */
export type ClusterMessage =
  | { type: 'panoptes:ingest-listening'; url: string; sink: string; transport: string }
  | { type: 'panoptes:ingest-failed'; message: string }
  | { type: 'panoptes:ingest-metrics'; id: number }
  | { type: 'panoptes:ingest-metrics-reply'; id: number; text?: string; error?: string }
  | { type: 'panoptes:ingest-stop' };

function isMessage(m: unknown): m is ClusterMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('panoptes:ingest-');
}

/**
 * Runs the primary until the signal aborts; resolves the exit code. `extraEnv` reaches every
 * worker (the Kafka client the primary chose, so workers do not choose again).
 */
export async function runPrimary(n: number, args: ParsedArgs, io: CliIo, extraEnv: Record<string, string> = {}): Promise<number> {
  const log = createLogger(loadConfig().logLevel, { stage: 'remote-write', role: 'primary' });
  // The AggregatorRegistry's constructor installs the listener that collects workers' replies.
  const aggregator = new AggregatorRegistry();
  const env = { ...extraEnv, [WORKER_ENV]: JSON.stringify(args.options) };
  // The entry registers tsx itself; the parent's flags (a test runner's, say) are not inherited.
  cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv: [], args: [] });
  let stopping = false;
  const live = new Set<Worker>();
  let restarts = 0;

  const onMessage = (worker: Worker, m: unknown) => {
    if (!isMessage(m) || m.type !== 'panoptes:ingest-metrics') return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: 'panoptes:ingest-metrics-reply', id: m.id, text } satisfies ClusterMessage),
      (err: unknown) => worker.isConnected() && worker.send({ type: 'panoptes:ingest-metrics-reply', id: m.id, error: describeError(err) } satisfies ClusterMessage),
    );
  };

  /** Forks one worker; resolves once it listens, rejects with its reason if it cannot start. */
  const fork = (): Promise<{ url: string; sink: string; transport: string }> => {
    const w = cluster.fork(env);
    live.add(w);
    // A send to a worker that is already exiting fails with EPIPE; its exit is handled below.
    w.on('error', (err: Error) => log.debug('ingest worker channel error', { pid: w.process.pid, err: err.message }));
    w.on('message', (m: unknown) => onMessage(w, m));
    return new Promise((resolve, reject) => {
      let started = false;
      w.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.type === 'panoptes:ingest-listening') {
          started = true;
          resolve({ url: m.url, sink: m.sink, transport: m.transport });
        } else if (m.type === 'panoptes:ingest-failed' && !started) reject(new ConnectError(`ingest worker could not start: ${m.message}`));
      });
      w.on('exit', (code, signal) => {
        live.delete(w);
        if (!started) {
          reject(new ConnectError(`ingest worker exited before listening (${signal ?? `code ${code}`})`));
          return;
        }
        if (stopping) return;
        // Its in-flight requests saw the connection drop and are retried by Prometheus; nothing of
        // them was acknowledged. A worker that keeps dying is replaced at most once a second.
        restarts++;
        log.error('ingest worker died; starting another', { pid: w.process.pid, code, signal, restarts });
        setTimeout(() => {
          if (!stopping) fork().catch((err: unknown) => log.error('replacement worker failed to start', { err: describeError(err) }));
        }, 1000).unref();
      });
    });
  };

  const stopAll = async (graceMs: number) => {
    stopping = true;
    const exits = [...live].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of live) if (w.isConnected()) w.send({ type: 'panoptes:ingest-stop' } satisfies ClusterMessage, undefined, () => undefined);
    const timer = setTimeout(() => {
      for (const w of live) w.process.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };

  let first: { url: string; sink: string; transport: string };
  try {
    // One worker first: its listen() binds the port (an error such as EADDRINUSE shows once);
    // the others then share it.
    first = await fork();
    await Promise.all(Array.from({ length: n - 1 }, () => fork()));
  } catch (err) {
    await stopAll(5000);
    throw err;
  }
  log.info('remote-write receiver listening', { url: first.url, sink: first.sink, transport: first.transport, workers: n });
  io.out(io.json ? JSON.stringify({ url: first.url, sink: first.sink, transport: first.transport, workers: n }) : `listening on ${first.url} (sink: ${first.sink}, ${first.transport}, ${n} workers)`);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info('remote-write receiver stopping', { workers: live.size });
  const deadlineMs = typeof args.options['deadline-ms'] === 'number' ? args.options['deadline-ms'] : ingestSpec.fields.deadlineMs.default;
  await stopAll(deadlineMs + 15_000);
  return 0;
}

/**
 * In a worker: a registry whose exposition is the whole cluster's, fetched from the primary, and
 * the hook that lets the primary collect this worker's `own` registry.
 */
export function clusterExposition(own: Registry): Registry {
  // Constructing one installs the worker-side listener that answers the primary.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([own]);
  let next = 0;
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  process.on('message', (m: unknown) => {
    if (!isMessage(m) || m.type !== 'panoptes:ingest-metrics-reply') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.text !== undefined) p.resolve(m.text);
    else p.reject(new Error(m.error ?? 'no metrics from the primary'));
  });
  class ClusterRegistry extends Registry {
    override metrics(): Promise<string> {
      const id = next++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the primary did not answer for the cluster metrics within 10 s'));
        }, 10_000);
        pending.set(id, {
          resolve: (t) => (clearTimeout(timer), resolve(t)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        process.send!({ type: 'panoptes:ingest-metrics', id } satisfies ClusterMessage);
      });
    }
  }
  return new ClusterRegistry();
}

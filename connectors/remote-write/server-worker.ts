/**
 * One `ingest --workers N` cluster worker: the same receiver a single process runs (openIngest),
 * started from the options the primary passed in the environment, serving the cluster's summed
 * metrics. It stops, finishing in-flight requests, when the primary says so or on SIGINT/SIGTERM.
 */
import cluster from 'node:cluster';
import { describeError } from '../../pipelines/core/errors.ts';
import { loadConfig } from '../../pipelines/core/config.ts';
import { openIngest } from './cli.ts';
import { clusterExposition, WORKER_ENV, type ClusterMessage } from './cluster.ts';

if (!cluster.isWorker || !process.env[WORKER_ENV]) {
  process.stderr.write('server-worker.ts runs only as an ingest cluster worker (panoptes ingest --workers N)\n');
  process.exit(2);
}

const send = (m: ClusterMessage) => new Promise<void>((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));
const stop = new Promise<void>((resolve) => {
  process.on('message', (m: unknown) => {
    if ((m as { type?: string } | null)?.type === 'panoptes:ingest-stop') resolve();
  });
  // A terminal's Ctrl-C reaches the whole process group; the primary's stop message follows.
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
  // The primary is gone: nothing will ever stop this worker otherwise.
  process.once('disconnect', () => resolve());
});

let code = 0;
try {
  const options = JSON.parse(process.env[WORKER_ENV]!) as Record<string, string | number | boolean | string[] | undefined>;
  const ingest = await openIngest({ options, positionals: [] }, loadConfig(), clusterExposition);
  await send({ type: 'panoptes:ingest-listening', url: ingest.url, sink: ingest.sink, transport: ingest.transport });
  await stop;
  await ingest.close();
} catch (err) {
  await send({ type: 'panoptes:ingest-failed', message: describeError(err) });
  code = 1;
}
process.exitCode = code;
// A client library that left a handle open must not keep a finished worker alive.
setTimeout(() => process.exit(code), 3000).unref();
// The IPC channel would keep the process alive: the primary learns of the exit anyway.
if (process.connected) process.disconnect();

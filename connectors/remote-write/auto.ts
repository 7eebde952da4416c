/**
 * The defaults `panoptes ingest` chooses at start when the user did not: which Kafka client, how
 * many receiver processes, and which memory allocator they run with. Each choice carries its
 * reason, for the start-up log line.
 *
 * - Client: librdkafka when its native module loads (it spends less CPU per record than kafkajs and
 *   batches the records of concurrent requests per partition by itself), kafkajs otherwise. An
 *   explicit `PANOPTES_KAFKA_CLIENT` or `kafkaClient` in the config file wins.
 * - Processes: one per available core, up to AUTO_MAX_WORKERS, when records go to Kafka (the
 *   receiver's JavaScript thread is its bottleneck; see README.md, Throughput, for the measurement
 *   behind this); one with the embedded transport (its topics live inside the process) or
 *   --null-sink. An explicit `--workers` wins.
 * - Allocator: with librdkafka, jemalloc when it is installed (the receiver processes are started
 *   with it in LD_PRELOAD). The client's native binding allocates and frees several blocks per
 *   record across threads (the message copy, the delivery report, its key buffer), and glibc's
 *   malloc took about 30% of a producing process's CPU in a profile (perf, cpu-clock); with
 *   jemalloc the client took 31–40% less CPU per record (README.md, Throughput). `--allocator
 *   system` keeps the C library's; an LD_PRELOAD already set is left alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import type { Config, KafkaClient } from '../../pipelines/core/config.ts';
import { loadRdKafka } from '../../pipelines/core/transport/rdkafka-load.ts';

export interface Choice<T> {
  value: T;
  /** One clause: where the value came from and why. */
  why: string;
  explicit: boolean;
}

/**
 * Most processes chosen automatically. Measured only on 2 cores (where 2 processes did as well as
 * or better than 1); each process holds its own producer, connections and buffers, so a many-core
 * host does not start dozens of them for one receiver unless --workers asks for it.
 */
export const AUTO_MAX_WORKERS = 4;

function fileSets(file: string, key: string): boolean {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && key in doc;
  } catch {
    // loadConfig already reported an unreadable file.
    return false;
  }
}

export async function chooseKafkaClient(config: Config, env: NodeJS.ProcessEnv = process.env, load: () => Promise<{ librdkafkaVersion: string }> = loadRdKafka): Promise<Choice<KafkaClient>> {
  if (env.PANOPTES_KAFKA_CLIENT) return { value: config.kafkaClient, why: 'set by PANOPTES_KAFKA_CLIENT', explicit: true };
  const file = env.PANOPTES_CONFIG;
  if (file && fileSets(file, 'kafkaClient')) return { value: config.kafkaClient, why: `set by kafkaClient in ${file}`, explicit: true };
  try {
    const mod = await load();
    return { value: 'librdkafka', why: `auto: the native module loaded (librdkafka ${mod.librdkafkaVersion}), the client with the least CPU per record; PANOPTES_KAFKA_CLIENT=kafkajs overrides`, explicit: false };
  } catch (err) {
    const why = (err as Error).message.replace(/\s+/g, ' ').slice(0, 200);
    return { value: 'kafkajs', why: `auto: librdkafka is not available (${why})`, explicit: false };
  }
}

export function chooseWorkers(explicit: number | undefined, ctx: { kafka: boolean; client: KafkaClient | null }, cores = availableParallelism()): Choice<number> {
  if (explicit !== undefined) return { value: explicit, why: 'set by --workers', explicit: true };
  if (!ctx.kafka) return { value: 1, why: 'auto: without Kafka (embedded transport or --null-sink) one process', explicit: false };
  const n = Math.max(1, Math.min(cores, AUTO_MAX_WORKERS));
  return { value: n, why: `auto: ${cores} core${cores === 1 ? '' : 's'} available, one process per core up to ${AUTO_MAX_WORKERS}; --workers overrides`, explicit: false };
}

/** Where distributions install jemalloc's shared library (Debian and Ubuntu's libjemalloc2, Fedora, Alpine). */
export const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
];

/** The library to preload into the receiver processes, or null for the C library's malloc. */
export function chooseAllocator(
  setting: 'auto' | 'system',
  ctx: { client: KafkaClient | null },
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): Choice<string | null> {
  if (setting === 'system') return { value: null, why: 'the C library\'s malloc, set by --allocator system', explicit: true };
  if (env.LD_PRELOAD) return { value: null, why: `LD_PRELOAD is already set (${env.LD_PRELOAD})`, explicit: true };
  if (ctx.client !== 'librdkafka') return { value: null, why: 'auto: the C library\'s malloc (jemalloc only pays off with librdkafka)', explicit: false };
  const path = JEMALLOC_PATHS.find((p) => exists(p));
  if (!path) return { value: null, why: 'auto: the C library\'s malloc (jemalloc is not installed; libjemalloc2 saves librdkafka 31–40% CPU per record)', explicit: false };
  return { value: path, why: `auto: jemalloc (${path}) for librdkafka's per-record allocations; --allocator system overrides`, explicit: false };
}

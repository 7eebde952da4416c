/**
 * The defaults `panoptes ingest` chooses at start when the user did not: which Kafka client, and
 * how many receiver processes. Each choice carries its reason, for the start-up log line.
 *
 * - Client: librdkafka when its native module loads (with group commit the receiver spends less
 *   than half of kafkajs's CPU per sample: 0.095 against 0.224 s per 100k in one run of the
 *   in-process table; README.md, Throughput), kafkajs otherwise. An explicit
 *   `PANOPTES_KAFKA_CLIENT` or `kafkaClient` in the config file wins.
 * - Processes: one per available core, up to AUTO_MAX_WORKERS, when records go to Kafka (on 2
 *   cores, 2 processes reached a higher throughput than 1 for ~12% more CPU per sample; README.md,
 *   Throughput); one with the embedded transport (its topics live inside the process) or
 *   --null-sink. An explicit `--workers` wins.
 */
import { readFileSync } from 'node:fs';
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
 * Most processes chosen automatically. Measured only on 2 cores; each process holds its own
 * producer, connections and buffers, so a many-core host does not start dozens of them for one
 * receiver unless --workers asks for it.
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


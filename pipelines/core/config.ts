/**
 * Configuration: defaults < config file (YAML or JSON, `--config FILE` or PANOPTES_CONFIG) <
 * environment. Every key is declared once in CONFIG_SPEC with its type, default, env variable and
 * doc; validation returns every problem with the key's path (OTel/platformatic style) and the
 * README's option table is generated from the same spec.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { didYouMean } from './spec.ts';

/**
 * Top-level keys of a pipeline file (`panoptes run --config`) that are not connection settings:
 * a pipeline file is a config file plus `stages:`, so every other command given the same file
 * reads its connection settings (brokers, registry, prefix) and leaves the stages to `run`.
 */
export const PIPELINE_KEYS: readonly string[] = ['stages'];

export type TransportKind = 'embedded' | 'kafka';
export type KafkaClient = 'kafkajs' | 'librdkafka';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type DecodeFailurePolicy = 'dead-letter' | 'skip' | 'fail';

export interface Config {
  transport: TransportKind;
  kafkaClient: KafkaClient;
  brokers: string[];
  clientId: string;
  registryUrl: string;
  topicPrefix: string;
  logLevel: LogLevel;
  metricsListen: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  onDecodeFailure: DecodeFailurePolicy;
  onProcessFailure: DecodeFailurePolicy;
  producerMaxInFlight: number;
  replicationFactor: number | 'auto';
  minInsyncReplicas: number | 'auto';
}

type Kind = 'string' | 'int' | 'list' | 'enum' | 'hostport' | 'int-or-auto';

interface KeySpec {
  key: keyof Config;
  env: string;
  kind: Kind;
  values?: readonly string[];
  default: (partial: Partial<Config>) => unknown;
  min?: number;
  doc: string;
}

export const CONFIG_SPEC: readonly KeySpec[] = [
  { key: 'transport', env: 'PANOPTES_TRANSPORT', kind: 'enum', values: ['embedded', 'kafka'], default: (p) => (p.brokers && p.brokers.length > 0 ? 'kafka' : 'embedded'), doc: '`embedded` runs every topic in-process (no broker); `kafka` uses real brokers. Default: `kafka` when brokers are configured, else `embedded`.' },
  { key: 'kafkaClient', env: 'PANOPTES_KAFKA_CLIENT', kind: 'enum', values: ['kafkajs', 'librdkafka'], default: () => 'kafkajs', doc: 'Kafka client library with transport=kafka: `kafkajs` (pure JavaScript) or `librdkafka` (@confluentinc/kafka-javascript, native; several times less CPU per record; its native module is built by `bash infra/rdkafka.sh`).' },
  { key: 'brokers', env: 'PANOPTES_BROKERS', kind: 'list', default: () => [], doc: 'Comma-separated Kafka bootstrap servers, e.g. `127.0.0.1:9092`. With transport=kafka and none given: `127.0.0.1:9092`.' },
  { key: 'clientId', env: 'PANOPTES_CLIENT_ID', kind: 'string', default: () => 'panoptes', doc: 'Kafka client id prefix.' },
  { key: 'registryUrl', env: 'PANOPTES_REGISTRY_URL', kind: 'string', default: (p) => (p.transport === 'kafka' ? 'http://127.0.0.1:8081/apis/ccompat/v7' : 'mock://embedded'), doc: 'Schema registry base URL (Confluent REST API). `mock://…` uses the in-memory registry (default for embedded).' },
  { key: 'topicPrefix', env: 'PANOPTES_TOPIC_PREFIX', kind: 'string', default: () => '', doc: 'Prefix of every topic name, so several pipelines can share a cluster.' },
  { key: 'logLevel', env: 'PANOPTES_LOG_LEVEL', kind: 'enum', values: ['debug', 'info', 'warn', 'error', 'silent'], default: () => 'info', doc: 'Structured (JSON lines, stderr) log level.' },
  { key: 'metricsListen', env: 'PANOPTES_METRICS_LISTEN', kind: 'string', default: () => '', doc: 'host:port for `/metrics` and `/healthz` of long-running commands; empty disables (commands with their own HTTP server serve them there).' },
  { key: 'connectTimeoutMs', env: 'PANOPTES_CONNECT_TIMEOUT_MS', kind: 'int', min: 100, default: () => 10000, doc: 'How long to wait for Kafka or the registry at start before failing with a clear message.' },
  { key: 'requestTimeoutMs', env: 'PANOPTES_REQUEST_TIMEOUT_MS', kind: 'int', min: 100, default: () => 30000, doc: 'Kafka request timeout.' },
  { key: 'onDecodeFailure', env: 'PANOPTES_ON_DECODE_FAILURE', kind: 'enum', values: ['dead-letter', 'skip', 'fail'], default: () => 'dead-letter', doc: 'What a consumer does with a record it cannot decode: send it to the dead-letter topic with the reason (default), skip it (counted), or stop.' },
  { key: 'onProcessFailure', env: 'PANOPTES_ON_PROCESS_FAILURE', kind: 'enum', values: ['dead-letter', 'skip', 'fail'], default: () => 'dead-letter', doc: 'What a consumer does with a record that decodes but cannot be processed (a timestamp outside the date range, a value the stage refuses): dead-letter it with the reason (default), skip it (counted), or stop. A poison record never stops a consumer group unless this is `fail`.' },
  { key: 'producerMaxInFlight', env: 'PANOPTES_PRODUCER_MAX_IN_FLIGHT', kind: 'int', min: 1, default: () => 1, doc: 'Produce requests in flight per broker connection for non-transactional producers (1–5). 1 keeps strict ordering under retries; 5 roughly doubles kafkajs produce throughput (tests/bench/transport.bench.ts).' },
  { key: 'replicationFactor', env: 'PANOPTES_REPLICATION_FACTOR', kind: 'int-or-auto', min: 1, default: () => 'auto', doc: 'Replicas of each topic the pipeline creates (`topics create`, and any command on start). `auto`: 3, or the number of brokers when the cluster has fewer (1 on a single broker). Create topics while every broker is up: `auto` counts the live ones. Existing topics are left as they are.' },
  { key: 'minInsyncReplicas', env: 'PANOPTES_MIN_INSYNC_REPLICAS', kind: 'int-or-auto', min: 1, default: () => 'auto', doc: 'Topic setting `min.insync.replicas` of created topics: how many replicas must hold a record before an acks=all write succeeds. `auto`: a majority of the replicas when there are 3 or more (2 of 3), else 1. At most replicationFactor.' },
];

const HOSTPORT = /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/;

function coerce(spec: KeySpec, raw: unknown, path: string, issues: ConfigIssue[]): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number') return String(raw);
      issues.push({ path, message: `expected a string, got ${JSON.stringify(raw)}` });
      return undefined;
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n)) {
        issues.push({ path, message: `expected an integer, got ${JSON.stringify(raw)}` });
        return undefined;
      }
      if (spec.min !== undefined && n < spec.min) {
        issues.push({ path, message: `expected an integer >= ${spec.min}, got ${n}` });
        return undefined;
      }
      return n;
    }
    case 'list': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!list || list.some((x) => typeof x !== 'string')) {
        issues.push({ path, message: `expected a list of host:port strings, got ${JSON.stringify(raw)}` });
        return undefined;
      }
      const items = (list as string[]).map((s) => s.trim()).filter((s) => s.length > 0);
      for (const item of items) if (!HOSTPORT.test(item)) issues.push({ path, message: `expected host:port, got "${item}"` });
      return items;
    }
    case 'enum':
      if (typeof raw === 'string' && spec.values!.includes(raw)) return raw;
      issues.push({ path, message: `expected one of ${spec.values!.join(', ')}, got ${JSON.stringify(raw)}` });
      return undefined;
    case 'int-or-auto': {
      if (raw === 'auto') return raw;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < (spec.min ?? 0)) {
        issues.push({ path, message: `expected "auto" or an integer >= ${spec.min ?? 0}, got ${JSON.stringify(raw)}` });
        return undefined;
      }
      return n;
    }
    case 'hostport':
      if (typeof raw === 'string' && HOSTPORT.test(raw)) return raw;
      issues.push({ path, message: `expected host:port, got ${JSON.stringify(raw)}` });
      return undefined;
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML/JSON file; defaults to PANOPTES_CONFIG. */
  file?: string;
  /** Highest precedence, e.g. from CLI flags. */
  overrides?: Partial<Config>;
}

/** The mapping a YAML/JSON config file holds; ConfigError (path `config`) when it cannot be read or is not one. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: 'config', message: `cannot read config file ${path}: ${(err as Error).message}` }]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([{ path: 'config', message: `config file ${path} is not valid YAML/JSON: ${(err as Error).message}` }]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError([{ path: 'config', message: `config file ${path} must hold a mapping of keys` }]);
  return doc as Record<string, unknown>;
}

/**
 * The transport the configuration selects and whether anyone chose it (PANOPTES_TRANSPORT or the
 * file's `transport` key) rather than it falling back to embedded for want of brokers.
 */
export function transportChoice(opts: LoadOptions = {}): { transport: TransportKind; explicit: boolean } {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.PANOPTES_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  const config = configFrom(opts, fromFile);
  const explicit = (env.PANOPTES_TRANSPORT !== undefined && env.PANOPTES_TRANSPORT !== '') || fromFile.transport !== undefined;
  return { transport: config.transport, explicit };
}

/** Loads and validates the configuration; throws one ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const file = opts.file ?? (opts.env ?? process.env).PANOPTES_CONFIG;
  return configFrom(opts, file ? readConfigFile(file) : {});
}

/** The configuration from an already-read file's mapping, the environment and the overrides. */
function configFrom(opts: LoadOptions, fromFile: Record<string, unknown>): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.PANOPTES_CONFIG;
  const issues: ConfigIssue[] = [];
  const known = new Set(CONFIG_SPEC.map((s) => s.key as string));
  for (const k of Object.keys(fromFile)) {
    if (!known.has(k) && !PIPELINE_KEYS.includes(k)) issues.push({ path: k, message: `unknown key${didYouMean(k, [...known, ...PIPELINE_KEYS])} (known keys: ${[...known].join(', ')})` });
  }
  const out: Partial<Config> = {};
  // Two passes so defaults may depend on other keys (transport on brokers, registry on transport).
  const explicit = new Map<keyof Config, unknown>();
  for (const spec of CONFIG_SPEC) {
    let raw: unknown;
    let path = spec.key as string;
    if (opts.overrides && opts.overrides[spec.key] !== undefined) raw = opts.overrides[spec.key];
    else if (env[spec.env] !== undefined && env[spec.env] !== '') {
      raw = env[spec.env];
      path = `${spec.key} (env ${spec.env})`;
    } else if (fromFile[spec.key] !== undefined) {
      raw = fromFile[spec.key];
      path = `${spec.key} (file ${file})`;
    } else continue;
    const v = coerce(spec, raw, path, issues);
    if (v !== undefined) explicit.set(spec.key, v);
  }
  // Defaults see every explicit value, whatever the declaration order.
  for (const [k, v] of explicit) (out as Record<string, unknown>)[k] = v;
  for (const spec of CONFIG_SPEC) {
    if (!explicit.has(spec.key)) (out as Record<string, unknown>)[spec.key] = spec.default(out);
  }
  if (out.transport === 'kafka' && out.brokers!.length === 0) out.brokers = ['127.0.0.1:9092'];
  if (out.producerMaxInFlight! > 5) issues.push({ path: 'producerMaxInFlight', message: `expected an integer from 1 to 5 (Kafka's limit for idempotent producers), got ${out.producerMaxInFlight}` });
  if (typeof out.replicationFactor === 'number' && typeof out.minInsyncReplicas === 'number' && out.minInsyncReplicas > out.replicationFactor) {
    issues.push({ path: 'minInsyncReplicas', message: `must be at most replicationFactor (${out.replicationFactor}), got ${out.minInsyncReplicas}: no write could ever succeed` });
  }
  if (out.metricsListen && !HOSTPORT.test(out.metricsListen)) issues.push({ path: 'metricsListen', message: `expected host:port, got "${out.metricsListen}"` });
  if (issues.length > 0) throw new ConfigError(issues);
  return out as Config;
}

/** host:port → {host, port}, for listen options. */
export function parseListen(value: string, what = 'listen address'): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = i > 0 ? value.slice(0, i).replace(/^\[|\]$/g, '') : '';
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError([{ path: what, message: `expected host:port (e.g. 127.0.0.1:9201), got "${value}"` }]);
  }
  return { host, port };
}

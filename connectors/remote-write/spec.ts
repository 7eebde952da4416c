/**
 * The receiver's options, declared once: `panoptes ingest`'s CLI options, the option table of
 * connectors/remote-write/README.md (rewritten by `npm run docs`; a unit
 * test fails when it is stale) and the validation of
 * a config object (`ingestSpec.check(obj, 'ingest')`, every problem with its path) all come from here.
 *
 * Limits follow what Prometheus and Mimir refuse, with defaults generous enough for any sender
 * configured as the Prometheus documentation suggests; each refusal is a 4xx with a one-line
 * reason, decided before anything reaches Kafka.
 */
import { readFileSync } from 'node:fs';
import { readBasicAuthFile, readBearerTokenFile } from '../../pipelines/core/auth.ts';
import type { ConfigIssue } from '../../pipelines/core/errors.ts';
import { ConfigError } from '../../pipelines/core/errors.ts';
import { defineSpec, f, HOSTPORT, type Options } from '../../pipelines/core/spec.ts';
import type { Limits } from './wire/write-request.ts';

const MiB = 1024 * 1024;
export const MAX_WORKERS = 32;
/** Avro readers built on avsc refuse a long beyond ±(2^53−2) ("potential precision loss"). */
const MAX_AVRO_LONG = 2 ** 53 - 2;

export const ingestSpec = defineSpec(
  'ingest',
  {
    listen: f.string({ doc: 'Address to serve `POST /api/v1/write`, `GET /healthz` and `GET /metrics` on. Port 0 picks a free port.', default: '127.0.0.1:9201', pattern: HOSTPORT, placeholder: 'HOST:PORT' }),
    workers: f.int({
      doc: 'Receiver processes sharing the listen port (node:cluster), each with its own Kafka producer; limits apply per process, `/metrics` sums all. Default: with Kafka one per available core, at most 4; without Kafka 1. The choice is logged at start.',
      min: 1,
      max: MAX_WORKERS,
    }),
    deadlineMs: f.int({ doc: "How long Kafka may take to acknowledge a request's records (ms); past it the reply is 503 and Prometheus retries. A produce not started by then is not started.", default: 5000, min: 1 }),
    maxSeriesPerRequest: f.int({ doc: 'Time series in one request; more is refused with 400 `too_many_series` while decoding, so a small body that inflates to millions of series costs little.', default: 100_000, min: 1 }),
    maxSamplesPerRequest: f.int({ doc: 'Samples in one request, all series together; more is refused with 400 `too_many_samples`.', default: 1_000_000, min: 1 }),
    maxLabelsPerSeries: f.int({ doc: 'Labels of one series, `__name__` included (Prometheus `label_limit`, Mimir `max_label_names_per_series`); more is refused with 400 `too_many_labels`.', default: 128, min: 1, max: 65_536 }),
    maxLabelNameBytes: f.int({ doc: 'Bytes of one label name (Prometheus `label_name_length_limit`, Mimir `max_label_name_length`); longer is refused with 400 `label_name_too_long`.', default: 1024, min: 1 }),
    maxLabelValueBytes: f.int({ doc: 'Bytes of one label value, the metric name included (Prometheus `label_value_length_limit`, Mimir `max_label_value_length`); longer is refused with 400 `label_value_too_long`.', default: 4096, min: 1 }),
    maxSampleAgeMs: f.int({ doc: 'Refuse samples older than this many ms before now with 400 `timestamp_out_of_range`. 0: any age back to 1970-01-01 (backfill); samples before 1970 are always refused.', default: 0, min: 0 }),
    maxSampleFutureMs: f.int({ doc: "Refuse samples stamped more than this many ms after the receiver's clock with 400 `timestamp_out_of_range` (Mimir's `creation_grace_period`).", default: 600_000, min: 0 }),
    maxBodyBytes: f.int({ doc: 'Largest snappy-compressed body; larger gets 413 `body_too_large`, judged from `Content-Length` before the body is read and again while it streams in.', default: 16 * MiB, min: 1 }),
    maxDecodedBytes: f.int({ doc: "Largest uncompressed WriteRequest; larger gets 413 `body_too_large`, judged from the snappy header before anything is inflated, and the inflation never writes past the header's length.", default: 32 * MiB, min: 1 }),
    maxRecordBytes: f.int({ doc: "Largest Avro record (one series of one request); larger is refused with 400 `record_too_large` instead of failing in Kafka. Keep it below the topic's `max.message.bytes` (Kafka's default 1,048,588) and the producer's `message.max.bytes` (librdkafka's default 1,000,000).", default: 1_000_000, min: 64 }),
    maxInflight: f.int({ doc: 'Requests in progress at once; beyond it the reply is 429 `overloaded` with Retry-After, before the body is read.', default: 64, min: 1 }),
    maxInflightBytes: f.int({ doc: 'Compressed bytes of the requests in progress (declared length, or --max-body-bytes when unknown); beyond it the reply is 429. At least --max-body-bytes.', default: 256 * MiB, min: 1 }),
    retryAfter: f.int({ doc: 'Seconds in the Retry-After header of 429 and 503 replies.', default: 1, min: 0 }),
    bearerTokenFile: f.string({ doc: 'Require `Authorization: Bearer <token>`; the file holds the token (surrounding whitespace trimmed).', placeholder: 'FILE', nonEmpty: true }),
    basicAuthFile: f.string({ doc: 'Require HTTP basic auth; the file holds one line `username:password` (the password may contain `:`).', placeholder: 'FILE', nonEmpty: true }),
    tlsCert: f.string({ doc: 'PEM certificate (chain): serve HTTPS. Needs --tls-key.', placeholder: 'FILE', nonEmpty: true }),
    tlsKey: f.string({ doc: 'PEM private key of --tls-cert.', placeholder: 'FILE', nonEmpty: true }),
    nullSink: f.boolean({ doc: 'Decode and validate, then drop: no Kafka, no registry (for measuring the receiver alone).', default: false }),
    maxSamplesPerRecord: f.int({ doc: "Samples of one record: a longer series becomes several records with the same key, in order, so no record nears Kafka's message size limit.", default: 10_000, min: 1, max: 1_000_000, advanced: true }),
    source: f.string({ doc: 'The MetricBatch `source` field of every record.', default: 'remote-write', nonEmpty: true, flag: false, advanced: true }),
  },
  {
    summary: 'Prometheus remote-write 1.0 receiver: one Avro MetricBatch per series on the metrics topic.',
    rules: (v) => {
      const issues: ConfigIssue[] = [];
      if (v.maxInflightBytes < v.maxBodyBytes) issues.push({ path: 'maxInflightBytes', message: `must be at least maxBodyBytes (${v.maxBodyBytes}), or no request of the largest size could ever be admitted` });
      if ((v.tlsCert === undefined) !== (v.tlsKey === undefined)) issues.push({ path: v.tlsCert === undefined ? 'tlsCert' : 'tlsKey', message: 'tlsCert and tlsKey go together' });
      return issues;
    },
  },
);

export type IngestOptions = Options<typeof ingestSpec.fields>;

/** What the spec declares that only the command uses (files are read into ReceiverOptions' secrets). */
type CommandOnly = 'workers' | 'nullSink' | 'bearerTokenFile' | 'basicAuthFile' | 'tlsCert' | 'tlsKey';
const COMMAND_ONLY: readonly CommandOnly[] = ['workers', 'nullSink', 'bearerTokenFile', 'basicAuthFile', 'tlsCert', 'tlsKey'];

/** The options one receiver runs with: the spec's values plus the secrets its files held. */
export type ReceiverOptions = Omit<IngestOptions, CommandOnly> & {
  /** Accept `Authorization: Bearer <token>` with this token. */
  bearerToken?: string;
  /** Accept HTTP basic auth with this user and password. */
  basicAuth?: { username: string; password: string };
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
};

/** Fills defaults and validates (programmatic use: tests, the lab); one ConfigError lists every problem. */
export function receiverOptions(partial: Partial<ReceiverOptions>): ReceiverOptions {
  const { bearerToken, basicAuth, tls, ...plain } = partial;
  for (const k of COMMAND_ONLY) delete (plain as Record<string, unknown>)[k];
  const r = ingestSpec.check(Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined)));
  const issues = [...r.issues];
  if (bearerToken !== undefined && bearerToken.length === 0) issues.push({ path: 'bearerToken', message: 'expected a non-empty token' });
  if (basicAuth !== undefined && (basicAuth.username.length === 0 || basicAuth.username.includes(':'))) issues.push({ path: 'basicAuth.username', message: 'expected a non-empty user name without ":"' });
  if (issues.length > 0) throw new ConfigError(issues);
  const o = r.value! as ReceiverOptions;
  for (const k of COMMAND_ONLY) delete (o as Record<string, unknown>)[k];
  if (bearerToken !== undefined) o.bearerToken = bearerToken;
  if (basicAuth !== undefined) o.basicAuth = basicAuth;
  if (tls !== undefined) o.tls = tls;
  return o;
}

/**
 * The spec's values (from the command line or a pipeline file) → one receiver's options: reads the
 * secret and certificate files (ConfigError naming the key when one cannot be read).
 */
export function receiverOptionsOf(o: IngestOptions): ReceiverOptions {
  const { bearerTokenFile, basicAuthFile, tlsCert, tlsKey, nullSink: _n, workers: _w, ...plain } = o;
  const out: Partial<ReceiverOptions> = { ...plain };
  // The spec types fields without a default loosely: these are strings when present.
  if (bearerTokenFile !== undefined) out.bearerToken = readBearerTokenFile(String(bearerTokenFile));
  if (basicAuthFile !== undefined) out.basicAuth = readBasicAuthFile(String(basicAuthFile));
  if (tlsCert !== undefined && tlsKey !== undefined) {
    const read = (path: string, k: string) => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new ConfigError([{ path: k, message: `cannot read ${path}: ${(err as Error).message}` }]);
      }
    };
    out.tls = { cert: read(String(tlsCert), 'tlsCert'), key: read(String(tlsKey), 'tlsKey') };
  }
  return receiverOptions(out);
}

/** The decoder's limits for a request received at `nowMs`. */
export function limitsAt(o: ReceiverOptions, nowMs: number): Limits {
  return {
    maxSeries: o.maxSeriesPerRequest,
    maxSamples: o.maxSamplesPerRequest,
    maxLabels: o.maxLabelsPerSeries,
    maxLabelNameBytes: o.maxLabelNameBytes,
    maxLabelValueBytes: o.maxLabelValueBytes,
    minTimestampMs: o.maxSampleAgeMs > 0 ? Math.max(0, nowMs - o.maxSampleAgeMs) : 0,
    maxTimestampMs: Math.min(MAX_AVRO_LONG, nowMs + o.maxSampleFutureMs),
    maxRecordBytes: o.maxRecordBytes,
    maxSamplesPerRecord: o.maxSamplesPerRecord,
  };
}

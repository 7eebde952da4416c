/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body) over a
 * schema registry reached through @confluentinc/schemaregistry's client (real REST client, or its
 * in-memory MockClient for the embedded mode).
 *
 * Why not the package's AvroSerializer on the hot path: it resolves the subject and runs its rule
 * engine on every call (async, several cache look-ups); measured here at ~15,000 records/s against
 * several times that for avsc with a cached type (see tests/bench/transport.bench.ts). So the
 * registry client does what needs the registry (register with BACKWARD compatibility, fetch
 * unknown ids) and avsc, the library the package itself uses, encodes with cached types.
 * The bytes are the same: the round-trip test decodes ours with the package's deserializer.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Client } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { DecodeError, SchemaError, ConnectError } from './errors.ts';
import { TOPICS, topicName, type TopicKey } from './topics.ts';

const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

export function loadSchemaText(file: string): string {
  return readFileSync(join(SCHEMA_DIR, file), 'utf8');
}

/** The avsc type of a schema file (one registry per file: files are self-contained). */
export function schemaType(file: string): avro.Type {
  return avro.Type.forSchema(JSON.parse(loadSchemaText(file)) as avro.Schema, { registry: {} });
}

export interface RegistryOptions {
  /** `mock://…` for the in-memory client, otherwise the registry's Confluent-API base URL. */
  url: string;
  timeoutMs?: number;
}

/**
 * Creates the registry client. Imports deep paths on purpose: the package root loads cloud KMS
 * SDKs (about a second) that Panoptes does not use.
 */
export async function createRegistryClient(opts: RegistryOptions): Promise<Client> {
  if (opts.url.startsWith('mock://')) {
    const { MockClient } = await import('@confluentinc/schemaregistry/dist/mock-schemaregistry-client.js');
    return new MockClient({ baseURLs: [opts.url] });
  }
  const { SchemaRegistryClient } = await import('@confluentinc/schemaregistry/dist/schemaregistry-client.js');
  return new SchemaRegistryClient({
    baseURLs: [opts.url],
    maxRetries: 2,
    retriesWaitMs: 200,
    retriesMaxWaitMs: 1000,
    createAxiosDefaults: { timeout: opts.timeoutMs ?? 10000 },
  });
}

const MAGIC = 0;

export interface DecodedRecord<T> {
  schemaId: number;
  value: T;
}

export class Serde {
  private readonly writers = new Map<string, { id: number; type: avro.Type }>();
  /** Reader types by schema file, for resolving records written with older/newer schemas. */
  private readonly readers = new Map<string, avro.Type>();
  /** schema id → decoder into the reader schema of the topic it was looked up for. */
  private readonly decoders = new Map<string, (buf: Buffer) => unknown>();

  constructor(readonly client: Client, private readonly prefix = '', private readonly registryUrl = '') {}

  subject(topic: string): string {
    return `${topic}-value`;
  }

  /**
   * Registers the schema of each topic under `<topic>-value` with BACKWARD compatibility; a schema
   * the registry refuses as incompatible fails start with the registry's reason.
   */
  async registerAll(keys: TopicKey[] = Object.keys(TOPICS) as TopicKey[]): Promise<void> {
    for (const key of keys) {
      const file = TOPICS[key].schema;
      if (file) await this.register(topicName(key, this.prefix), file);
    }
  }

  /** Registers one schema file for one topic (also used for ad-hoc topics: benchmarks, tests). */
  async register(topic: string, file: string): Promise<number> {
    const subject = this.subject(topic);
    const text = loadSchemaText(file);
    let id: number;
    try {
      await this.client.updateConfig(subject, { compatibility: 'BACKWARD' as never });
      id = await this.client.register(subject, { schemaType: 'AVRO', schema: text }, false);
    } catch (err) {
      throw this.registryError(`registering the schema of ${topic} (${file})`, err);
    }
    const type = schemaType(file);
    this.writers.set(topic, { id, type });
    this.readers.set(topic, type);
    return id;
  }

  private registryError(what: string, err: unknown): Error {
    const e = err as { message?: string; status?: number; code?: string };
    const msg = e?.message ?? String(err);
    if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timeout|socket hang up|Network Error/i.test(msg)) {
      return new ConnectError(`cannot reach the schema registry at ${this.registryUrl}: ${msg}. Is it running? (npm run infra:up starts one on 127.0.0.1:8081)`, { cause: err });
    }
    return new SchemaError(`${what}: ${msg}`, { cause: err });
  }

  schemaId(topic: string): number {
    const w = this.writers.get(topic);
    if (!w) throw new SchemaError(`no schema registered for topic ${topic}: call registerAll() at start`);
    return w.id;
  }

  /** Encodes a record for a topic: framing + Avro body. Throws on records that do not fit the schema. */
  encode(topic: string, record: unknown): Buffer {
    const w = this.writers.get(topic);
    if (!w) throw new SchemaError(`no schema registered for topic ${topic}: call registerAll() at start`);
    let body: Buffer;
    try {
      body = w.type.toBuffer(record);
    } catch (err) {
      const paths: string[] = [];
      w.type.isValid(record, { errorHook: (p) => paths.push(p.join('.') || '(root)') });
      throw new SchemaError(`record does not match the schema of ${topic}${paths.length ? ` at ${paths.join(', ')}` : ''}: ${(err as Error).message}`, { cause: err });
    }
    const out = Buffer.allocUnsafe(body.length + 5);
    out[0] = MAGIC;
    out.writeUInt32BE(w.id, 1);
    body.copy(out, 5);
    return out;
  }

  /**
   * Decodes a framed record into the topic's current reader schema. Bad framing, an unknown schema
   * id or a body that does not parse become a DecodeError carrying the reason (for the dead-letter
   * topic).
   */
  async decode<T>(topic: string, buf: Buffer | null): Promise<DecodedRecord<T>> {
    if (!buf || buf.length < 5) throw new DecodeError(`not Confluent-framed Avro: ${buf ? `${buf.length} bytes, need at least 5` : 'null value'}`);
    if (buf[0] !== MAGIC) throw new DecodeError(`not Confluent-framed Avro: magic byte is ${buf[0]}, expected 0`);
    const id = buf.readUInt32BE(1);
    const key = `${topic}\u0000${id}`;
    let dec = this.decoders.get(key);
    if (!dec) {
      dec = await this.decoderFor(topic, id);
      this.decoders.set(key, dec);
    }
    try {
      return { schemaId: id, value: dec(buf.subarray(5)) as T };
    } catch (err) {
      throw new DecodeError(`Avro body does not decode with schema id ${id}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async decoderFor(topic: string, id: number): Promise<(buf: Buffer) => unknown> {
    let info;
    try {
      info = await this.client.getBySubjectAndId(this.subject(topic), id);
    } catch (err) {
      const e = this.registryError(`looking up schema id ${id}`, err);
      if (e instanceof ConnectError) throw e;
      throw new DecodeError(`unknown schema id ${id} for ${topic}: ${(err as Error).message}`, { cause: err });
    }
    let writer: avro.Type;
    try {
      writer = avro.Type.forSchema(JSON.parse(info.schema) as avro.Schema, { registry: {} });
    } catch (err) {
      throw new DecodeError(`schema id ${id} is not a usable Avro schema: ${(err as Error).message}`, { cause: err });
    }
    const reader = this.readers.get(topic);
    if (!reader || reader.equals(writer)) return (b) => writer.fromBuffer(b);
    let resolver;
    try {
      resolver = reader.createResolver(writer);
    } catch (err) {
      throw new DecodeError(`records written with schema id ${id} cannot be read with the current schema of ${topic}: ${(err as Error).message}`, { cause: err });
    }
    return (b) => reader.fromBuffer(b, resolver);
  }
}

/** Registers every topic's schema and returns a ready Serde. */
export async function createSerde(opts: RegistryOptions & { prefix?: string; topics?: TopicKey[] }): Promise<Serde> {
  const client = await createRegistryClient(opts);
  const serde = new Serde(client, opts.prefix ?? '', opts.url);
  await serde.registerAll(opts.topics);
  return serde;
}

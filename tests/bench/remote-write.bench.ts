/**
 * The remote-write receiver end to end over loopback: a load generator (child process,
 * remote-write-load.ts) posts 1,000 series × 10 samples per request from several keep-alive
 * connections for a bounded time; the receiver runs here, first with the null sink (decode and
 * validate only), then, when a broker answers on 127.0.0.1:9092, into Kafka (Avro records,
 * acks=all, idempotent producer) in the same run. Figures: accepted samples/s, client-side
 * p50/p99 request latency, receiver CPU per million samples (process.cpuUsage of this process:
 * HTTP, snappy, decode, Avro encoding, kafkajs; not the broker, not the generator).
 * Env: PANOPTES_BENCH_RW_SECONDS (default 10), PANOPTES_BENCH_RW_CONCURRENCY (default 8).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { RemoteWriteReceiver } from '../../connectors/remote-write/server.ts';
import { NullSink, type MetricSink } from '../../connectors/remote-write/sink.ts';
import { TopicSink } from '../../connectors/remote-write/topic-sink.ts';
import { createSerde } from '../../pipelines/core/serde.ts';
import { KafkaTransport } from '../../pipelines/core/transport/kafka.ts';
import { BROKER, uniquePrefix } from '../helpers/infra.ts';

const SECONDS = Number(process.env.PANOPTES_BENCH_RW_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.PANOPTES_BENCH_RW_CONCURRENCY ?? 8);
const HERE = dirname(fileURLToPath(import.meta.url));

interface LoadResult {
  elapsedS: number;
  requests: number;
  statuses: Record<string, number>;
  acceptedSamples: number;
  bodyBytes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Figures extends LoadResult {
  sink: string;
  samplesPerS: number;
  cpuSecondsPerMillionSamples: number;
  loadAvg1m: number;
}

function generate(url: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'remote-write-load.ts'), url, String(SECONDS), String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
      } catch (err) {
        reject(err);
      }
    });
  });
}

async function measure(label: string, sink: MetricSink): Promise<Figures> {
  const receiver = new RemoteWriteReceiver({ listen: '127.0.0.1:0', maxInflight: 256, deadlineMs: 10_000 }, { sink, registry: new Registry() });
  const url = `${await receiver.start()}/api/v1/write`;
  const cpu0 = process.cpuUsage();
  const load = await generate(url);
  const cpu = process.cpuUsage(cpu0);
  await receiver.close();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const f: Figures = {
    sink: label,
    ...load,
    samplesPerS: load.acceptedSamples / load.elapsedS,
    cpuSecondsPerMillionSamples: load.acceptedSamples > 0 ? cpuS / (load.acceptedSamples / 1e6) : NaN,
    loadAvg1m: loadavg()[0]!,
  };
  console.log(
    `${label.padEnd(10)} ${f.samplesPerS.toFixed(0).padStart(9)} samples/s accepted | ${f.requests} requests ${JSON.stringify(f.statuses)} | ` +
      `latency p50 ${f.p50Ms.toFixed(1)} ms p99 ${f.p99Ms.toFixed(1)} ms | receiver CPU ${f.cpuSecondsPerMillionSamples.toFixed(2)} s per million samples | load avg ${f.loadAvg1m.toFixed(1)}`,
  );
  return f;
}

function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

export async function run(): Promise<void> {
  console.log(`remote-write: ${CONCURRENCY} connections × ${SECONDS} s per sink, 1,000 series × 10 samples per request`);
  const nul = await measure('null', new NullSink());
  const results: Figures[] = [nul];
  if (await reachable(BROKER)) {
    for (const maxInFlight of [1, 5]) {
      const kt = new KafkaTransport({ brokers: [BROKER], clientId: 'bench-rw', connectTimeoutMs: 15000, requestTimeoutMs: 30000, maxInFlight });
      await kt.connect();
      const prefix = uniquePrefix('benchrw');
      const topic = `${prefix}metrics`;
      await kt.ensureTopics([{ name: topic, partitions: 6 }]);
      // The in-memory registry client: encoding is the same avsc work either way.
      const serde = await createSerde({ url: 'mock://bench-rw', prefix, topics: ['metrics'] });
      const producer = await kt.producer();
      const f = await measure(`kafka/if${maxInFlight}`, new TopicSink({ producer, serde, topic }));
      results.push(f);
      await producer.close();
      await kt.close();
      console.log(`           kafka (max in-flight ${maxInFlight}) / null throughput ratio: ${(f.samplesPerS / nul.samplesPerS).toFixed(2)}`);
    }
  } else {
    console.log(`no broker on ${BROKER}: Kafka figures skipped`);
  }
  console.log('JSON:' + JSON.stringify({ bench: 'remote-write', seconds: SECONDS, concurrency: CONCURRENCY, results }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();

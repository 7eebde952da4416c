/**
 * The second table of `npm run bench -- remote-write` (the first, remote-write.bench.ts, is the
 * receiver against Prometheus from outside). The remote-write receiver end to end over loopback: a load generator (child process,
 * remote-write-load.ts) posts 1,000 series × 10 samples per request from several keep-alive
 * connections for a bounded time; the receiver runs here, first with the null sink (decode and
 * validate only), then, when a broker answers on 127.0.0.1:9092, into Kafka (Avro records,
 * acks=all, idempotent producer) through each Kafka client, in the same run.
 *
 * Figures: accepted samples/s, client-side p50/p99 request latency, and CPU per 100,000 samples:
 * the receiver's (process.cpuUsage of this process: HTTP, snappy, decode, Avro encoding, the
 * client, librdkafka's native threads included; not the generator) and the broker's (from
 * /proc of the process listening on the broker port, when it is on this machine; the shared
 * broker also serves other clients, so that figure is an upper bound). CPU per sample varies
 * much less with machine load than samples/s does.
 *
 * The `cli-*` variants run `panoptes ingest` as a child process instead, with librdkafka and
 * --workers 1 or 2 (the registry is then the real one, and the receiver's CPU is that of the
 * primary and its workers, from /proc).
 *
 * Env: PANOPTES_BENCH_RW_SECONDS (default 10), PANOPTES_BENCH_RW_CONCURRENCY (default 8),
 * PANOPTES_BENCH_RW_SINKS (comma list of null, kafkajs, kafkajs-if5, librdkafka, cli-w1, cli-w2;
 * default all but cli-w1).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { NullSink, RemoteWriteReceiver, TopicSink, type MetricSink } from '../../connectors/remote-write/index.ts';
import { createSerde } from '../../pipelines/core/serde.ts';
import { KafkaTransport } from '../../pipelines/core/transport/kafka.ts';
import { RdKafkaTransport } from '../../pipelines/core/transport/rdkafka.ts';
import type { Transport } from '../../pipelines/core/transport/types.ts';
import { BROKER, REGISTRY, ROOT, uniquePrefix } from '../helpers/infra.ts';

const SECONDS = Number(process.env.PANOPTES_BENCH_RW_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.PANOPTES_BENCH_RW_CONCURRENCY ?? 8);
const SINKS = (process.env.PANOPTES_BENCH_RW_SINKS ?? 'null,kafkajs,kafkajs-if5,librdkafka,cli-w2').split(',').map((s) => s.trim()).filter(Boolean);
const HERE = dirname(fileURLToPath(import.meta.url));
const CLK_TCK = 100;

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
  receiverCpuSPer100kSamples: number;
  brokerCpuSPer100kSamples: number | null;
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

/** The pid listening on the broker's port, when the broker runs on this machine (for its CPU). */
function brokerPid(): number | null {
  try {
    const port = BROKER.slice(BROKER.lastIndexOf(':') + 1);
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process so far (utime and stime of /proc/PID/stat). */
function procCpuS(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** A receiver under test: its write URL, its CPU seconds so far, and how to stop it. */
interface Target {
  url: string;
  cpuS(): number;
  close(): Promise<void>;
}

async function inProcess(sink: MetricSink): Promise<Target> {
  const receiver = new RemoteWriteReceiver({ listen: '127.0.0.1:0', maxInflight: 256, deadlineMs: 10_000 }, { sink, registry: new Registry() });
  const url = `${await receiver.start()}/api/v1/write`;
  return {
    url,
    cpuS: () => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1e6;
    },
    close: () => receiver.close(),
  };
}

/** `panoptes ingest` with librdkafka and N workers, on a topic prefix of its own. */
async function cliReceiver(workers: number): Promise<Target> {
  const env = {
    ...process.env,
    PANOPTES_TRANSPORT: 'kafka',
    PANOPTES_KAFKA_CLIENT: 'librdkafka',
    PANOPTES_BROKERS: BROKER,
    PANOPTES_REGISTRY_URL: REGISTRY,
    PANOPTES_TOPIC_PREFIX: uniquePrefix('benchrwcli'),
    PANOPTES_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'ingest', '--json', '--listen', '127.0.0.1:0', '--max-inflight', '256', '--deadline-ms', '10000', '--workers', String(workers)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`panoptes ingest exited with ${code}`)));
  });
  const tree = () => [child.pid!, ...childrenOf(child.pid!)];
  return {
    url,
    cpuS: () => tree().reduce((a, pid) => a + (procCpuS(pid) ?? 0), 0),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function measure(label: string, target: Target): Promise<Figures> {
  const pid = label === 'null' ? null : brokerPid();
  const broker0 = procCpuS(pid);
  const cpu0 = target.cpuS();
  const load = await generate(target.url);
  const cpuS = target.cpuS() - cpu0;
  const broker1 = procCpuS(pid);
  await target.close();
  const per100k = load.acceptedSamples > 0 ? 1e5 / load.acceptedSamples : NaN;
  const f: Figures = {
    sink: label,
    ...load,
    samplesPerS: load.acceptedSamples / load.elapsedS,
    receiverCpuSPer100kSamples: cpuS * per100k,
    brokerCpuSPer100kSamples: broker0 !== null && broker1 !== null ? (broker1 - broker0) * per100k : null,
    loadAvg1m: loadavg()[0]!,
  };
  const broker = f.brokerCpuSPer100kSamples === null ? '' : ` broker ${f.brokerCpuSPer100kSamples.toFixed(3)}`;
  console.log(
    `${label.padEnd(12)} ${f.samplesPerS.toFixed(0).padStart(9)} samples/s accepted | ${f.requests} requests ${JSON.stringify(f.statuses)} | ` +
      `latency p50 ${f.p50Ms.toFixed(1)} ms p99 ${f.p99Ms.toFixed(1)} ms | CPU s per 100k samples: receiver ${f.receiverCpuSPer100kSamples.toFixed(3)}${broker} | load avg ${f.loadAvg1m.toFixed(1)}`,
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

function transportFor(sink: string): Transport {
  if (sink === 'librdkafka') return new RdKafkaTransport({ brokers: [BROKER], clientId: 'bench-rw', connectTimeoutMs: 15000, requestTimeoutMs: 30000 });
  const maxInFlight = sink === 'kafkajs-if5' ? 5 : 1;
  return new KafkaTransport({ brokers: [BROKER], clientId: 'bench-rw', connectTimeoutMs: 15000, requestTimeoutMs: 30000, maxInFlight });
}

export async function run(): Promise<void> {
  if (process.env.PANOPTES_BENCH_RW_INPROCESS === '0') return;
  console.log(`remote-write: ${CONCURRENCY} connections × ${SECONDS} s per sink, 1,000 series × 10 samples per request`);
  const results: Figures[] = [];
  let nul: Figures | null = null;
  if (SINKS.includes('null')) results.push((nul = await measure('null', await inProcess(new NullSink()))));
  const kafkaSinks = SINKS.filter((s) => s !== 'null');
  if (kafkaSinks.length > 0 && !(await reachable(BROKER))) {
    console.log(`no broker on ${BROKER}: Kafka figures skipped`);
  } else {
    for (const name of kafkaSinks) {
      if (name.startsWith('cli-w')) {
        let target: Target;
        try {
          target = await cliReceiver(Number(name.slice('cli-w'.length)));
        } catch (err) {
          console.log(`${name}: unavailable (${(err as Error).message})`);
          continue;
        }
        const f = await measure(name, target);
        results.push(f);
        if (nul) console.log(`             ${name} / null throughput ratio: ${(f.samplesPerS / nul.samplesPerS).toFixed(2)}`);
        continue;
      }
      const kt = transportFor(name);
      try {
        await kt.connect();
      } catch (err) {
        console.log(`${name}: unavailable (${(err as Error).message})`);
        continue;
      }
      const prefix = uniquePrefix('benchrw');
      const topic = `${prefix}metrics`;
      await kt.ensureTopics([{ name: topic, partitions: 6 }]);
      // The in-memory registry client: encoding is the same avsc work either way.
      const serde = await createSerde({ url: 'mock://bench-rw', prefix, topics: ['metrics'] });
      const producer = await kt.producer({ deliveryTimeoutMs: 10_000, groupCommit: true }); // as panoptes ingest creates it
      const f = await measure(name, await inProcess(new TopicSink({ producer, serde, topic })));
      results.push(f);
      await producer.close();
      await kt.close();
      if (nul) console.log(`             ${name} / null throughput ratio: ${(f.samplesPerS / nul.samplesPerS).toFixed(2)}`);
    }
  }
  console.log('JSON:' + JSON.stringify({ bench: 'remote-write', seconds: SECONDS, concurrency: CONCURRENCY, results }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();

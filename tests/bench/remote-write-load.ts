/**
 * Load generator for remote-write.bench.ts, run as a child process so the receiver's CPU figures
 * (process.cpuUsage in the parent) exclude it. Posts pre-built WriteRequests (1,000 series × 10
 * samples, snappy) over loopback from CONCURRENCY keep-alive connections for SECONDS, then prints
 * one JSON line: replies by status, accepted samples, and client-side latencies.
 * Usage: node --import tsx tests/bench/remote-write-load.ts URL SECONDS CONCURRENCY
 */
import { Agent, request } from 'node:http';
import { encodeBody, type PbTimeSeries } from '../unit/remote-write/proto.ts';

const [url, secondsArg, concArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 10);
const concurrency = Number(concArg ?? 8);
const SERIES = 1000;
const SAMPLES = 10;

/** Realistic label sets: node-exporter and HTTP server metrics over 50 instances. */
function buildBody(round: number): Buffer {
  const t0 = 1_764_288_000_000 + round * SAMPLES * 15_000;
  const ts: PbTimeSeries[] = [];
  for (let i = 0; i < SERIES; i++) {
    const instance = `10.0.${Math.floor(i / 20) % 50}.${(i * 7) % 250}:9100`;
    const labels =
      i % 2 === 0
        ? [
            { name: '__name__', value: 'node_cpu_seconds_total' },
            { name: 'cpu', value: String(i % 16) },
            { name: 'instance', value: instance },
            { name: 'job', value: 'node' },
            { name: 'mode', value: ['user', 'system', 'idle', 'iowait'][i % 4]! },
          ]
        : [
            { name: '__name__', value: 'http_server_requests_seconds_count' },
            { name: 'code', value: String([200, 201, 404, 500][i % 4]) },
            { name: 'instance', value: instance },
            { name: 'job', value: 'api' },
            { name: 'method', value: ['GET', 'POST'][i % 2]! },
            { name: 'uri', value: `/api/v1/orders/{id}/items/${i % 37}` },
          ];
    ts.push({ labels, samples: Array.from({ length: SAMPLES }, (_, k) => ({ timestamp: t0 + k * 15_000, value: 1000 * i + round * 10 + k + Math.random() })) });
  }
  return encodeBody({ timeseries: ts });
}

const bodies = Array.from({ length: 8 }, (_, r) => buildBody(r));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const statuses: Record<string, number> = {};
const latencies: number[] = [];
let accepted = 0;
let sentBytes = 0;

function post(body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url!,
      {
        method: 'POST',
        agent,
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0', 'Content-Length': String(body.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const end = performance.now() + seconds * 1000;
const start = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; performance.now() < end; i += concurrency) {
      const body = bodies[i % bodies.length]!;
      const t = performance.now();
      const status = await post(body);
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 204) accepted += SERIES * SAMPLES;
      sentBytes += body.length;
    }
  }),
);
const elapsedS = (performance.now() - start) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({ elapsedS, requests: latencies.length, statuses, acceptedSamples: accepted, bodyBytes: bodies[0]!.length, sentBytes, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: latencies[latencies.length - 1] ?? 0 }) + '\n',
);

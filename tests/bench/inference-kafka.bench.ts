/**
 * The inference pool behind its Kafka interface: open-loop requests produced to
 * inference.requests at fixed rates, results read from inference.results. Reports answered/s,
 * statuses, batch sizes and the client-side round trip (produce → result received), which adds
 * the broker's produce, fetch and commit paths to the pool's latency. Short on purpose (a few
 * seconds per rate); not the Clockwork-vs-FIFO benchmark (inference.bench.ts).
 */
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { topicName } from '../../pipelines/core/topics.ts';
import { startInferenceStage } from '../../pipelines/inference/consumer.ts';
import { buildAllModels } from '../../pipelines/inference/models/build.ts';
import { InferencePool } from '../../pipelines/inference/pool.ts';
import type { InferenceRequestRecord, InferenceResultRecord } from '../../pipelines/inference/records.ts';
import { kafkaConfig, uniquePrefix } from '../helpers/infra.ts';

const RATES = (process.env['PANOPTES_BENCH_RATES'] ?? '200,1000').split(',').map(Number);
const SECONDS = Number(process.env['PANOPTES_BENCH_SECONDS'] ?? 5);
const SLO_MS = Number(process.env['PANOPTES_BENCH_SLO_MS'] ?? 100);

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function run(): Promise<void> {
  const prefix = uniquePrefix('bench-inference-kafka');
  const config = kafkaConfig(prefix, { PANOPTES_KAFKA_CLIENT: process.env['PANOPTES_KAFKA_CLIENT'] ?? 'kafkajs' });
  const models = buildAllModels().map((m) => ({ name: m.name, version: '1', sizeBytes: m.bytes.byteLength, sloMs: SLO_MS, signature: m.signature, bytes: m.bytes }));
  const registry = new Registry();
  const pool = await InferencePool.start(models, registry, { workers: 1 });
  const rt = await createRuntime(config, { stage: 'inference', metrics: registry });
  const stage = await startInferenceStage(rt, pool);
  const requests = topicName('inferenceRequests', prefix);
  const results = topicName('inferenceResults', prefix);
  const received = new Map<string, { r: InferenceResultRecord; at: number }>();
  const reader = await rt.transport.consumer({ groupId: `${prefix}reader`, fromBeginning: true });
  await reader.subscribe([results]);
  await reader.run({
    eachBatch: async (b) => {
      const at = Date.now();
      for (const rec of b.records) {
        const r = (await rt.serde.decode<InferenceResultRecord>(results, rec.value)).value;
        received.set(r.requestId, { r, at });
      }
    },
  });
  const producer = await rt.transport.producer();
  const input = Array.from({ length: 32 }, (_, i) => Math.sin(i));
  console.log(`kafka client ${config.kafkaClient}, 1 worker, model mlp-s, deadline ${SLO_MS} ms from the send time, ${SECONDS} s per rate`);
  console.log('| offered/s | answered/s | ok | rejected | late | error | mean batch | round trip p50 ms | p99 ms | max ms | in pool p50 / p99 ms | in Kafka p50 / p99 ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const rate of RATES) {
      received.clear();
      const sent = new Map<string, number>();
      const start = Date.now();
      const total = Math.round(rate * SECONDS);
      // Open loop in 10 ms ticks: each tick sends the requests due by then, whatever came back.
      let i = 0;
      while (i < total) {
        const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
        const batch: InferenceRequestRecord[] = [];
        for (; i < due; i++) {
          const now = Date.now();
          batch.push({ id: `${rate}-${i}`, model: 'mlp-s', modelVersion: null, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 32], data: input }], deadlineMs: now + SLO_MS, sentAtMs: now });
        }
        if (batch.length > 0) {
          for (const b of batch) sent.set(b.id, b.sentAtMs);
          void producer.send(batch.map((b) => ({ topic: requests, key: b.id, value: rt.serde.encode(requests, b) })));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      const end = Date.now() + 30_000;
      while (received.size < total && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const elapsed = (Math.max(...[...received.values()].map((v) => v.at)) - start) / 1000;
      const counts = { ok: 0, rejected: 0, late: 0, error: 0 };
      let rows = 0;
      let ran = 0;
      const rtt: number[] = [];
      const inPool: number[] = [];
      const inKafka: number[] = [];
      for (const [id, { r, at }] of received) {
        counts[r.status]++;
        if (r.batchSize > 0) {
          rows += r.batchSize;
          ran++;
        }
        rtt.push(at - sent.get(id)!);
        inPool.push(r.totalMs);
        inKafka.push(at - sent.get(id)! - r.totalMs);
      }
      for (const xs of [rtt, inPool, inKafka]) xs.sort((a, b) => a - b);
      const q = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.99).toFixed(1)}`;
      console.log(`| ${rate} | ${(received.size / elapsed).toFixed(0)} | ${counts.ok} | ${counts.rejected} | ${counts.late} | ${counts.error} | ${(rows / Math.max(1, ran)).toFixed(1)} | ${quantile(rtt, 0.5)} | ${quantile(rtt, 0.99)} | ${rtt[rtt.length - 1]} | ${q(inPool)} | ${q(inKafka)} |${received.size < total ? ` (${total - received.size} unanswered)` : ''}`);
    }
  } finally {
    await producer.close();
    await reader.stop();
    await stage.stop();
    await rt.close();
    await pool.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();

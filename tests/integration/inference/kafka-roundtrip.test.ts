/**
 * `panoptes serve` with a real broker: requests on inference.requests, one result each on
 * inference.results. Ok outputs equal the HTTP answer for the same input; an unknown model, a
 * wrong shape and an unmeetable deadline get their statuses; an undecodable record goes to the
 * dead-letter topic; every offset is committed once its result is acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../pipelines/core/cli-types.ts';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { createRuntime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import type { InRecord } from '../../../pipelines/core/transport/types.ts';
import { commands } from '../../../pipelines/inference/cli.ts';
import { writeModels } from '../../../pipelines/inference/models/build.ts';
import type { InferenceRequestRecord, InferenceResultRecord } from '../../../pipelines/inference/records.ts';
import { BROKER, REGISTRY, ensureInfra, kafkaConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { rowOf } from './helpers.ts';

const LISTEN = '127.0.0.1:18031';
const serve = commands.find((c) => c.name === 'serve')!;

interface KServeOutput { name: string; datatype: string; shape: number[]; data: number[] }

test('serve answers every inference.requests record exactly once on inference.results, as over HTTP', { timeout: 90_000 }, async () => {
  ensureInfra();
  const prefix = uniquePrefix('inference-kafka');
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-inference-kafka-'));
  writeModels(dir, undefined, 100);
  const env = { PANOPTES_TRANSPORT: 'kafka', PANOPTES_BROKERS: BROKER, PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'error', PANOPTES_CONNECT_TIMEOUT_MS: '15000' };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);

  const client = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
  const requests = topicName('inferenceRequests', prefix);
  const resultsTopic = topicName('inferenceResults', prefix);
  const deadTopic = topicName('deadLetters', prefix);
  const results: InferenceResultRecord[] = [];
  const dead: InRecord[] = [];
  const reader = await client.transport.consumer({ groupId: `${prefix}reader`, fromBeginning: true });
  await reader.subscribe([resultsTopic, deadTopic]);
  await reader.run({
    eachBatch: async (b) => {
      for (const r of b.records) {
        if (r.topic === deadTopic) dead.push(r);
        else results.push((await client.serde.decode<InferenceResultRecord>(resultsTopic, r.value)).value);
      }
    },
  });
  const producer = await client.transport.producer();

  const ac = new AbortController();
  const lines: string[] = [];
  const io: CliIo = { out: (l) => lines.push(l), err: () => undefined, json: true, signal: ac.signal };
  // --slo-ms: a generous default SLO, so requests without a deadline are not refused on a loaded machine.
  const running = serve.run({ options: { models: dir, listen: LISTEN, workers: 1, 'slo-ms': 5000, kafka: 'auto', group: 'inference-rt', 'max-in-flight': 2000 }, positionals: [] }, io);
  try {
    const started = await waitFor(() => lines[0], 'serve to start', 60_000);
    const info = JSON.parse(started) as { listening: string; kafka: { requests: string; results: string; group: string } | null };
    assert.deepEqual(info.kafka, { requests, results: resultsTopic, group: groupName('inference-rt', prefix) });

    const now = Date.now();
    const req = (id: string, model: string, name: string, shape: number[], data: number[], deadlineMs: number | null = null): InferenceRequestRecord => ({ id, model, modelVersion: null, inputs: [{ name, datatype: 'FP32', shape, data }], deadlineMs, sentAtMs: now });
    const ok: InferenceRequestRecord[] = [
      ...Array.from({ length: 8 }, (_, i) => req(`mlp-${i}`, 'mlp-s', 'input', [1, 32], rowOf(32, i))),
      req('mlp-rows', 'mlp-s', 'input', [3, 32], [...rowOf(32, 20), ...rowOf(32, 21), ...rowOf(32, 22)]),
      ...Array.from({ length: 4 }, (_, i) => req(`z-${i}`, 'zscore-w64', 'window', [1, 64], rowOf(64, i).map((v, j) => (j === 63 ? v * 10 : v)))),
      req('with-deadline', 'mlp-s', 'input', [1, 32], rowOf(32, 30), now + 30_000),
    ];
    const unknown = req('unknown', 'no-such-model', 'input', [1, 32], rowOf(32));
    const wrongShape = req('wrong-shape', 'mlp-s', 'input', [1, 31], rowOf(31));
    // A 1 ms budget from the send time: past before the record can even be consumed.
    const unmeetable = req('unmeetable', 'mlp-s', 'input', [1, 32], rowOf(32), now + 1);
    const expired = req('expired', 'mlp-s', 'input', [1, 32], rowOf(32), now - 60_000);
    const all = [...ok, unknown, wrongShape, unmeetable, expired];
    await producer.send([
      ...all.map((r) => ({ topic: requests, key: r.id, value: client.serde.encode(requests, r) })),
      { topic: requests, key: 'garbage', value: Buffer.from([0, 0, 0, 0, 0, 1, 2, 3]) },
    ]);

    await waitFor(() => results.length >= all.length && dead.length >= 1, `${all.length} results and a dead letter`, 45_000);
    // Every offset committed means every result was acknowledged; nothing more can come after it.
    await waitFor(async () => {
      const high = await client.transport.offsets(requests);
      const committed = await client.transport.committed(groupName('inference-rt', prefix), requests);
      return high.every((p) => p.high === '0' || committed.get(p.partition) === p.high);
    }, 'the request offsets to be committed', 20_000);
    await new Promise((r) => setTimeout(r, 300));

    const byId = new Map<string, InferenceResultRecord[]>();
    for (const r of results) byId.set(r.requestId, [...(byId.get(r.requestId) ?? []), r]);
    assert.deepEqual([...byId.keys()].sort(), all.map((r) => r.id).sort());
    for (const [id, rs] of byId) assert.equal(rs.length, 1, `${id} answered ${rs.length} times`);
    const one = (id: string) => byId.get(id)![0]!;

    for (const r of ok) {
      const got = one(r.id);
      assert.equal(got.status, 'ok', `${r.id}: ${got.error}`);
      assert.equal(got.model, r.model);
      assert.ok(got.totalMs >= got.execMs && got.execMs > 0 && got.batchSize >= 1, `latency breakdown of ${r.id}: ${JSON.stringify(got)}`);
      // The same input over HTTP (KServe v2, as a Triton client sends it) gives the same outputs.
      const res = await fetch(`${info.listening}/v2/models/${r.model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: r.id, inputs: r.inputs }) });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { outputs: KServeOutput[] };
      assert.deepEqual(got.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(Number), data: o.data })), body.outputs);
    }
    assert.deepEqual(one('mlp-rows').outputs[0]!.shape.map(Number), [3, 8]);

    assert.equal(one('unknown').status, 'error');
    assert.match(one('unknown').error ?? '', /PANOPTES_NOT_FOUND.*no-such-model/);
    assert.equal(one('wrong-shape').status, 'error');
    assert.match(one('wrong-shape').error ?? '', /PANOPTES_INPUT.*32/);
    for (const id of ['unmeetable', 'expired']) {
      assert.equal(one(id).status, 'rejected', `${id}: ${JSON.stringify(one(id))}`);
      assert.equal(one(id).execMs, 0, `${id} never ran`);
      assert.ok((one(id).error ?? '').length > 0);
    }

    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.key?.toString(), 'garbage');
    assert.equal(dead[0]!.headers[DLQ_HEADERS.topic], requests);
    assert.equal(dead[0]!.headers[DLQ_HEADERS.stage], 'inference');

    const metrics = await (await fetch(`${info.listening}/metrics`)).text();
    assert.match(metrics, new RegExp(`panoptes_inference_kafka_results_total\\{status="ok"\\} ${ok.length}\\b`));
    assert.match(metrics, /panoptes_inference_kafka_results_total\{status="rejected"\} 2\b/);
    assert.match(metrics, /panoptes_inference_kafka_results_total\{status="error"\} 2\b/);
    assert.match(metrics, new RegExp(`panoptes_transport_consumed_records_total\\{topic="${requests.replace(/\./g, '\\.')}"`));
    assert.match(metrics, /panoptes_inference_kafka_in_flight 0\b/);
    assert.match(metrics, /panoptes_transport_consumer_lag_records\{/);

    ac.abort();
    assert.equal(await running, 0);

    // A restarted server in the same group resumes after the committed offsets: only the new request is answered.
    const again = new AbortController();
    const lines2: string[] = [];
    const running2 = serve.run({ options: { models: dir, listen: LISTEN, workers: 1, 'slo-ms': 5000, kafka: 'auto', group: 'inference-rt', 'max-in-flight': 2000 }, positionals: [] }, { ...io, out: (l) => lines2.push(l), signal: again.signal });
    try {
      await waitFor(() => lines2[0], 'the second serve to start', 60_000);
      const fresh = req('after-restart', 'mlp-s', 'input', [1, 32], rowOf(32, 40));
      await producer.send([{ topic: requests, key: fresh.id, value: client.serde.encode(requests, fresh) }]);
      await waitFor(() => results.some((r) => r.requestId === 'after-restart'), 'the request sent after the restart', 30_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(results.length, all.length + 1, 'nothing answered before the restart was answered again');
    } finally {
      again.abort();
      assert.equal(await running2, 0);
    }
  } finally {
    ac.abort();
    await running.catch(() => undefined);
    await reader.stop();
    await producer.close();
    await client.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

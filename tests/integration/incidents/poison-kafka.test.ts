/**
 * The `anomalies` leg of issue 15's poison test, on real Kafka: an anomaly stamped outside
 * JavaScript's Date range and a record that is not Avro at all are dead-lettered with their reason
 * by the exactly-once incident correlator, which goes on and opens the incident of the good
 * anomaly after them. (The `metrics` and `rules` legs are tests/integration/detect/poison-kafka.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import type { Incident } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { startIncidentCorrelator } from '../../../pipelines/incidents/index.ts';
import { ensureInfra, kafkaConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { anomaly } from '../../unit/rca/pipeline-scenario.ts';

let rt: Runtime;
before(async () => {
  ensureInfra();
  rt = await createRuntime(kafkaConfig(uniquePrefix('incidents-poison')), { stage: 'test' });
});
after(async () => {
  await rt?.close().catch(() => undefined);
});

test('anomalies: poison records are dead-lettered by the incident correlator, which goes on', async () => {
  const topic = topicName('anomalies', rt.config.topicPrefix);
  const bad = anomaly('geo:latency', 9e15, 1);
  const good = anomaly('geo:latency', 1_700_000_000_000, 1);
  const p = await rt.transport.producer();
  // One partition, in this order: the time bomb, bytes that are no record, then a good anomaly.
  await p.send([
    { topic, key: bad.fingerprint, value: rt.serde.encode(topic, bad), partition: 0 },
    { topic, key: bad.fingerprint, value: Buffer.from('definitely not avro'), partition: 0 },
    { topic, key: good.fingerprint, value: rt.serde.encode(topic, good), partition: 0 },
  ]);
  await p.close();
  const out: Incident[] = [];
  const c = await startIncidentCorrelator(rt, { instanceId: 'poison-kafka', fallbackGraph: [['geo', 'search']], onOutput: (i) => out.push(i) });
  try {
    await waitFor(() => out.length > 0, 'the incident of the good anomaly', 60_000);
    assert.equal(out[0]!.status, 'OPEN');
    assert.deepEqual(out[0]!.anomalyIds, [good.id]);
    const dead = await waitFor(async () => {
      const d = (await rt.transport.readToEnd(topicName('deadLetters', rt.config.topicPrefix))).filter((r) => r.headers[DLQ_HEADERS.stage] === 'incidents');
      return d.length >= 2 ? d : null;
    }, 'two dead letters from the incidents stage', 30_000);
    assert.deepEqual(dead.map((r) => [r.headers[DLQ_HEADERS.offset], r.headers[DLQ_HEADERS.kind]]), [['0', 'process'], ['1', 'decode']]);
    assert.match(dead[0]!.headers[DLQ_HEADERS.reason]!, /outside the date range/);
    assert.ok(dead[1]!.value!.equals(Buffer.from('definitely not avro')), 'the original bytes are kept');
    assert.equal(await Promise.race([c.failed.then(() => 'failed'), new Promise((r) => setTimeout(() => r('running'), 200))]), 'running');
  } finally {
    await c.stop();
  }
});

/**
 * Issue 15's poison pill for the incident correlator and the rca consumer: a record whose time is
 * outside JavaScript's Date range (a valid Avro long, e.g. 9e15 ms) is dead-lettered with the
 * reason and the consumer goes on with the next record; it never stops the group or reaches the
 * correlator's state.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { DLQ_HEADERS } from '../../../pipelines/core/dead-letter.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { Incident } from '../../../pipelines/core/records.ts';
import { startIncidentCorrelator } from '../../../pipelines/incidents/index.ts';
import { startRcaConsumer } from '../../../pipelines/rca/index.ts';
import { embeddedConfig, uniquePrefix } from '../../helpers/infra.ts';
import { anomaly } from '../rca/pipeline-scenario.ts';

let rt: Runtime;
before(async () => {
  rt = await createRuntime(embeddedConfig(uniquePrefix('poison')), { stage: 'test' });
});
after(async () => {
  await rt?.close().catch(() => undefined);
});

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function dead(): Promise<{ offset: string; kind: string; stage: string; reason: string }[]> {
  return (await rt.transport.readToEnd(topicName('deadLetters', rt.config.topicPrefix))).map((r) => ({ offset: r.headers[DLQ_HEADERS.offset]!, kind: r.headers[DLQ_HEADERS.kind]!, stage: r.headers[DLQ_HEADERS.stage]!, reason: r.headers[DLQ_HEADERS.reason]! }));
}

test('incidents: an anomaly stamped outside the Date range is dead-lettered; the next one opens an incident', async () => {
  const topic = topicName('anomalies', rt.config.topicPrefix);
  const p = await rt.transport.producer();
  const bad = anomaly('geo:latency', 9e15, 1);
  const good = anomaly('geo:latency', 1_700_000_000_000, 1);
  await p.send([bad, good].map((a) => ({ topic, key: a.fingerprint, value: rt.serde.encode(topic, a) })));
  await p.close();
  const out: Incident[] = [];
  const c = await startIncidentCorrelator(rt, { instanceId: 'poison-1', fallbackGraph: [['geo', 'search']], onOutput: (i) => out.push(i) });
  try {
    await until(() => out.length > 0, 'the incident of the good anomaly');
    assert.equal(out[0]!.status, 'OPEN');
    assert.deepEqual(out[0]!.anomalyIds, [good.id]);
    const d = (await dead()).filter((x) => x.stage === 'incidents');
    assert.deepEqual(d.map((x) => [x.offset, x.kind]), [['0', 'process']]);
    assert.match(d[0]!.reason, /outside the date range/);
    assert.equal(await Promise.race([c.failed.then(() => 'failed'), new Promise((r) => setTimeout(() => r('running'), 100))]), 'running');
  } finally {
    await c.stop();
  }
});

test('rca: an incident whose times are no dates is dead-lettered and the consumer goes on', async () => {
  const topic = topicName('incidents', rt.config.topicPrefix);
  const inc = (id: string, t: number): Incident => ({ id, status: 'OPEN', openedAtMs: t, updatedAtMs: t, resolvedAtMs: null, severity: 'warning', components: ['geo'], anomalyIds: ['a'], anomalyCount: 1, summary: 'x' });
  const p = await rt.transport.producer();
  await p.send([inc('bad', 9e15), inc('good', 1_700_000_000_000)].map((i) => ({ topic, key: i.id, value: rt.serde.encode(topic, i) })));
  await p.close();
  const out: string[] = [];
  const r = await startRcaConsumer(rt, { instanceId: 'poison-2', debounceMs: 10, maxDelayMs: 50, catchUpTimeoutMs: 200, onOutput: (x) => out.push(x.incidentId) });
  try {
    await until(() => out.includes('good'), 'the analysis of the good incident');
    assert.ok(!out.includes('bad'));
    const d = (await dead()).filter((x) => x.stage === 'rca');
    assert.deepEqual(d.map((x) => [x.offset, x.kind]), [['0', 'process']]);
    assert.match(d[0]!.reason, /outside the date range/);
  } finally {
    await r.stop();
  }
});

/**
 * The synthetic fault shared by the consumer tests on Kafka (tests/integration/rca/kafka-pipeline.test.ts)
 * and on the embedded transport (tests/unit/rca/consumer-embedded.test.ts): a causal graph on
 * `causal-graphs` (then a bad one, rejected), metrics and anomalies of a CPU fault on `geo`
 * (geo:cpu → geo:latency → search:latency → frontend:latency), and a latency spike on `billing`,
 * which no graph knows.
 */
import assert from 'node:assert/strict';
import type { Anomaly, CausalGraphRecord, Incident, MetricBatch, RcaResult } from '../../../pipelines/core/records.ts';
import { mulberry32 } from '../../../pipelines/core/random.ts';
import type { Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { startIncidentCorrelator, type IncidentCorrelatorOptions } from '../../../pipelines/incidents/consumer.ts';
import { lifecycleKey } from '../../../pipelines/incidents/rebuild.ts';
import { startRcaConsumer } from '../../../pipelines/rca/consumer.ts';
import { withVersion } from '../../../pipelines/graph/index.ts';
import { waitFor } from '../../helpers/infra.ts';

const STEP = 1000;
const BASE = Math.floor((Date.now() - 150_000) / STEP) * STEP;
export const FAULT = { from: BASE + 100_000, to: BASE + 110_000 };
const BILLING = { from: BASE + 60_000, to: BASE + 64_000 };
const END = BASE + 116_000;

const node = (component: string, metric: string) => ({ id: `${component}:${metric}`, component, metric, observed: true });
const edge = (from: string, to: string) => ({ from, to, provenance: 'DOCS' as const, confidence: 1, reason: 'test' });
export const GOOD: CausalGraphRecord = withVersion({
  name: 'lab',
  nodes: [node('geo', 'cpu'), node('geo', 'latency'), node('search', 'latency'), node('frontend', 'latency'), node('db', 'latency')],
  edges: [edge('geo:cpu', 'geo:latency'), edge('geo:latency', 'search:latency'), edge('search:latency', 'frontend:latency'), edge('db:latency', 'geo:latency')],
  createdAtMs: 0,
  source: 'test',
});
// Dangling edge: rejected by the store, and the good graph stays in force.
export const BAD: CausalGraphRecord = { ...GOOD, version: 'bad', edges: [...GOOD.edges, edge('geo:cpu', 'nowhere:latency')] };

/** A linear SEM along the graph, plus an independent billing series. */
export function series(): Map<string, { t: number; v: number }[]> {
  const rnd = mulberry32(7);
  const n = () => (rnd() + rnd() + rnd() - 1.5) * 2; // ≈ N(0, 1)
  const out = new Map<string, { t: number; v: number }[]>();
  const push = (id: string, t: number, v: number) => {
    if (!out.has(id)) out.set(id, []);
    out.get(id)!.push({ t, v });
  };
  for (let t = BASE; t <= END; t += STEP) {
    const fault = t >= FAULT.from && t < FAULT.to;
    const cpu = 0.3 + 0.03 * n() + (fault ? 0.5 : 0);
    const db = 0.02 + 0.002 * n();
    const geo = 0.05 + 0.5 * cpu + db + 0.003 * n();
    const search = 0.02 + geo + 0.003 * n();
    const frontend = 0.01 + search + 0.003 * n();
    const billing = 0.2 + 0.01 * n() + (t >= BILLING.from && t < BILLING.to ? 0.3 : 0);
    push('geo:cpu', t, cpu);
    push('db:latency', t, db);
    push('geo:latency', t, geo);
    push('search:latency', t, search);
    push('frontend:latency', t, frontend);
    push('billing:latency', t, billing);
  }
  return out;
}

export function batches(data: Map<string, { t: number; v: number }[]>): MetricBatch[] {
  const out: MetricBatch[] = [];
  for (const [id, pts] of data) {
    const [component, signal] = id.split(':') as [string, string];
    for (let i = 0; i < pts.length; i += 10) {
      out.push({
        fingerprint: `fp-${id}`,
        labels: { __name__: `lab:${signal}`, component, signal },
        samples: pts.slice(i, i + 10).map((p) => ({ timestampMs: p.t, value: p.v, stale: false })),
        source: 'test',
        receivedAtMs: Date.now(),
        exemplarsDropped: 0,
        histogramsDropped: 0,
      });
    }
  }
  return out;
}

export function anomaly(id: string, t: number, value: number): Anomaly {
  const [component, signal] = id.split(':') as [string, string];
  return { id: `a-${id}-${t}`, fingerprint: `fp-${id}`, labels: { __name__: `lab:${signal}`, component, signal }, timestampMs: t, value, ruleId: null, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'test', baseScore: 6, explanation: 'test', clauses: [], detectedAtMs: Date.now() };
}

export function faultAnomalies(): Anomaly[] {
  const out: Anomaly[] = [];
  for (let t = BILLING.from; t < BILLING.to; t += STEP) out.push(anomaly('billing:latency', t, 0.5));
  // As a detector sees it: the root first, the symptoms a step later.
  for (let t = FAULT.from; t < FAULT.to; t += STEP) {
    out.push(anomaly('geo:cpu', t, 0.8));
    if (t > FAULT.from) for (const id of ['geo:latency', 'search:latency', 'frontend:latency']) out.push(anomaly(id, t, 0.5));
  }
  return out;
}

const CORR: IncidentCorrelatorOptions['correlator'] = { windowMs: 10_000, quietMs: 3000, maxHops: 1 };

async function send(rt: Runtime, topic: string, recs: { key: string; value: unknown }[], transactional = false): Promise<void> {
  const out = recs.map((r) => ({ topic, key: r.key, value: rt.serde.encode(topic, r.value) }));
  if (transactional) {
    // Transaction markers follow the records: the rca tail must not wait for offsets it never reads.
    const p = await rt.transport.producer({ transactionalId: `${topic}.test-writer` });
    for (let i = 0; i < out.length; i += 200) {
      const tx = await p.transaction();
      await tx.send(out.slice(i, i + 200));
      await tx.commit();
    }
    await p.close();
    return;
  }
  const p = await rt.transport.producer();
  for (let i = 0; i < out.length; i += 200) await p.send(out.slice(i, i + 200));
  await p.close();
}

async function readAll<T>(rt: Runtime, key: 'incidents' | 'rca'): Promise<T[]> {
  const topic = topicName(key, rt.config.topicPrefix);
  const out: T[] = [];
  for (const r of await rt.transport.readToEnd(topic)) out.push((await rt.serde.decode<T>(topic, r.value)).value);
  return out;
}

function assertNoDuplicates(incidents: Incident[]): void {
  const keys = incidents.map(lifecycleKey);
  const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
  assert.deepEqual(dup, [], 'no lifecycle record twice');
  const resolvedAt = new Map<string, number>();
  incidents.forEach((i, n) => {
    if (i.status === 'RESOLVED') resolvedAt.set(i.id, n);
  });
  incidents.forEach((i, n) => assert.ok(!(resolvedAt.has(i.id) && n > resolvedAt.get(i.id)! && i.status !== 'RESOLVED'), `nothing after RESOLVED for ${i.id}`));
}

/** Graph, metrics and anomalies in: incidents open and resolve, rca names the root with a graph path. */
export async function checkPipeline(rt: Runtime): Promise<void> {
  const graphs = topicName('causalGraphs', rt.config.topicPrefix);
  await send(rt, graphs, [{ key: 'lab', value: GOOD }]);
  await send(rt, graphs, [{ key: 'lab', value: BAD }]);
  const metrics = topicName('metrics', rt.config.topicPrefix);
  await send(rt, metrics, batches(series()).map((b) => ({ key: b.fingerprint, value: b })), true);
  // One key: anomalies of connected components must share a partition to be correlated in order.
  await send(rt, topicName('anomalies', rt.config.topicPrefix), faultAnomalies().map((a) => ({ key: 'lab', value: a })));

  const seenIncidents: Incident[] = [];
  const seenRca: RcaResult[] = [];
  const inc = await startIncidentCorrelator(rt, { instanceId: 'one', correlator: CORR, tickMs: 200, onOutput: (i) => seenIncidents.push(i) });
  const rca = await startRcaConsumer(rt, { instanceId: 'one', debounceMs: 300, onOutput: (r) => seenRca.push(r) });
  try {
    await waitFor(() => seenIncidents.filter((i) => i.status === 'RESOLVED').length >= 2, 'both incidents resolved', 30_000);
    const geoId = seenIncidents.find((i) => i.components.includes('geo'))!.id;
    const billingId = seenIncidents.find((i) => i.components.includes('billing'))!.id;
    await waitFor(() => seenRca.some((r) => r.incidentId === geoId) && seenRca.some((r) => r.incidentId === billingId), 'rca records of both incidents', 20_000);
    assert.equal(rca.graph()?.version, GOOD.version, 'the bad graph was rejected and the good one stays');
    assert.equal(inc.graphVersion(), GOOD.version);

    const onTopic = await readAll<Incident>(rt, 'incidents');
    assertNoDuplicates(onTopic);
    for (const id of [geoId, billingId]) {
      const life = onTopic.filter((i) => i.id === id).map((i) => i.status);
      assert.equal(life[0], 'OPEN', `${id} opens first`);
      assert.equal(life[life.length - 1], 'RESOLVED', `${id} resolves last`);
    }
    const geoUpdates = onTopic.filter((i) => i.id === geoId && i.status !== 'RESOLVED').length;
    assert.ok(geoUpdates >= 3, `the geo incident was updated as it grew (${geoUpdates} records)`);
    assert.ok(seenRca.filter((r) => r.incidentId === geoId).length < geoUpdates, 'a burst of updates is analysed once (debounce), not per record');
    const geoInc = onTopic.filter((i) => i.id === geoId).at(-1)!;
    assert.deepEqual(geoInc.components, ['frontend', 'geo', 'search']);
    assert.equal(geoInc.openedAtMs, FAULT.from);

    const results = await readAll<RcaResult>(rt, 'rca');
    const geoRca = results.filter((r) => r.incidentId === geoId).at(-1)!;
    assert.equal(geoRca.graphVersion, GOOD.version);
    assert.doesNotMatch(geoRca.note, /tail was behind/, 'the metrics tail caught up (transaction markers included)');
    assert.ok(geoRca.causes.length > 0, `causes ranked (note: ${geoRca.note})`);
    const top = geoRca.causes[0]!;
    assert.equal(top.node, 'geo:cpu', `top cause (got ${geoRca.causes.map((c) => `${c.node}=${c.score}`).join(', ')})`);
    assert.equal(top.path[0], 'geo:cpu');
    assert.equal(top.path.at(-1), 'frontend:latency', 'the path ends at the symptom');
    const edges = new Set(GOOD.edges.map((e) => `${e.from}>${e.to}`));
    for (let i = 1; i < top.path.length; i++) assert.ok(edges.has(`${top.path[i - 1]}>${top.path[i]}`), `path step ${top.path[i - 1]} → ${top.path[i]} is a graph edge`);
    assert.ok(top.evidence.some((e) => e.metric === 'geo:cpu' && e.score >= 5), 'evidence names the metric and how anomalous it is');

    const billingRca = results.filter((r) => r.incidentId === billingId).at(-1)!;
    assert.match(billingRca.note, /billing:latency is not in graph .*anomaly evidence alone/);
    assert.equal(billingRca.causes[0]?.node, 'billing:latency', 'ranked by anomaly evidence');
  } finally {
    await rca.stop();
    await inc.stop();
  }
}

/** After checkPipeline on the same runtime: restart and replay publish no lifecycle record twice. */
export async function checkRestartAndReplay(rt: Runtime): Promise<void> {
  const before = await readAll<Incident>(rt, 'incidents');
  assert.ok(before.length >= 4, 'the first test left incidents');
  const anomaliesTopic = topicName('anomalies', rt.config.topicPrefix);

  // Restart (same instance id): nothing new without new anomalies, then a new incident resolves.
  const seen: Incident[] = [];
  const inc = await startIncidentCorrelator(rt, { instanceId: 'one', correlator: CORR, tickMs: 200, onOutput: (i) => seen.push(i) });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(seen.length, 0, `a restart republishes nothing (got ${JSON.stringify(seen)})`);
  const later = END + 60_000;
  await send(rt, anomaliesTopic, [0, 1, 2].map((k) => ({ key: 'lab', value: anomaly('db:latency', later + k * STEP, 0.1) })));
  await waitFor(() => seen.some((i) => i.status === 'RESOLVED'), 'the new incident resolves after the quiet period (timer)', 20_000);
  await inc.stop();

  // Replay: a fresh group reads every anomaly again.
  const replayed: Incident[] = [];
  const again = await startIncidentCorrelator(rt, { groupId: 'replay', instanceId: 'two', correlator: CORR, tickMs: 200, onOutput: (i) => replayed.push(i) });
  await waitFor(async () => (await rt.transport.committed(`${rt.config.topicPrefix}replay`, anomaliesTopic)).size > 0, 'the replay group committed', 20_000);
  await new Promise((r) => setTimeout(r, 4000)); // longer than quietMs: the timer has had its chance
  await again.stop();
  assert.deepEqual(replayed, [], 'a replay publishes nothing already on the topic');
  const all = await readAll<Incident>(rt, 'incidents');
  assertNoDuplicates(all);
  assert.equal(all.length, before.length + seen.length);
}

/**
 * After checkPipeline: an rca consumer stopped before its (debounced) analyses ran leaves their
 * offsets uncommitted, and the next start of the group analyses them (at-least-once).
 */
export async function checkRcaAtLeastOnce(rt: Runtime): Promise<void> {
  const topic = topicName('incidents', rt.config.topicPrefix);
  const group = `${rt.config.topicPrefix}rca-again`;
  // One past each partition's last record (on Kafka the high watermark also counts transaction markers).
  const last = new Map<number, number>();
  for (const r of await rt.transport.readToEnd(topic)) last.set(r.partition, Math.max(last.get(r.partition) ?? 0, Number(r.offset) + 1));
  const total = [...last.values()].reduce((n, o) => n + o, 0);
  const committed = async () => [...(await rt.transport.committed(group, topic)).values()].reduce((n, o) => n + Number(o), 0);
  const ids = new Set((await readAll<Incident>(rt, 'incidents')).filter((i) => i.status !== 'RESOLVED').map((i) => i.id));
  const first: RcaResult[] = [];
  const slow = await startRcaConsumer(rt, { groupId: 'rca-again', instanceId: 'a', debounceMs: 600_000, maxDelayMs: 600_000, onOutput: (r) => first.push(r) });
  await waitFor(() => slow.pending() === ids.size, `all ${ids.size} incidents read and waiting`, 20_000);
  await slow.stop();
  assert.equal(first.length, 0);
  assert.ok((await committed()) < total, 'records waiting for their analysis are not committed');
  const second: RcaResult[] = [];
  const again = await startRcaConsumer(rt, { groupId: 'rca-again', instanceId: 'b', debounceMs: 200, onOutput: (r) => second.push(r) });
  try {
    await waitFor(async () => (await committed()) === total, 'every incident record committed once analysed', 30_000);
    for (const id of ids) assert.ok(second.some((r) => r.incidentId === id), `incident ${id} analysed after the restart`);
  } finally {
    await again.stop();
  }
}

/**
 * The detect → incidents workload of the cluster tests: seeded series with spikes, a steady
 * producer, and read-back of what the stages committed, so a run under failures can be compared
 * with a fault-free run of the same input.
 *
 * Why the comparison is exact: the detector's output per series depends only on that series'
 * samples in order (one partition), and duplicate samples are ignored, so the producer may retry
 * (at-least-once). The correlator's output is order-sensitive across partitions in general; here
 * every series is its own component (no dependency graph), so an incident depends only on its
 * series' anomalies in order, and --quiet-ms (1 day) exceeds the data's 3 hours, so nothing
 * resolves on event time while the stream runs: a broker outage cannot change what is grouped.
 * A final "closing" sample 2 days later resolves every incident in one deterministic step.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../../pipelines/core/random.ts';
import type { Anomaly, Incident, MetricBatch } from '../../../pipelines/core/records.ts';
import type { Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import type { OutRecord, Producer } from '../../../pipelines/core/transport/types.ts';
import { sleep } from '../../helpers/stage-process.ts';

export const STEP_MS = 15_000;
export const T0 = Date.UTC(2026, 0, 1);
const SAMPLES = 720;
const CHUNK = 10;
export const ROUNDS = SAMPLES / CHUNK;
const SERIES = 48;
/** Two days after the data: moves the correlator's event time past every incident's quiet period. */
export const CLOSING_MS = T0 + SAMPLES * STEP_MS + 2 * 86_400_000;

export const DETECT_GROUP = 'panoptes-detect';
export const INCIDENTS_GROUP = 'panoptes-incidents';

/** Arguments of `panoptes incidents run` for this workload (see the header). */
export const INCIDENTS_ARGS = ['incidents', 'run', '--quiet-ms', String(86_400_000), '--window-ms', String(600_000), '--max-hops', '1', '--tick-ms', '1000'];

export function writeRules(dir: string): string {
  const file = join(dir, 'cluster-rules.yaml');
  writeFileSync(
    file,
    [
      'rules:',
      '  - id: spike',
      '    kind: FN',
      '    severity: critical',
      '    description: Far above the last hour for two samples in a row.',
      '    expr: value > mean(1h) + 5 * std(1h) for 2',
      '',
    ].join('\n'),
  );
  return file;
}

interface Series {
  labels: Record<string, string>;
  fingerprint: string;
  values: number[];
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** 48 series with three spike episodes each, and one quiet "closer" series (its spike is the closing sample). */
export function generateSeries(seed = 7): Series[] {
  const rand = mulberry32(seed);
  const out: Series[] = [];
  for (let i = 0; i <= SERIES; i++) {
    const closer = i === SERIES;
    const labels = { __name__: 'cluster_test_latency', component: closer ? 'closer' : `svc-${String(i).padStart(2, '0')}`, instance: `10.0.0.${i}:9100` };
    const values = Array.from({ length: SAMPLES }, () => 100 + 5 * gaussian(rand));
    if (!closer) {
      for (let e = 0; e < 3; e++) {
        const at = 300 + Math.floor(rand() * (SAMPLES - 320));
        const len = 3 + Math.floor(rand() * 4);
        const size = 60 + rand() * 60;
        for (let k = at; k < Math.min(SAMPLES, at + len); k++) values[k] = values[k]! + size;
      }
    }
    const fingerprint = createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16);
    out.push({ labels, fingerprint, values });
  }
  return out;
}

/** Round r: every series' samples r*10 .. r*10+9, one record per series. */
export function round(series: Series[], r: number): MetricBatch[] {
  return series.map((s) => ({
    fingerprint: s.fingerprint,
    labels: s.labels,
    samples: s.values.slice(r * CHUNK, (r + 1) * CHUNK).map((value, k) => ({ timestampMs: T0 + (r * CHUNK + k) * STEP_MS, value, stale: false })),
    source: 'cluster-test',
    receivedAtMs: Date.now(),
    exemplarsDropped: 0,
    histogramsDropped: 0,
  }));
}

export function closingBatch(series: Series[]): MetricBatch {
  const s = series[series.length - 1]!;
  return { fingerprint: s.fingerprint, labels: s.labels, samples: [{ timestampMs: CLOSING_MS, value: 10_000, stale: false }], source: 'cluster-test', receivedAtMs: Date.now(), exemplarsDropped: 0, histogramsDropped: 0 };
}

export function encode(rt: Runtime, batches: MetricBatch[]): OutRecord[] {
  const topic = topicName('metrics', rt.config.topicPrefix);
  return batches.map((b) => ({ topic, key: b.fingerprint, value: rt.serde.encode(topic, b) }));
}

/**
 * Sends until acknowledged: a send that fails (a partition without a leader during a failover) is
 * sent again, whole. At-least-once; the detector ignores the duplicate samples this can store.
 * Returns the number of failed attempts.
 */
export async function sendUntilAcked(producer: Producer, records: OutRecord[], deadlineMs = 120_000): Promise<number> {
  const end = Date.now() + deadlineMs;
  for (let failures = 0; ; failures++) {
    try {
      await producer.send(records);
      return failures;
    } catch (err) {
      if (Date.now() > end) throw new Error(`input not acknowledged after ${deadlineMs} ms: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

/** Steady producer: round r at start + r * intervalMs. Resolves with the failed attempts it retried. */
export async function produceSteadily(rt: Runtime, producer: Producer, series: Series[], intervalMs: number): Promise<{ failures: number; lateMs: number }> {
  const start = Date.now();
  let failures = 0;
  let lateMs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const due = start + r * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else lateMs = Math.max(lateMs, -wait);
    failures += await sendUntilAcked(producer, encode(rt, round(series, r)));
  }
  return { failures, lateMs };
}

/** Anomalies and incident records the stages committed (read_committed), decoded. */
export async function readOutput(rt: Runtime): Promise<{ anomalies: { partition: number; offset: string; a: Anomaly }[]; incidents: { partition: number; offset: string; i: Incident }[] }> {
  const at = topicName('anomalies', rt.config.topicPrefix);
  const it = topicName('incidents', rt.config.topicPrefix);
  const anomalies = [];
  for (const r of await rt.transport.readToEnd(at)) anomalies.push({ partition: r.partition, offset: r.offset, a: (await rt.serde.decode<Anomaly>(at, r.value)).value });
  const incidents = [];
  for (const r of await rt.transport.readToEnd(it)) incidents.push({ partition: r.partition, offset: r.offset, i: (await rt.serde.decode<Incident>(it, r.value)).value });
  return { anomalies, incidents };
}

/**
 * True once the detector group has committed every metrics record (a plain topic: committed =
 * end), and, with `incidents`, the incidents group every anomaly record: the anomalies topic is
 * transactional, so each partition ends with a commit marker and the group's next offset to read
 * is one before the end. Checked twice 300 ms apart with nothing new, so a marker still being
 * written cannot pass for the end.
 */
export async function drained(rt: Runtime, incidents = true): Promise<boolean> {
  const once = async () => {
    const p = rt.config.topicPrefix;
    const metrics = topicName('metrics', p);
    const ends = await rt.transport.offsets(metrics);
    const det = await rt.transport.committed(groupName(DETECT_GROUP, p), metrics);
    if (!ends.every((o) => BigInt(det.get(o.partition) ?? '0') >= BigInt(o.high))) return null;
    if (!incidents) return JSON.stringify(ends);
    const anomalies = topicName('anomalies', p);
    const aEnds = await rt.transport.offsets(anomalies);
    const inc = await rt.transport.committed(groupName(INCIDENTS_GROUP, p), anomalies);
    if (!aEnds.every((o) => BigInt(o.high) === 0n || BigInt(inc.get(o.partition) ?? '0') >= BigInt(o.high) - 1n)) return null;
    return JSON.stringify([ends, aEnds]);
  };
  const a = await once();
  if (a === null) return false;
  await sleep(300);
  return (await once()) === a;
}

/** Anomaly id → its record without the wall-clock field, and how often each id was committed. */
export function anomalyView(list: { a: Anomaly }[]): { byId: Map<string, string>; counts: Map<string, number> } {
  const byId = new Map<string, string>();
  const counts = new Map<string, number>();
  for (const { a } of list) {
    const { detectedAtMs: _wall, ...rest } = a;
    byId.set(a.id, JSON.stringify(rest));
    counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
  }
  return { byId, counts };
}

/** Incident id → its lifecycle records in topic order (one partition per id). */
export function incidentView(list: { i: Incident }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { i } of list) {
    const l = out.get(i.id) ?? [];
    l.push(JSON.stringify(i));
    out.set(i.id, l);
  }
  return out;
}

/** What differs between a run and the reference: missing, extra, duplicated, changed. */
export function diffAnomalies(got: { a: Anomaly }[], want: { a: Anomaly }[]): { missing: string[]; extra: string[]; duplicated: string[]; changed: string[] } {
  const g = anomalyView(got);
  const w = anomalyView(want);
  return {
    missing: [...w.byId.keys()].filter((id) => !g.byId.has(id)),
    extra: [...g.byId.keys()].filter((id) => !w.byId.has(id)),
    duplicated: [...g.counts].filter(([, n]) => n > 1).map(([id]) => id),
    changed: [...w.byId].filter(([id, v]) => g.byId.has(id) && g.byId.get(id) !== v).map(([id]) => id),
  };
}

export function diffIncidents(got: { i: Incident }[], want: { i: Incident }[]): { missing: string[]; extra: string[]; differing: string[] } {
  const g = incidentView(got);
  const w = incidentView(want);
  return {
    missing: [...w.keys()].filter((id) => !g.has(id)),
    extra: [...g.keys()].filter((id) => !w.has(id)),
    differing: [...w].filter(([id, recs]) => g.has(id) && JSON.stringify(g.get(id)) !== JSON.stringify(recs)).map(([id]) => id),
  };
}

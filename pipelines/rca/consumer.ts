/**
 * The RCA consumer online: `incidents` (+ windows of `metrics`, + the graph on `causal-graphs`)
 * → ranked root causes on `rca`, keyed by incident id.
 *
 * - Incidents: a consumer group. OPEN and UPDATED records are analysed after `debounceMs` without
 *   a newer record of the same incident (at most `maxDelayMs` after the first pending one), so a
 *   burst of updates costs one analysis. RESOLVED records trigger nothing (a pending analysis
 *   still runs). Offsets are committed only up to the oldest record whose analysis is not
 *   produced yet: at-least-once, so after a crash an incident may be analysed twice (the newest
 *   rca record per incident id is the answer).
 * - Metrics: every instance tails the whole `metrics` topic (its own group) into bounded windows
 *   per graph node (`MetricWindows`). Before an analysis it waits until that tail has caught up
 *   with the topic's end, so the samples behind the incident's anomalies are in the windows.
 * - Graph: `causal-graphs` is read at start and tailed into a GraphStore; a bad graph is rejected
 *   with its reason and the last good one (or `fallbackGraph`) stays in force.
 * - An incident whose nodes are not in the graph is still ranked, by anomaly evidence alone, and
 *   the record's note says so (rca.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram } from 'prom-client';
import { deadLetterRecord, decodeBatch } from '../core/dead-letter.ts';
import { describeError, InputError } from '../core/errors.ts';
import { isDateTime, MAX_TIME_MS } from '../core/time.ts';
import { transportMetrics } from '../core/metrics.ts';
import { stageMetrics } from '../core/stage.ts';
import type { CausalGraphRecord, Incident, MetricBatch, RcaResult } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { Consumer, OutRecord, Producer } from '../core/transport/types.ts';
import { RcaAnalyzer } from './analyzer.ts';
import { tailCausalGraphs } from '../graph/index.ts';
import { validateRankOptions, type RankOptions } from './rank/scores.ts';
import { defaultRankMethod, rankMethods, type RankMethod } from './rca.ts';
import { GraphStore } from '../graph/index.ts';
import { readFallbackGraph } from './io.ts';
import { rankSpec, type RcaRunOptions } from './spec.ts';
import { MetricWindows, telemetryFor, validateWindowOptions } from './windows.ts';

export interface RcaConsumerOptions {
  /** Consumer group on `incidents` (prefixed like topics). Default `panoptes-rca`. */
  groupId?: string;
  /** Names this instance (its metrics tail and graph tail groups). Default: host name. */
  instanceId?: string;
  method?: RankMethod;
  rank?: Partial<RankOptions>;
  /** Label naming a series' component; fallbacks `service`, `job`. Default `component`. */
  componentLabel?: string;
  /** Label naming a series' metric (graph node `<component>:<metric>`); fallback `__name__`. Default `signal`. */
  metricLabel?: string;
  /** Only this graph name of the `causal-graphs` topic; default: the latest accepted of any name. */
  graphName?: string;
  /** Graph used until (and unless) a good graph arrives on `causal-graphs`. */
  fallbackGraph?: CausalGraphRecord;
  /** Wait this long after an incident's latest OPEN/UPDATED before analysing it. Default 2000 ms. */
  debounceMs?: number;
  /** …but never longer than this after its first pending record. Default 10000 ms. */
  maxDelayMs?: number;
  /** Samples are aligned to this step (ms). Default 1000. */
  stepMs?: number;
  /** Per node, samples older than this behind the node's newest are dropped. Default 30 min. */
  windowMs?: number;
  /** Per series, at most this many aligned points. Default 3600. */
  maxPointsPerNode?: number;
  /** At most this many nodes held; new nodes beyond it are ignored (counted). Default 5000. */
  maxNodes?: number;
  /** A row without a sample of a series reuses its latest earlier sample up to this old. Default 2 × stepMs. */
  fillMs?: number;
  /** Rows this close before the incident opened are left out of the normal history. Default 5000 ms. */
  normalGapMs?: number;
  /** How long an analysis waits for the metrics tail to catch up with the topic. Default 5000 ms. */
  catchUpTimeoutMs?: number;
  /** Called with every rca record once produced. */
  onOutput?: (result: RcaResult) => void;
}

export interface RunningRcaConsumer {
  stop(): Promise<void>;
  /** Resolves (with the error) when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  /** The graph in force (last good), or null. */
  graph(): CausalGraphRecord | null;
  /** Node ids with metric windows held. */
  nodes(): string[];
  /** Incidents waiting for their (debounced) analysis. */
  pending(): number;
  /**
   * Ready once the incidents consumer has its first assignment and the metrics tail has read what
   * the topic held at start (an analysis before that would see too few samples); for `/healthz`
   * and `panoptes_stage_ready{stage="rca"}`.
   */
  health(): { ok: boolean; detail: Record<string, unknown> };
}

interface Pending {
  incident: Incident;
  firstMs: number;
  lastMs: number;
  /** Kafka timestamp of the oldest record waiting (end-to-end latency). */
  recordTs: number;
  /** Input positions this analysis acknowledges. */
  positions: { partition: number; offset: number }[];
}

function once<T>(rt: Runtime, name: string, make: (name: string) => T): T {
  return (rt.metrics.getSingleMetric(name) as T | undefined) ?? make(name);
}

export async function startRcaConsumer(rt: Runtime, opts: RcaConsumerOptions = {}): Promise<RunningRcaConsumer> {
  const prefix = rt.config.topicPrefix;
  const groupId = groupName(opts.groupId ?? 'panoptes-rca', prefix);
  const instanceId = opts.instanceId ?? hostname();
  const method: RankMethod = opts.method ?? defaultRankMethod;
  if (!rankMethods.includes(method)) throw new RangeError(`rca method must be one of ${rankMethods.join(', ')}, got "${String(method)}"`);
  const rank = validateRankOptions(opts.rank);
  const debounceMs = opts.debounceMs ?? 2000;
  const maxDelayMs = opts.maxDelayMs ?? 10_000;
  const normalGapMs = opts.normalGapMs ?? 5000;
  const catchUpTimeoutMs = opts.catchUpTimeoutMs ?? 5000;
  for (const [k, v] of Object.entries({ debounceMs, maxDelayMs, normalGapMs, catchUpTimeoutMs })) if (!Number.isInteger(v) || v < 0) throw new RangeError(`rca ${k} must be an integer ≥ 0, got ${v}`);
  const wopts = validateWindowOptions({
    stepMs: opts.stepMs ?? 1000,
    windowMs: opts.windowMs ?? 30 * 60_000,
    maxPointsPerSeries: opts.maxPointsPerNode ?? 3600,
    maxNodes: opts.maxNodes ?? 5000,
    fillMs: opts.fillMs ?? 2 * (opts.stepMs ?? 1000),
    componentLabels: [...new Set([opts.componentLabel ?? 'component', 'service', 'job'])],
    metricLabels: [...new Set([opts.metricLabel ?? 'signal', '__name__'])],
  });

  const incidentsTopic = topicName('incidents', prefix);
  const metricsTopic = topicName('metrics', prefix);
  const rcaTopic = topicName('rca', prefix);
  const log = rt.log.child({ stage: 'rca', instance: instanceId });
  const tm = transportMetrics(rt.metrics);
  const analyzer = new RcaAnalyzer(rt.metrics, { method, options: rank });
  const e2e = once(rt, 'panoptes_rca_end_to_end_seconds', (name) => new Histogram({ name, help: 'From an incident record being written to its rca record being produced (includes the debounce).', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [rt.metrics] }));
  const nodesGauge = once(rt, 'panoptes_rca_window_nodes', (name) => new Gauge({ name, help: 'Graph nodes with metric windows held.', registers: [rt.metrics] }));
  const pointsGauge = once(rt, 'panoptes_rca_window_points', (name) => new Gauge({ name, help: 'Aligned samples held in the metric windows.', registers: [rt.metrics] }));
  const pendingGauge = once(rt, 'panoptes_rca_pending_incidents', (name) => new Gauge({ name, help: 'Incidents waiting for their (debounced) analysis.', registers: [rt.metrics] }));
  const graphRejected = once(rt, 'panoptes_rca_graph_rejected_total', (name) => new Counter({ name, help: 'Causal graphs on the topic rejected (the last good one stays).', registers: [rt.metrics] }));

  const store = new GraphStore({ registry: rt.metrics });
  if (opts.fallbackGraph) {
    const r = store.propose(opts.fallbackGraph);
    if (r.status === 'rejected') throw new RangeError(`rca fallbackGraph rejected: ${r.reason}`);
  }
  const windows = new MetricWindows(wopts);
  let stopped = false;
  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));
  let failure: unknown = null;
  const readyGauge = stageMetrics(rt.metrics).ready;
  let assigned = false;
  let metricsCaughtUp = false;
  const isReady = () => failure === null && assigned && metricsCaughtUp;
  const setReady = () => readyGauge.labels('rca').set(isReady() ? 1 : 0);
  setReady();
  void failed.then((err) => {
    failure = err ?? new Error('stopped');
    setReady();
  });
  const die = (what: string) => (err: unknown) => {
    tm.errors.labels(what).inc();
    log.error(`${what} failed; stopping`, { err });
    fail(err);
  };

  const graphTail = await tailCausalGraphs(rt, { store, groupId: `${groupId}.${instanceId}`, graphName: opts.graphName, log, onRejected: () => graphRejected.inc() });

  // Metrics tail: its own group per start, so it sees every partition from the beginning.
  const metricsGroup = `${groupId}.metrics.${instanceId}.${randomUUID().slice(0, 8)}`;
  const position = new Map<number, number>();
  let lastBatchAt = 0;
  const metricsConsumer: Consumer = await rt.transport.consumer({ groupId: metricsGroup, fromBeginning: true, autoCommit: true, readCommitted: true, maxBatchSize: 2000 });
  await metricsConsumer.subscribe([metricsTopic]);
  await metricsConsumer.run({
    eachBatch: async (b) => {
      const started = performance.now();
      const decoded = await decodeBatch<MetricBatch>(rt.serde, b.records, { policy: 'skip', stage: 'rca' });
      for (const { value } of decoded.ok) windows.add(value);
      const next = Number(b.records[b.records.length - 1]!.offset) + 1;
      position.set(b.partition, next);
      lastBatchAt = Date.now();
      tm.consumed.labels(b.topic, metricsGroup).inc(b.records.length);
      tm.lag.labels(b.topic, String(b.partition), metricsGroup).set(Math.max(0, Number(b.highWatermark) - next));
      tm.batchLatency.labels(b.topic, metricsGroup).observe((performance.now() - started) / 1000);
      nodesGauge.set(windows.nodeIds().length);
      pointsGauge.set(windows.pointCount());
    },
    onError: die('metrics tail'),
  });

  /**
   * Waits until the metrics tail has read everything the topic held when called. Transaction
   * markers end a partition without a record to read, so a position can stay below the high
   * watermark for good: a tail that has started on every non-empty partition and received nothing
   * for `quietMs` since the call has read what there is (a fetch returns new records at once).
   */
  const catchUp = async (): Promise<boolean> => {
    const called = Date.now();
    const ends = await rt.transport.offsets(metricsTopic);
    const deadline = called + catchUpTimeoutMs;
    const quietMs = 250;
    for (;;) {
      if (ends.every((p) => Number(p.high) <= Math.max(Number(p.low), position.get(p.partition) ?? 0))) return true;
      const started = ends.every((p) => Number(p.high) <= Number(p.low) || position.has(p.partition));
      if (started && Date.now() - Math.max(lastBatchAt, called) >= quietMs) return true;
      if (Date.now() > deadline || stopped) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const producer: Producer = await rt.transport.producer();
  const incidentsConsumer: Consumer = await rt.transport.consumer({ groupId, fromBeginning: true, autoCommit: false, readCommitted: true, maxBatchSize: 500 });
  await incidentsConsumer.subscribe([incidentsTopic]);

  const pending = new Map<string, Pending>();
  /** Per partition: offsets read whose analysis is not produced yet, and the next offset read. */
  const outstanding = new Map<number, Map<number, number>>();
  const readUpTo = new Map<number, number>();
  const committedAt = new Map<number, number>();

  const commit = async () => {
    const offs = [];
    for (const [p, next] of readUpTo) {
      const waiting = outstanding.get(p);
      const safe = waiting && waiting.size > 0 ? Math.min(...waiting.keys()) : next;
      if (committedAt.get(p) !== safe) offs.push({ topic: incidentsTopic, partition: p, offset: String(safe) });
    }
    if (offs.length === 0) return;
    try {
      await incidentsConsumer.commit(offs);
    } catch (err) {
      // A rebalance in progress, say: the next commit carries these offsets again, and until then
      // at worst an incident is analysed twice.
      tm.errors.labels('rca-commit').inc();
      log.warn('committing incident offsets failed; retried with the next commit', { err });
      return;
    }
    for (const o of offs) committedAt.set(o.partition, Number(o.offset));
  };

  await incidentsConsumer.run({
    onError: die('incidents consumer'),
    onAssign: async (partitions) => {
      assigned = true;
      setReady();
      log.info('incident partitions assigned', { partitions: partitions.map((p) => p.partition) });
    },
    onRevoke: async (partitions) => {
      // Analyses of those partitions' incidents may still run here; their offsets stay
      // uncommitted, so the new owner analyses them again (at-least-once).
      for (const { partition } of partitions) {
        readUpTo.delete(partition);
        committedAt.delete(partition);
      }
    },
    eachBatch: async (b) => {
      const decoded = await decodeBatch<Incident>(rt.serde, b.records, { policy: 'skip', stage: 'rca', onFailure: (rec, err) => log.warn('undecodable incident record skipped', { partition: rec.partition, offset: rec.offset, err }) });
      const now = Date.now();
      const dead: OutRecord[] = [];
      for (const { record, value } of decoded.ok) {
        if (value.status === 'RESOLVED') continue;
        // A poison pill (issue 15): an incident whose times are no dates is dead-lettered with the
        // reason and never analysed, so it can neither throw in the analysis nor stop the group.
        if (!isDateTime(value.openedAtMs) || !isDateTime(value.updatedAtMs)) {
          const err = new InputError(`incident ${value.id}: openedAtMs ${value.openedAtMs} / updatedAtMs ${value.updatedAtMs} outside the date range (±${MAX_TIME_MS} ms)`);
          log.warn('incident refused: times outside the date range', { partition: record.partition, offset: record.offset, incident: value.id });
          tm.deadLetters.labels(record.topic, 'process').inc();
          dead.push(deadLetterRecord(record, err, 'rca', prefix, 'process'));
          continue;
        }
        const off = Number(record.offset);
        const w = outstanding.get(record.partition) ?? new Map<number, number>();
        w.set(off, (w.get(off) ?? 0) + 1);
        outstanding.set(record.partition, w);
        const p = pending.get(value.id);
        if (p) {
          p.incident = value;
          p.lastMs = now;
          p.positions.push({ partition: record.partition, offset: off });
        } else pending.set(value.id, { incident: value, firstMs: now, lastMs: now, recordTs: record.timestamp, positions: [{ partition: record.partition, offset: off }] });
      }
      // Dead letters are sent before the offsets move past them: none is lost.
      if (dead.length > 0) await producer.send(dead);
      const next = Number(b.records[b.records.length - 1]!.offset) + 1;
      readUpTo.set(b.partition, next);
      tm.consumed.labels(b.topic, groupId).inc(b.records.length);
      tm.lag.labels(b.topic, String(b.partition), groupId).set(Math.max(0, Number(b.highWatermark) - next));
      pendingGauge.set(pending.size);
      await commit();
    },
  });

  const analyse = async (p: Pending) => {
    const started = performance.now();
    const caughtUp = await catchUp();
    if (!caughtUp) log.warn('metrics tail behind the topic; analysing with the samples held', { incident: p.incident.id });
    const graph = store.current();
    let result: RcaResult;
    try {
      result = analyzer.analyze(p.incident, graph, telemetryFor(windows, p.incident.openedAtMs, normalGapMs), { nowMs: Date.now() });
    } catch (err) {
      // One incident the ranking cannot handle must not stop the stage: say so in its record.
      tm.errors.labels('rca-analysis').inc();
      log.error('analysis failed', { incident: p.incident.id, err });
      result = { incidentId: p.incident.id, graphVersion: graph?.version ?? null, method, causes: [], note: `analysis failed: ${(err as Error).message}`, producedAtMs: Date.now() };
    }
    if (!caughtUp) result = { ...result, note: [result.note, 'metrics tail was behind the topic: some recent samples may be missing'].filter(Boolean).join('; ') };
    await producer.send([{ topic: rcaTopic, key: result.incidentId, value: rt.serde.encode(rcaTopic, result) }]);
    tm.produced.labels(rcaTopic).inc();
    tm.batchLatency.labels(incidentsTopic, groupId).observe((performance.now() - started) / 1000);
    if (p.recordTs > 0) e2e.observe(Math.max(0, Date.now() - p.recordTs) / 1000);
    for (const pos of p.positions) {
      const w = outstanding.get(pos.partition);
      if (!w) continue;
      const n = (w.get(pos.offset) ?? 1) - 1;
      if (n <= 0) w.delete(pos.offset);
      else w.set(pos.offset, n);
    }
    log.info('rca produced', { incident: result.incidentId, top: result.causes[0]?.node ?? null, graph: result.graphVersion, note: result.note });
    opts.onOutput?.(result);
  };

  // One analysis at a time; due incidents are taken oldest first.
  let busy = false;
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      for (;;) {
        const now = Date.now();
        const due = [...pending.values()].filter((p) => now - p.lastMs >= debounceMs || now - p.firstMs >= maxDelayMs).sort((a, b) => a.firstMs - b.firstMs)[0];
        if (!due || stopped) break;
        pending.delete(due.incident.id);
        pendingGauge.set(pending.size);
        await analyse(due);
        await commit();
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch(die('rca analysis')), Math.max(20, Math.min(250, Math.floor(debounceMs / 4) || 20)));
  timer.unref?.();
  // Ready once the metrics tail has read what the topic held at start.
  void (async () => {
    while (!stopped && !(await catchUp())) log.info('metrics tail still reading the topic; not ready yet');
    metricsCaughtUp = !stopped;
    setReady();
  })().catch((err: unknown) => {
    if (!stopped) die('metrics tail catch-up')(err); // after stop() the transport may be gone: not a failure
  });

  log.info('rca consumer running', { group: groupId, method, graph: store.current()?.version ?? null });
  return {
    failed,
    graph: () => store.current(),
    nodes: () => windows.nodeIds(),
    pending: () => pending.size,
    health: () => ({ ok: failure === null, detail: { stage: 'rca', ready: isReady(), assigned, metricsCaughtUp, pending: pending.size, graph: store.current()?.version ?? null, ...(failure !== null ? { error: describeError(failure) } : {}) } }),
    async stop() {
      stopped = true;
      readyGauge.labels('rca').set(0);
      clearInterval(timer);
      while (busy) await new Promise((r) => setTimeout(r, 20));
      await incidentsConsumer.stop();
      await metricsConsumer.stop();
      await graphTail.stop();
      await producer.close();
    },
  };
}

/**
 * The online consumer from the spec's values (`rca run`'s flags, or `stages.rca` of a pipeline
 * file). `graph` is read and checked here unless the caller did (`fallbackGraph`); the instance
 * defaults to the host name.
 */
export function startRcaFromSpec(rt: Runtime, o: RcaRunOptions, extra: Pick<RcaConsumerOptions, 'fallbackGraph' | 'onOutput'> & { instanceId?: string } = {}): Promise<RunningRcaConsumer> {
  const rank = Object.fromEntries(Object.keys(rankSpec.fields).map((k) => [k, (o as Record<string, unknown>)[k]])) as unknown as RankOptions;
  const fallbackGraph = extra.fallbackGraph ?? (typeof o.graph === 'string' ? readFallbackGraph(o.graph) : undefined);
  return startRcaConsumer(rt, {
    groupId: o.groupId,
    instanceId: typeof o.instanceId === 'string' ? o.instanceId : (extra.instanceId ?? hostname()),
    method: o.method as RankMethod,
    rank,
    graphName: typeof o.graphName === 'string' ? o.graphName : undefined,
    ...(fallbackGraph ? { fallbackGraph } : {}),
    componentLabel: o.componentLabel,
    metricLabel: o.metricLabel,
    debounceMs: o.debounceMs,
    maxDelayMs: o.maxDelayMs,
    stepMs: o.stepMs,
    windowMs: o.windowMs,
    normalGapMs: o.normalGapMs,
    catchUpTimeoutMs: o.catchUpTimeoutMs,
    maxPointsPerNode: o.maxPointsPerNode,
    maxNodes: o.maxNodes,
    ...(extra.onOutput ? { onOutput: extra.onOutput } : {}),
  });
}

/**
 * The incident correlator online: a consumer group on `anomalies`, incident lifecycle records
 * (OPEN / UPDATED / RESOLVED) to `incidents`.
 *
 * Runs on the stage loop (`core/stage.ts`, exactly-once): each batch's incident records, its dead
 * letters and its input offsets go in one transaction (read_committed downstream). An anomaly that
 * does not decode, or that the correlator refuses (a timestamp outside the Date range), is
 * dead-lettered with the reason and the stage goes on. Resolution needs time to pass when
 * the stream goes quiet, so besides record time (each anomaly moves the watermark) a timer moves
 * it by the wall time elapsed since the newest anomaly; what that resolves is produced in a
 * transaction of its own.
 *
 * State is not stored anywhere: on partition assignment it is rebuilt from the topics
 * (`rebuildCorrelator`): the anomalies the group already processed (up to its committed offsets)
 * are fed again, and the `incidents` topic says which incidents are already resolved and which
 * lifecycle records exist. Ids are deterministic (hash of the first anomaly), and a record whose
 * identity (`lifecycleKey`) is already on the topic is not produced again, so a replay from a
 * reset group or a restart publishes no duplicate.
 *
 * Grouping needs every anomaly of connected components in one place: run one active instance
 * (more instances in the group are hot standbys that take over on a rebalance; each would
 * otherwise correlate only its own partitions, since anomalies are keyed by series).
 *
 * The dependency graph is the component-level view of the causal graph in force on
 * `causal-graphs` (validated; a bad graph is rejected and the last good one stays), or the
 * `fallbackGraph` option until one arrives.
 */
import { hostname } from 'node:os';
import { ConfigError } from '../core/errors.ts';
import { Counter, Histogram } from 'prom-client';
import type { Anomaly, CausalGraphRecord, Incident } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { InRecord, OutRecord } from '../core/transport/types.ts';
import { runStage, type RunningStage } from '../core/stage.ts';
import { GraphStore, tailCausalGraphs, type GraphTail } from '../graph/index.ts';
import { IncidentCorrelator, validateCorrelatorOptions, type CorrelatorOptions, type DependencyGraph } from './correlate.ts';
import { readDependencyEdges } from './graph-file.ts';
import { correlatorOptionsOf, type IncidentsRunOptions } from './spec.ts';
import { BoundedSet, componentDependencies, dependencyGraphOf, lifecycleKey, rebuildCorrelator } from './rebuild.ts';

export interface IncidentCorrelatorOptions {
  /** Consumer group (prefixed like topics). Default `panoptes-incidents`. */
  groupId?: string;
  /** Stable per instance: its transactional id, so a restarted instance fences its former self. Default: host name. */
  instanceId?: string;
  /** Label naming the component; `service` then `job` are the fallbacks. Default `component`. */
  componentLabel?: string;
  /** Grouping and lifecycle (see correlate.ts): windowMs, quietMs, maxHops, … */
  correlator?: Partial<Omit<CorrelatorOptions, 'componentLabels'>>;
  /** Only this graph name of the `causal-graphs` topic; default: the latest accepted of any name. */
  graphName?: string;
  /** Dependency graph used until (and unless) a graph arrives on `causal-graphs`: a causal graph or component pairs. */
  fallbackGraph?: CausalGraphRecord | ReadonlyArray<readonly [string, string]>;
  /** How often quiet incidents are checked for resolution when no anomaly arrives. Default 1000 ms. */
  tickMs?: number;
  maxBatchSize?: number;
  /** How many published lifecycle identities to remember against duplicates. Default 200 000. */
  publishedCapacity?: number;
  /** Called with every incident record once its transaction is committed. */
  onOutput?: (incident: Incident) => void;
  /** Called with every anomaly consumed (tests, progress). */
  onInput?: (anomaly: Anomaly) => void;
}

export interface RunningIncidentCorrelator {
  stop(): Promise<void>;
  /** Resolves (with the error) when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  /** Incidents currently open on this instance. */
  openIncidents(): Incident[];
  /** Version of the causal graph the dependency graph comes from (null: fallback or none). */
  graphVersion(): string | null;
  /** False while state is rebuilt from the topics (and before the first assignment). */
  ready(): boolean;
  health(): { ok: boolean; detail: Record<string, unknown> };
}

/** A metric already on the registry (a second instance in one process), or a new one. */
function once<T>(rt: Runtime, name: string, make: (name: string) => T): T {
  return (rt.metrics.getSingleMetric(name) as T | undefined) ?? make(name);
}


export async function startIncidentCorrelator(rt: Runtime, opts: IncidentCorrelatorOptions = {}): Promise<RunningIncidentCorrelator> {
  const prefix = rt.config.topicPrefix;
  const groupId = groupName(opts.groupId ?? 'panoptes-incidents', prefix);
  const instanceId = opts.instanceId ?? hostname();
  const tickMs = opts.tickMs ?? 1000;
  const componentLabel = opts.componentLabel ?? 'component';
  const copts: Partial<CorrelatorOptions> = {
    ...opts.correlator,
    componentLabels: [...new Set([componentLabel, 'service', 'job'])],
  };
  validateCorrelatorOptions(copts); // config errors before any connection
  if (!Number.isInteger(tickMs) || tickMs < 10) throw new ConfigError([{ path: 'incidents.tickMs', message: `expected an integer ≥ 10, got ${tickMs}` }]);
  const anomaliesTopic = topicName('anomalies', prefix);
  const incidentsTopic = topicName('incidents', prefix);
  const log = rt.log.child({ stage: 'incidents', instance: instanceId });
  const records = once(rt, 'panoptes_incidents_records_total', (name) => new Counter({ name, help: 'Incident lifecycle records produced, by status.', labelNames: ['status'], registers: [rt.metrics] }));
  const suppressed = once(rt, 'panoptes_incidents_duplicates_suppressed_total', (name) => new Counter({ name, help: 'Lifecycle records not produced because the incidents topic already holds them (replay, restart).', registers: [rt.metrics] }));
  const e2e = once(rt, 'panoptes_incidents_end_to_end_seconds', (name) => new Histogram({ name, help: 'From an anomaly being detected to the incident record it caused being committed.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [rt.metrics] }));
  const graphRejected = once(rt, 'panoptes_incidents_graph_rejected_total', (name) => new Counter({ name, help: 'Causal graphs on the topic rejected (the last good one stays).', registers: [rt.metrics] }));

  const store = new GraphStore({ registry: rt.metrics });
  let depGraph: DependencyGraph = dependencyGraphOf(opts.fallbackGraph);
  let correlator = new IncidentCorrelator(depGraph, copts, rt.metrics);
  const published = new BoundedSet(opts.publishedCapacity ?? 200_000);
  const resolvedIds = new BoundedSet(opts.publishedCapacity ?? 200_000);
  /** The incident behind each output record, for the after-commit bookkeeping. */
  const outputOf = new WeakMap<OutRecord, Incident>();
  /** Newest event time seen and the wall time it was seen at: the timer extrapolates from them. */
  let eventMs = -Infinity;
  let eventWallMs = Date.now();
  let stopped = false;
  let stage: RunningStage | null = null;

  const swapGraph = (g: DependencyGraph) => {
    depGraph = g;
    const st = correlator.snapshot();
    correlator = new IncidentCorrelator(g, copts, rt.metrics);
    correlator.restore(st);
  };

  const graphTail: GraphTail = await tailCausalGraphs(rt, {
    store,
    groupId: `${groupId}.${instanceId}`,
    graphName: opts.graphName,
    log,
    onRejected: () => graphRejected.inc(),
    onChange: (g) => {
      const dg = componentDependencies(g);
      if (stage) void stage.exclusive(async () => swapGraph(dg));
      else swapGraph(dg);
    },
  });
  if (store.current()) depGraph = componentDependencies(store.current()!);
  correlator = new IncidentCorrelator(depGraph, copts, rt.metrics);

  /** The records not yet on the topic (a RESOLVED incident gets nothing more: a replay in another order may compute other UPDATEDs for it). */
  const fresh = (events: Incident[]): OutRecord[] => {
    const out: OutRecord[] = [];
    for (const e of events) {
      const k = lifecycleKey(e);
      if (published.has(k) || resolvedIds.has(e.id)) {
        suppressed.inc();
        continue;
      }
      // Marked now so a later record of the same batch is not produced twice; a failed
      // transaction stops the stage, and a restart rebuilds these sets from the topic.
      published.add(k);
      if (e.status === 'RESOLVED') resolvedIds.add(e.id);
      const r: OutRecord = { topic: incidentsTopic, key: e.id, value: rt.serde.encode(incidentsTopic, e) };
      outputOf.set(r, e);
      out.push(r);
    }
    return out;
  };

  const afterCommit = (outputs: OutRecord[], detectedAt: number[]) => {
    const now = Date.now();
    let n = 0;
    for (const r of outputs) {
      const i = outputOf.get(r);
      if (!i) continue;
      n++;
      records.labels(i.status).inc();
      opts.onOutput?.(i);
    }
    if (n > 0) for (const d of detectedAt) if (d > 0) e2e.observe(Math.max(0, now - d) / 1000);
  };

  const rebuild = async () => {
    const committed = await rt.transport.committed(groupId, anomaliesTopic);
    const processed: Anomaly[] = [];
    const raw: InRecord[] = [];
    await rt.transport.readToEnd(anomaliesTopic, undefined, (recs) => void raw.push(...recs), new Map([...(await rt.transport.offsets(anomaliesTopic))].map((p) => [p.partition, committed.get(p.partition) ?? '0'])));
    for (const r of raw) {
      try {
        processed.push((await rt.serde.decode<Anomaly>(anomaliesTopic, r.value)).value);
      } catch {
        // It went to the dead-letter topic when first processed.
      }
    }
    const pubRaw: InRecord[] = [];
    await rt.transport.readToEnd(incidentsTopic, undefined, (recs) => void pubRaw.push(...recs));
    const pub: Incident[] = [];
    for (const r of pubRaw) {
      try {
        pub.push((await rt.serde.decode<Incident>(incidentsTopic, r.value)).value);
      } catch (err) {
        log.warn('undecodable incident record ignored while rebuilding', { partition: r.partition, offset: r.offset, err });
      }
    }
    for (const i of pub) {
      published.add(lifecycleKey(i));
      if (i.status === 'RESOLVED') resolvedIds.add(i.id);
    }
    const rebuilt = rebuildCorrelator(depGraph, copts, { processed, published: pub });
    correlator = new IncidentCorrelator(depGraph, copts, rt.metrics);
    correlator.restore(rebuilt.snapshot());
    const st = correlator.snapshot();
    eventMs = Number.isFinite(st.watermarkMs) ? st.watermarkMs : -Infinity;
    eventWallMs = Date.now();
    log.info('state rebuilt from the topics', { replayedAnomalies: processed.length, incidentRecords: pub.length, open: st.open.length });
  };

  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));
  let timer: NodeJS.Timeout | undefined;
  try {
    // The stage's transactional producer connects first: that fences a former instance with the
    // same id and aborts its open transaction, so the rebuild's read_committed reads see a settled topic.
    stage = await runStage<Anomaly>(rt, {
      name: 'incidents',
      topic: anomaliesTopic,
      groupId,
      instanceId,
      delivery: 'exactly-once',
      maxBatchSize: opts.maxBatchSize ?? 500,
      process: (a) => {
        const events = correlator.ingest(a); // throws (→ dead letter) before any state changes
        opts.onInput?.(a);
        if (a.timestampMs > eventMs) eventMs = a.timestampMs;
        eventWallMs = Date.now();
        return fresh(events);
      },
      committed: ({ outputs, values }) => afterCommit(outputs, values.map((a) => a.detectedAtMs)),
      onAssign: () => rebuild(),
    });
  } catch (err) {
    await graphTail.stop().catch(() => undefined);
    throw err;
  }
  const running = stage;
  void running.failed.then((err) => fail(err));

  // Quiet streams: event time keeps moving with the wall clock since the newest anomaly.
  timer = setInterval(() => {
    if (stopped || !Number.isFinite(eventMs)) return;
    running
      .exclusive(async () => fresh(correlator.advance(eventMs + (Date.now() - eventWallMs))))
      .then(async (out) => {
        if (out.length === 0 || stopped) return;
        await running.produce(out);
        afterCommit(out, []);
      })
      .catch((err: unknown) => {
        log.error('resolving quiet incidents failed; stopping', { err });
        fail(err);
      });
  }, tickMs);
  timer.unref?.();

  log.info('incident correlator running', { group: groupId, graph: store.current()?.version ?? null, fallbackComponents: depGraph.size });
  return {
    failed,
    openIncidents: () => correlator.openIncidents(),
    graphVersion: () => store.current()?.version ?? null,
    ready: () => running.ready(),
    health: () => running.health(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.stop();
      await graphTail.stop();
    },
  };
}

/**
 * The online correlator from the spec's values (`incidents run`'s flags, or `stages.incidents` of
 * a pipeline file). `graph` is read here unless the caller read it already (`fallbackGraph`); the
 * instance defaults to the host name.
 */
export function startIncidentsFromSpec(rt: Runtime, o: IncidentsRunOptions, extra: Pick<IncidentCorrelatorOptions, 'fallbackGraph' | 'onOutput'> & { instanceId?: string } = {}): Promise<RunningIncidentCorrelator> {
  const fallbackGraph = extra.fallbackGraph ?? (typeof o.graph === 'string' ? readDependencyEdges(o.graph) : undefined);
  return startIncidentCorrelator(rt, {
    groupId: o.groupId,
    instanceId: typeof o.instanceId === 'string' ? o.instanceId : (extra.instanceId ?? hostname()),
    componentLabel: o.componentLabel,
    graphName: typeof o.graphName === 'string' ? o.graphName : undefined,
    fallbackGraph,
    tickMs: o.tickMs,
    publishedCapacity: o.publishedCapacity,
    maxBatchSize: o.maxBatchSize,
    correlator: correlatorOptionsOf(o),
    ...(extra.onOutput ? { onOutput: extra.onOutput } : {}),
  });
}

/**
 * The Panoptes pipeline as the lab's observability stack, end to end on one transport:
 *   Prometheus ──remote-write──▶ receiver ──▶ [metrics] ──▶ detector (base + lab rules) ──▶
 *   [anomalies] ──▶ incident correlator ──▶ [incidents] ──▶ rca (graph from the lab catalog) ──▶ [rca]
 * What agents see through the interface (get_anomalies, get_incidents, get_rca) is read back from
 * the anomalies, incidents and rca topics by a tail consumer (read_committed), not taken from
 * the stages' callbacks, so the records are what any other consumer of the topics would see.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { RankMethod } from '../../rca/index.ts';
import type { Anomaly, CausalGraphRecord, Incident, RcaResult } from '../../core/records.ts';
import type { Runtime } from '../../core/runtime.ts';
import { topicName } from '../../core/topics.ts';
import type { Consumer } from '../../core/transport/types.ts';
import { LAB_SIGNALS, RESOURCE_SIGNALS } from '../types.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const LAB_RULES_FILE = join(HERE, '..', 'agents', 'lab-rules.yaml');
export const LAB_CATALOG_DIR = join(HERE, '..', 'catalog');

/** Which recorded signal each lab rule runs on. */
export const LAB_RULE_SELECTORS: Record<string, Record<string, string>> = {
  'lab-down': { signal: 'up' },
  'lab-errors': { signal: 'errors' },
  'lab-latency': { signal: 'latency' },
  'lab-cpu': { signal: 'cpu' },
  'lab-memory': { signal: 'memory' },
  'lab-quiet-traffic': { signal: 'traffic' },
  'lab-quiet-memory': { signal: 'memory' },
  'lab-quiet-errors': { signal: 'errors' },
  'lab-quiet-latency': { signal: 'latency' },
  'lab-quiet-cpu': { signal: 'cpu' },
};

/** Robust z over the last 30 one-second samples; flags only far outliers (lab series are noisy under a Poisson workload). */
export const LAB_BASE_OPTIONS = { window: 30, warmup: 20, threshold: 9, cooldown: 20 } as const;

export interface Stamped<T> {
  value: T;
  /** When the tail read it (ms). */
  seenAtMs: number;
}

export interface PipelineOptions {
  config: Config;
  /** 127.0.0.1 port of the remote-write receiver. */
  receiverPort: number;
  /** Service and resource names that have catalog pages (for the graph's observed nodes). */
  services: readonly string[];
  resources: readonly string[];
  log?: Logger;
  progress?: (line: string) => void;
  /** The RCA stage's ranking method (default: the rca stage's, hybrid: traversal's structure with attribution's evidence). */
  rcaMethod?: RankMethod;
}

export interface RunningPipeline {
  readonly transport: string;
  /** http://127.0.0.1:<port>/api/v1/write */
  readonly remoteWriteUrl: string;
  readonly graph: CausalGraphRecord | null;
  anomalies(): Stamped<Anomaly>[];
  incidents(): Stamped<Incident>[];
  rca(): Stamped<RcaResult>[];
  /** Metric batches the receiver stored so far. */
  samplesReceived(): number;
  /** Rejects when a stage stopped on its own. */
  failed: Promise<never>;
  stop(): Promise<void>;
}

/** The lab's causal graph: the catalog's pages through the graph synthesizer (offline judge). */
// The catalog and the offline judge are deterministic, so one synthesis per app shape serves every
// problem of a run (`lab run --all` starts the pipeline 25 times).
const labGraphs = new Map<string, Promise<CausalGraphRecord>>();

export function labGraph(services: readonly string[], resources: readonly string[]): Promise<CausalGraphRecord> {
  const key = `${[...services].sort().join(',')}|${[...resources].sort().join(',')}`;
  let graph = labGraphs.get(key);
  if (graph === undefined) {
    graph = synthesizeLabGraph(services, resources);
    labGraphs.set(key, graph);
    graph.catch(() => labGraphs.delete(key)); // a failure is not remembered: the next problem tries again
  }
  return graph;
}

async function synthesizeLabGraph(services: readonly string[], resources: readonly string[]): Promise<CausalGraphRecord> {
  const { loadCatalogDir, synthesizeGraph, OfflineJudge } = await import('../../rca/index.ts');
  const observed = new Set<string>([...services.flatMap((s) => LAB_SIGNALS.map((g) => `${s}:${g}`)), ...resources.flatMap((r) => RESOURCE_SIGNALS.map((g) => `${r}:${g}`))]);
  const { graph } = await synthesizeGraph({ name: 'lab', catalog: loadCatalogDir(LAB_CATALOG_DIR), observed, judge: new OfflineJudge() });
  return graph;
}

export async function startPipeline(o: PipelineOptions): Promise<RunningPipeline> {
  const { createRuntime } = await import('../../core/runtime.ts');
  const { parseRuleFile, formatDiagnostic, toRuleRecord, startDetector } = await import('../../detect/index.ts');
  const { startIncidentCorrelator } = await import('../../incidents/index.ts');
  const { startRcaConsumer } = await import('../../rca/index.ts');
  const { RemoteWriteReceiver, WRITE_PATH, TopicSink } = await import('../../../connectors/remote-write/index.ts');
  const progress = o.progress ?? (() => undefined);

  const rt: Runtime = await createRuntime(o.config, { stage: 'lab', ...(o.log ? { log: o.log } : {}) });
  const stops: Array<() => Promise<void>> = [
    async () => {
      await rt.close();
      // The embedded broker lives as long as the process: drop this problem's topics, or a long
      // run (60 problems × repeats) would keep every record of every problem in memory.
      const topics = (rt.transport as { broker?: { topics?: Map<string, unknown> } }).broker?.topics;
      if (rt.config.transport === 'embedded' && topics instanceof Map && rt.config.topicPrefix) for (const t of [...topics.keys()]) if (t.startsWith(rt.config.topicPrefix)) topics.delete(t);
    },
  ];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  const id = randomUUID().slice(0, 8);
  const prefix = rt.config.topicPrefix;
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  try {
    const producer = await rt.transport.producer();
    const rulesTopic = topicName('rules', prefix);
    const { rules, diagnostics } = parseRuleFile(readFileSync(LAB_RULES_FILE, 'utf8'), LAB_RULES_FILE);
    if (diagnostics.length > 0) throw new InputError(`${diagnostics.length} error(s) in ${LAB_RULES_FILE}:\n${diagnostics.map((d) => formatDiagnostic(d, LAB_RULES_FILE)).join('\n')}`);
    await producer.send(rules.map((r) => ({ topic: rulesTopic, key: r.spec.id, value: rt.serde.encode(rulesTopic, toRuleRecord(r, { selector: LAB_RULE_SELECTORS[r.spec.id] ?? {}, source: 'lab' })) })));

    let graph: CausalGraphRecord | null = null;
    try {
      graph = await labGraph(o.services, o.resources);
      progress(`causal graph from the lab catalog: ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
    } catch (err) {
      progress(`no causal graph (${(err as Error).message}); RCA ranks by anomaly evidence alone`);
    }

    const det = await startDetector(rt, { groupId: `lab-detect-${id}`, instanceId: `lab-${id}`, base: 'robust-z', baseOptions: { ...LAB_BASE_OPTIONS } });
    stops.push(() => det.stop());
    void det.failed.then((e) => fail(e));
    const inc = await startIncidentCorrelator(rt, {
      groupId: `lab-incidents-${id}`,
      instanceId: `lab-${id}`,
      componentLabel: 'component',
      correlator: { windowMs: 60_000, quietMs: 30_000, maxHops: 2 },
      ...(graph ? { fallbackGraph: graph } : {}),
      tickMs: 500,
    });
    stops.push(() => inc.stop());
    void inc.failed.then((e) => fail(e));
    const rca = await startRcaConsumer(rt, {
      groupId: `lab-rca-${id}`,
      instanceId: `lab-${id}`,
      ...(o.rcaMethod ? { method: o.rcaMethod } : {}),
      componentLabel: 'component',
      metricLabel: 'signal',
      ...(graph ? { fallbackGraph: graph } : {}),
      debounceMs: 1500,
      maxDelayMs: 6000,
      stepMs: 1000,
      normalGapMs: 3000,
    });
    stops.push(() => rca.stop());
    void rca.failed.then((e) => fail(e));

    // Tail of what the stages published.
    const anomalies: Stamped<Anomaly>[] = [];
    const incidents: Stamped<Incident>[] = [];
    const results: Stamped<RcaResult>[] = [];
    const tAnom = topicName('anomalies', prefix);
    const tInc = topicName('incidents', prefix);
    const tRca = topicName('rca', prefix);
    const tail: Consumer = await rt.transport.consumer({ groupId: `${prefix}lab-tail-${id}`, fromBeginning: true, autoCommit: false, readCommitted: true });
    await tail.subscribe([tAnom, tInc, tRca]);
    await tail.run({
      eachBatch: async (b) => {
        const now = Date.now();
        for (const r of b.records) {
          if (r.value === null) continue;
          try {
            if (b.topic === tAnom) anomalies.push({ value: (await rt.serde.decode<Anomaly>(tAnom, r.value)).value, seenAtMs: now });
            else if (b.topic === tInc) incidents.push({ value: (await rt.serde.decode<Incident>(tInc, r.value)).value, seenAtMs: now });
            else if (b.topic === tRca) results.push({ value: (await rt.serde.decode<RcaResult>(tRca, r.value)).value, seenAtMs: now });
          } catch (err) {
            rt.log.warn('lab tail: undecodable record', { topic: b.topic, offset: r.offset, err });
          }
        }
      },
      onError: (err) => fail(err),
    });
    stops.push(() => tail.stop());

    const sink = new TopicSink({ producer, serde: rt.serde, topic: topicName('metrics', prefix), registry: rt.metrics });
    const receiver = new RemoteWriteReceiver({ listen: `127.0.0.1:${o.receiverPort}`, deadlineMs: 5000 }, { sink, registry: rt.metrics, logger: rt.log });
    const url = await receiver.start();
    stops.push(async () => {
      await receiver.close();
      await sink.close();
    });
    let received = 0;
    const counter = rt.metrics.getSingleMetric('panoptes_remote_write_records_produced_total');
    const countNow = async () => {
      const m = counter ? await counter.get() : null;
      received = m?.values[0]?.value ?? received;
      return received;
    };
    progress(`pipeline up on the ${rt.config.transport} transport: receiver ${url}${WRITE_PATH} → metrics → detect → anomalies → incidents → rca`);
    return {
      transport: rt.config.transport,
      remoteWriteUrl: `${url}${WRITE_PATH}`,
      graph,
      anomalies: () => anomalies,
      incidents: () => incidents,
      rca: () => results,
      samplesReceived: () => {
        void countNow();
        return received;
      },
      failed,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

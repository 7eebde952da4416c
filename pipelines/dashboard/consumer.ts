/**
 * Kafka wiring of the dashboard: reads the pipeline's topics into the view and announces each
 * change on the live feed. A read-only observer: its consumer groups are private to the instance
 * (a random suffix) and commit nothing, so dashboards never take partitions from each other or
 * from the stages, and a restarted dashboard rebuilds its view from the topics.
 *   - state topics (rules, causal-graphs; compacted) are always read from the beginning;
 *   - event topics (metrics, anomalies, incidents, rca, inference.results) from the beginning
 *     with `start: earliest` (the view keeps only the newest of them), else from new records.
 */
import { randomUUID } from 'node:crypto';
import { transportMetrics } from '../core/metrics.ts';
import type { Anomaly, CausalGraphRecord, Incident, InferenceResult, MetricBatch, RcaResult, RuleRecord } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName, type TopicKey } from '../core/topics.ts';
import type { Batch, Consumer } from '../core/transport/types.ts';
import type { LiveFeed } from './feed.ts';
import type { DashboardMetrics } from './metrics.ts';
import type { DashboardOptions } from './spec.ts';
import type { DashboardView, ViewEvent } from './view.ts';
import { RuleSet } from '../detect/index.ts';

export const STATE_TOPICS = ['rules', 'causalGraphs'] as const satisfies readonly TopicKey[];
export const EVENT_TOPICS = ['metrics', 'anomalies', 'incidents', 'rca', 'inferenceResults'] as const satisfies readonly TopicKey[];

export interface RunningReader {
  stop(): Promise<void>;
  /** Resolves with the error when a consumer stops on its own. */
  failed: Promise<unknown>;
  healthy(): boolean;
}

export async function startReader(rt: Runtime, view: DashboardView, feed: LiveFeed, dm: DashboardMetrics, opts: Pick<DashboardOptions, 'start'> & { groupId?: string }): Promise<RunningReader> {
  const prefix = rt.config.topicPrefix;
  const log = rt.log.child({ stage: 'dashboard' });
  const tm = transportMetrics(rt.metrics);
  const base = groupName(`${opts.groupId ?? 'panoptes-dashboard'}.${randomUUID().slice(0, 8)}`, prefix);
  const byTopic = new Map<string, TopicKey>([...STATE_TOPICS, ...EVENT_TOPICS].map((k) => [topicName(k, prefix), k]));

  // The same checker the detectors run, so the page shows the rules they actually hold.
  const ruleSet = new RuleSet();
  let inferenceDirty = false;
  let windowHasData = false;
  // Results arrive by the thousand per second under load: the feed carries one summary a second,
  // and keeps sending while the window still holds results, so figures decay when traffic stops.
  const inferenceTimer = setInterval(() => {
    if (!inferenceDirty && !windowHasData) return;
    inferenceDirty = false;
    const s = view.inference.summary(Date.now());
    windowHasData = s.overall.total > 0;
    feed.publish({ type: 'inference', data: s });
  }, 1000);
  inferenceTimer.unref();

  const apply = async (key: TopicKey, topic: string, recKey: string, value: Buffer | null, ts: number): Promise<ViewEvent | null> => {
    if (value === null) {
      if (key === 'rules') {
        ruleSet.apply(recKey, null);
        return view.applyRule(recKey, null);
      }
      if (key === 'causalGraphs') return view.applyGraph(recKey, null);
      return null;
    }
    switch (key) {
      case 'metrics':
        return view.applyMetrics((await rt.serde.decode<MetricBatch>(topic, value)).value);
      case 'anomalies':
        return view.applyAnomaly((await rt.serde.decode<Anomaly>(topic, value)).value);
      case 'rules': {
        const r = (await rt.serde.decode<RuleRecord>(topic, value)).value;
        const u = ruleSet.apply(recKey || r.id, r);
        return view.applyRule(recKey || r.id, r, u.kind === 'rejected' ? u.reason : null);
      }
      case 'incidents':
        return view.applyIncident((await rt.serde.decode<Incident>(topic, value)).value);
      case 'rca':
        return view.applyRca((await rt.serde.decode<RcaResult>(topic, value)).value);
      case 'causalGraphs': {
        const g = (await rt.serde.decode<CausalGraphRecord>(topic, value)).value;
        return view.applyGraph(recKey || g.name, g);
      }
      case 'inferenceResults':
        view.applyInference((await rt.serde.decode<InferenceResult>(topic, value)).value, ts);
        inferenceDirty = true;
        return null;
      default:
        return null;
    }
  };

  const consumers: Consumer[] = [];
  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));
  let broken = false;

  const eachBatch = (group: string) => async (b: Batch) => {
    const started = performance.now();
    const key = byTopic.get(b.topic);
    if (!key) return;
    for (const r of b.records) {
      let e: ViewEvent | null;
      try {
        e = await apply(key, b.topic, r.key?.toString() ?? '', r.value, r.timestamp);
      } catch (err) {
        // The stages dead-letter what they cannot decode; a viewer can only skip it, loudly.
        dm.decodeErrors.labels(b.topic).inc();
        log.warn('record does not decode; skipped', { topic: b.topic, partition: r.partition, offset: r.offset, err });
        continue;
      }
      dm.applied.labels(b.topic).inc();
      if (e) feed.publish(e);
    }
    const last = b.records[b.records.length - 1];
    if (last) {
      dm.lastRecordAge.labels(b.topic).set(last.timestamp / 1000);
      tm.lag.labels(b.topic, String(b.partition), group).set(Math.max(0, Number(b.highWatermark) - Number(last.offset) - 1));
    }
    tm.consumed.labels(b.topic, group).inc(b.records.length);
    tm.batchLatency.labels(b.topic, group).observe((performance.now() - started) / 1000);
    dm.series.set(view.seriesCount());
  };

  const run = async (suffix: string, keys: readonly TopicKey[], fromBeginning: boolean) => {
    const group = `${base}.${suffix}`;
    const c = await rt.transport.consumer({ groupId: group, fromBeginning, autoCommit: false, readCommitted: true, maxBatchSize: 1000 });
    consumers.push(c);
    await c.subscribe(keys.map((k) => topicName(k, prefix)));
    await c.run({
      eachBatch: eachBatch(group),
      onError: (err) => {
        broken = true;
        tm.errors.labels('dashboard').inc();
        log.error('dashboard reader stopped', { group, err });
        fail(err);
      },
    });
  };

  try {
    await run('state', STATE_TOPICS, true);
    await run('events', EVENT_TOPICS, opts.start === 'earliest');
  } catch (err) {
    clearInterval(inferenceTimer);
    await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
    throw err;
  }
  log.info('dashboard reading topics', { group: base, start: opts.start });

  return {
    failed,
    healthy: () => !broken,
    async stop() {
      clearInterval(inferenceTimer);
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}

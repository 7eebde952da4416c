/**
 * The online detector's Kafka wiring: a stage on `runStage` (core/stage.ts) consuming `metrics`,
 * exactly-once into `anomalies`, plus a tail of the compacted `rules` topic. The logic is in
 * engine/ (OnlineDetector) and rules/; this file only connects them.
 *
 * - Each batch's anomalies and dead letters go in one transaction with the batch's input offsets.
 *   A record the detector refuses (a sample stamped outside the date range) is dead-lettered with
 *   the reason and the group goes on (the stage's record policy).
 * - No local durable state: on assignment of a partition its series' windows are rebuilt from the
 *   partition itself, up to the group's committed offset, starting at the record time the longest
 *   window needs (`rebuild`, see engine/lookback.ts), not at the partition's start.
 * - Rules come from the compacted `rules` topic: read fully at start, then tailed; each change is
 *   checked and swapped in between batches. A record that does not decode or does not check is
 *   rejected with its reason (logged, `panoptes_detect_rule_records_rejected_total`); the other
 *   rules stay in force and the detector never stops on one.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram } from 'prom-client';
import { describeError } from '../core/errors.ts';
import type { Anomaly, MetricBatch, RuleRecord } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { runStage } from '../core/stage.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { InRecord } from '../core/transport/types.ts';
import { DEFAULT_BASE_DETECTOR, createBaseDetector } from './base/index.ts';
import { lookbackMs } from './engine/lookback.ts';
import { DetectMetrics } from './engine/metrics.ts';
import { OnlineDetector } from './engine/online.ts';
import { RuleSet } from './rules/rule-records.ts';
import { baseOptionsOf, rebuildLookbackMs, type DetectOptions } from './spec.ts';

export interface DetectorOptions {
  groupId: string;
  /** Stable per instance: its transactional id, so a restarted instance fences its former self. */
  instanceId: string;
  /** Base detector name, or 'none' to run the rules alone. Default: the base module's default. */
  base?: string;
  baseOptions?: Parameters<typeof createBaseDetector>[1];
  maxBatchSize?: number;
  /** Most series tracked by this instance; further series are dropped (counted). Default: no limit. */
  maxSeries?: number;
  /** Rebuild lookback in ms: undefined = what the rules and base detector need; Infinity = the whole partition. */
  rebuildLookbackMs?: number;
  /** Called after each committed batch (tests, progress). */
  onCommitted?: (info: { partition: number; records: number; anomalies: Anomaly[] }) => void;
}

export interface RunningDetector {
  stop(): Promise<void>;
  /** Resolves when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  /** False while windows are rebuilt (and before the first assignment). */
  ready(): boolean;
  health(): { ok: boolean; detail: Record<string, unknown> };
  rules(): RuleSet;
  /** Rule ids rejected by the latest record of each, with the reason. */
  rejected(): ReadonlyMap<string, string>;
  seriesCount(): number;
  /** What the last rebuild read, per partition: records replayed and the lookback used. */
  lastRebuild(): ReadonlyMap<number, { records: number; lookbackMs: number; passes: number }>;
}

/** First guess of a series' sampling interval before any sample is seen (Prometheus's default scrape interval). */
const GUESS_INTERVAL_MS = 60_000;
/** `auto` never replays more than this: the longest window a rule may have (7d) and a day for a base detector's warm-up. */
export const MAX_AUTO_LOOKBACK_MS = 8 * 86_400_000;
/** A rate-limited warning is logged at most this often. */
const WARN_EVERY_MS = 60_000;

export async function startDetector(rt: Runtime, opts: DetectorOptions): Promise<RunningDetector> {
  const prefix = rt.config.topicPrefix;
  const groupId = groupName(opts.groupId, prefix);
  const metricsTopic = topicName('metrics', prefix);
  const rulesTopic = topicName('rules', prefix);
  const anomaliesTopic = topicName('anomalies', prefix);
  const baseName = opts.base ?? DEFAULT_BASE_DETECTOR;
  const log = rt.log.child({ stage: 'detect', instance: opts.instanceId });
  // One set of metrics per registry: a detector restarted in the same process reuses them.
  const once = <T>(name: string, make: () => T): T => (rt.metrics.getSingleMetric(name) as T | undefined) ?? make();
  const dm = DetectMetrics.for(rt.metrics);
  const rulesGauge = once('panoptes_detect_rules_deployed', () => new Gauge({ name: 'panoptes_detect_rules_deployed', help: 'Rules currently deployed on this detector.', registers: [rt.metrics] }));
  const rejectedRules = once('panoptes_detect_rules_rejected', () => new Gauge({ name: 'panoptes_detect_rules_rejected', help: 'Rules on the rules topic rejected (latest state): their record did not decode or did not check.', registers: [rt.metrics] }));
  const rejectedRecords = once('panoptes_detect_rule_records_rejected_total', () => new Counter({ name: 'panoptes_detect_rule_records_rejected_total', help: 'Records of the rules topic rejected, by reason (decode: not a Rule record; check: the rule does not parse, check or compile).', labelNames: ['reason'], registers: [rt.metrics] }));
  const e2e = once('panoptes_detect_end_to_end_seconds', () => new Histogram({ name: 'panoptes_detect_end_to_end_seconds', help: 'From a sample batch being received by the connector to its anomalies being committed.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [rt.metrics] }));
  const seriesGauge = once('panoptes_detect_series', () => new Gauge({ name: 'panoptes_detect_series', help: 'Series with windows held by this instance.', registers: [rt.metrics] }));

  // Fail fast on a bad name or option, before anything connects.
  const baseFactory = baseName === 'none' ? undefined : () => createBaseDetector(baseName, opts.baseOptions ?? {});
  baseFactory?.();

  // --- rules ---------------------------------------------------------------------------------
  const ruleSet = new RuleSet();
  const rejected = new Map<string, string>();
  const reject = (id: string, reason: 'decode' | 'check', why: string, offset: string) => {
    rejected.set(id, why);
    rejectedRecords.labels(reason).inc();
    log.error('rule record rejected: the rule stays undeployed and the other rules keep running', { rule: id, offset, reason: why });
  };
  const applyRuleRecords = async (records: InRecord[]): Promise<boolean> => {
    let changed = false;
    for (const r of records) {
      const id = r.key?.toString() ?? '';
      let rec: RuleRecord | null = null;
      if (r.value !== null) {
        try {
          rec = (await rt.serde.decode<RuleRecord>(rulesTopic, r.value)).value;
        } catch (err) {
          reject(id, 'decode', `does not decode: ${describeError(err)}`, r.offset);
          continue;
        }
      }
      let u: ReturnType<RuleSet['apply']>;
      try {
        u = ruleSet.apply(id, rec);
      } catch (err) {
        // The checker answers every rule it can parse; anything else is still this record's fault.
        u = { kind: 'rejected', id, reason: describeError(err) };
      }
      if (u.kind === 'rejected') {
        reject(id, 'check', u.reason, r.offset);
        continue;
      }
      rejected.delete(id);
      if (u.kind === 'set' || u.kind === 'deleted') {
        changed = true;
        log.info(u.kind === 'set' ? 'rule deployed' : 'rule deleted', { rule: id, ...(u.kind === 'set' ? { version: u.version } : {}) });
      }
    }
    rulesGauge.set(ruleSet.all().length);
    rejectedRules.set(rejected.size);
    return changed;
  };
  // Current rules before the first sample, so a restarted detector starts with what it had. The
  // tail below starts from the beginning too; what this read applied it skips.
  const readUpTo = new Map<number, bigint>();
  const initial = await rt.transport.readToEnd(rulesTopic);
  for (const r of initial) readUpTo.set(r.partition, BigInt(r.offset) + 1n);
  await applyRuleRecords(initial);

  // --- the detector --------------------------------------------------------------------------
  let lastDropWarning = -Infinity;
  let droppedSinceWarning = 0;
  const online = new OnlineDetector(ruleSet, {
    ...(baseFactory ? { baseFactory } : {}),
    metrics: dm,
    ...(opts.maxSeries !== undefined ? { maxSeries: opts.maxSeries } : {}),
    // SeriesDetector counts the fault (panoptes_detect_rule_faults_total); this only tells.
    onRuleError: (f, labels) => log.warn('rule quarantined on a series', { rule: f.ruleId, version: f.ruleVersion, series: labels, message: f.message }),
    onSeriesDropped: (labels) => {
      droppedSinceWarning++;
      const now = Date.now();
      if (now - lastDropWarning < WARN_EVERY_MS) return;
      log.warn('series cap reached: records of new series are dropped (panoptes_detect_series_dropped_total)', { maxSeries: opts.maxSeries, droppedRecords: droppedSinceWarning, example: labels });
      lastDropWarning = now;
      droppedSinceWarning = 0;
    },
  });

  // --- rebuild on assignment -----------------------------------------------------------------
  const rebuilds = new Map<number, { records: number; lookbackMs: number; passes: number }>();
  /** Replays [from, until) of the partitions into fresh state; returns the records replayed per partition. */
  const replay = async (parts: number[], until: Map<number, string>, from: Map<number, string> | undefined): Promise<Map<number, number>> => {
    for (const p of parts) online.dropPartition(p);
    const count = new Map(parts.map((p) => [p, 0]));
    const pending: InRecord[] = [];
    await rt.transport.readToEnd(metricsTopic, parts, (recs) => void pending.push(...recs), until, from);
    for (const r of pending) {
      try {
        const { value } = await rt.serde.decode<MetricBatch>(metricsTopic, r.value);
        if (online.rebuild(r.partition, value)) count.set(r.partition, count.get(r.partition)! + 1);
      } catch {
        // It went to the dead-letter topic when first processed.
      }
    }
    return count;
  };

  const rebuild = async (ids: number[]) => {
    const committed = await rt.transport.committed(groupId, metricsTopic);
    const until = new Map(ids.map((p) => [p, committed.get(p) ?? '0']));
    const parts = ids.filter((p) => BigInt(until.get(p)!) > 0n);
    for (const p of ids) online.dropPartition(p);
    if (parts.length === 0) return;
    const fixed = opts.rebuildLookbackMs;
    if (fixed === Infinity) {
      const n = await replay(parts, until, undefined);
      for (const p of parts) rebuilds.set(p, { records: n.get(p)!, lookbackMs: Infinity, passes: 1 });
      return;
    }
    // The time of the last record processed on each partition: the windows end there.
    const last = await rt.transport.readToEnd(metricsTopic, parts, undefined, until, new Map(parts.map((p) => [p, String(BigInt(until.get(p)!) - 1n)])));
    const endTime = new Map(last.map((r) => [r.partition, r.timestamp]));
    const lows = new Map((await rt.transport.offsets(metricsTopic)).map((o) => [o.partition, o.low]));
    const lookback = new Map(parts.map((p) => [p, fixed ?? Math.min(MAX_AUTO_LOOKBACK_MS, slack(lookbackMs(online.needs(), GUESS_INTERVAL_MS)))]));
    const from = async (p: number) => {
      const t = endTime.get(p);
      // No visible last record (aborted or compacted away): the whole partition up to the commit.
      if (t === undefined) return lows.get(p) ?? '0';
      return (await rt.transport.offsetsForTimes(metricsTopic, t - lookback.get(p)!, [p])).get(p) ?? '0';
    };
    let todo = parts;
    for (let pass = 1; todo.length > 0; pass++) {
      const starts = new Map<number, string>();
      for (const p of todo) starts.set(p, await from(p));
      const n = await replay(todo, until, starts);
      for (const p of todo) rebuilds.set(p, { records: n.get(p)!, lookbackMs: lookback.get(p)!, passes: pass });
      if (fixed !== undefined || pass >= 2) break;
      // `auto`: now that each series' sampling interval is known, replay further back where a
      // series needs more than was read (and more exists).
      // (Only past the slack: a series a little slower than guessed is covered by it.)
      todo = todo.filter((p) => {
        const need = online.neededLookbackMs(p);
        if (need <= lookback.get(p)! || lookback.get(p)! >= MAX_AUTO_LOOKBACK_MS || BigInt(starts.get(p)!) <= BigInt(lows.get(p) ?? '0')) return false;
        lookback.set(p, Math.min(MAX_AUTO_LOOKBACK_MS, slack(need)));
        return true;
      });
    }
    const stats = Object.fromEntries(parts.map((p) => [p, rebuilds.get(p)]));
    log.info('windows rebuilt from the topic', { partitions: parts, upTo: Object.fromEntries(until), rebuild: stats });
  };

  // --- the stage -----------------------------------------------------------------------------
  let batchAnomalies: Anomaly[] = [];
  const stage = await runStage<MetricBatch>(rt, {
    name: 'detect',
    topic: metricsTopic,
    groupId,
    instanceId: opts.instanceId,
    delivery: 'exactly-once',
    maxBatchSize: opts.maxBatchSize ?? 500,
    process: (batch, record) => {
      const anomalies = online.process(record.partition, batch);
      const out = anomalies.map((a) => ({ topic: anomaliesTopic, key: a.fingerprint, value: rt.serde.encode(anomaliesTopic, a) }));
      for (const a of anomalies) batchAnomalies.push(a);
      return out;
    },
    committed: ({ batch, values }) => {
      const now = Date.now();
      for (const v of values) if (v.receivedAtMs > 0) e2e.observe((now - v.receivedAtMs) / 1000);
      seriesGauge.set(online.seriesCount());
      const anomalies = batchAnomalies;
      batchAnomalies = [];
      opts.onCommitted?.({ partition: batch.partition, records: batch.records.length, anomalies });
    },
    onAssign: async (ids) => {
      await rebuild(ids);
      seriesGauge.set(online.seriesCount());
    },
    onRevoke: async (ids) => {
      for (const p of ids) online.dropPartition(p);
      seriesGauge.set(online.seriesCount());
    },
  });

  // Tail the rules topic: every instance sees every rule, so its group is its own. It starts from
  // the beginning too: a rule published between the read above and the tail's first fetch would
  // otherwise be missed, and re-applying a rule already in force changes nothing. Changes are
  // applied between batches.
  const rulesConsumer = await rt.transport.consumer({ groupId: `${groupId}.rules.${opts.instanceId}.${randomUUID().slice(0, 8)}`, fromBeginning: true, autoCommit: false });
  try {
    await rulesConsumer.subscribe([rulesTopic]);
    await rulesConsumer.run({
      eachBatch: (b) =>
        stage.exclusive(async () => {
          const seen = readUpTo.get(b.partition) ?? 0n;
          const fresh = b.records.filter((r) => BigInt(r.offset) >= seen);
          if (fresh.length > 0 && (await applyRuleRecords(fresh))) online.setRules(ruleSet);
        }),
      onError: (err) => log.error('rules tail failed; the rules in force stay', { err }),
    });
  } catch (err) {
    await stage.stop().catch(() => undefined);
    throw err;
  }
  log.info('detector running', { group: groupId, base: baseName, rules: ruleSet.all().length, maxSeries: opts.maxSeries ?? null });

  return {
    failed: stage.failed,
    ready: () => stage.ready(),
    health: () => stage.health(),
    rules: () => ruleSet,
    rejected: () => rejected,
    seriesCount: () => online.seriesCount(),
    lastRebuild: () => rebuilds,
    async stop() {
      await rulesConsumer.stop();
      await stage.stop();
    },
  };
}

/** A lookback with room for the record time running ahead of sample time. */
function slack(ms: number): number {
  return Math.ceil(ms * 1.1) + 60_000;
}

/**
 * The online detector from the spec's values (`panoptes detect`'s flags, or `stages.detect` of a
 * pipeline file): the instance defaults to the host name.
 */
export function startDetectorFromSpec(rt: Runtime, o: DetectOptions, extra: Pick<DetectorOptions, 'onCommitted'> & { instanceId?: string } = {}): Promise<RunningDetector> {
  const lookback = rebuildLookbackMs(o);
  return startDetector(rt, {
    groupId: o.group,
    instanceId: o.instance ?? extra.instanceId ?? hostname(),
    base: o.base,
    baseOptions: baseOptionsOf(o),
    maxBatchSize: o.maxBatch,
    maxSeries: o.maxSeries,
    ...(lookback !== undefined ? { rebuildLookbackMs: lookback } : {}),
    ...(extra.onCommitted ? { onCommitted: extra.onCommitted } : {}),
  });
}

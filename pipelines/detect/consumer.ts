/**
 * The online detector: a consumer group on `metrics`, exactly-once into `anomalies`.
 *
 * - Each batch's anomalies (and dead letters) are produced in one transaction together with the
 *   batch's input offsets, so a crash at any point either publishes both or neither; downstream
 *   reads with read_committed.
 * - No local durable state: on assignment of a partition the detector reads that partition back up
 *   to the group's committed offset to rebuild every series' windows (`OnlineDetector.rebuild`),
 *   then continues from the committed offset. Any instance can take any partition.
 * - Rules come from the compacted `rules` topic: read fully at start, then tailed; each change is
 *   checked and swapped in without a restart (bad rules are rejected with their errors and the rest
 *   stay in force).
 */
import { randomUUID } from 'node:crypto';
import { Gauge, Histogram } from 'prom-client';
import { decodeBatch } from '../core/dead-letter.ts';
import { transportMetrics } from '../core/metrics.ts';
import type { Anomaly, MetricBatch, RuleRecord } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { groupName, topicName } from '../core/topics.ts';
import type { Consumer, InRecord, Producer } from '../core/transport/types.ts';
import { createBaseDetector } from './base/index.ts';
import { DetectMetrics } from './engine/metrics.ts';
import { OnlineDetector } from './engine/online.ts';
import { RuleSet } from './rules/rule-records.ts';

export interface DetectorOptions {
  groupId: string;
  /** Stable per instance: its transactional id, so a restarted instance fences its former self. */
  instanceId: string;
  /** Base detector name, or 'none' to run the rules alone. */
  base: string;
  baseOptions?: Parameters<typeof createBaseDetector>[1];
  maxBatchSize?: number;
  /** Called after each committed batch (tests, progress). */
  onCommitted?: (info: { partition: number; records: number; anomalies: Anomaly[] }) => void;
}

export interface RunningDetector {
  stop(): Promise<void>;
  /** Resolves when the consumer stops on its own because of an error. */
  failed: Promise<unknown>;
  rules(): RuleSet;
  seriesCount(): number;
}

export async function startDetector(rt: Runtime, opts: DetectorOptions): Promise<RunningDetector> {
  const prefix = rt.config.topicPrefix;
  const o = { ...opts, groupId: groupName(opts.groupId, prefix) };
  const metricsTopic = topicName('metrics', prefix);
  const rulesTopic = topicName('rules', prefix);
  const anomaliesTopic = topicName('anomalies', prefix);
  const log = rt.log.child({ stage: 'detect', instance: o.instanceId });
  const tm = transportMetrics(rt.metrics);
  const dm = new DetectMetrics(rt.metrics);
  const rulesGauge = new Gauge({ name: 'panoptes_detect_rules_deployed', help: 'Rules currently deployed on this detector.', registers: [rt.metrics] });
  const rejectedRules = new Gauge({ name: 'panoptes_detect_rules_rejected', help: 'Rules on the rules topic rejected by the checker (latest state).', registers: [rt.metrics] });
  const e2e = new Histogram({ name: 'panoptes_detect_end_to_end_seconds', help: 'From a sample batch being received by the connector to its anomalies being committed.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [rt.metrics] });
  const seriesGauge = new Gauge({ name: 'panoptes_detect_series', help: 'Series with windows held by this instance.', registers: [rt.metrics] });

  let ruleSet = new RuleSet();
  const rejected = new Set<string>();
  const applyRuleRecords = async (records: InRecord[]): Promise<boolean> => {
    let changed = false;
    for (const r of records) {
      const id = r.key?.toString() ?? '';
      let rec: RuleRecord | null = null;
      if (r.value !== null) {
        try {
          rec = (await rt.serde.decode<RuleRecord>(rulesTopic, r.value)).value;
        } catch (err) {
          log.error('rule record does not decode; ignored', { rule: id, offset: r.offset, err });
          continue;
        }
      }
      const u = ruleSet.apply(id, rec);
      if (u.kind === 'rejected') {
        rejected.add(id);
        log.error('rule rejected: it stays undeployed and the other rules keep running', { rule: id, reason: u.reason });
      } else rejected.delete(id);
      if (u.kind === 'set' || u.kind === 'deleted') {
        changed = true;
        log.info(u.kind === 'set' ? 'rule deployed' : 'rule deleted', { rule: id, ...(u.kind === 'set' ? { version: u.version } : {}) });
      }
    }
    rulesGauge.set(ruleSet.all().length);
    rejectedRules.set(rejected.size);
    return changed;
  };

  // Current rules before the first sample, so a restarted detector starts with what it had.
  await applyRuleRecords(await rt.transport.readToEnd(rulesTopic));

  const baseFactory = o.base === 'none' ? undefined : () => createBaseDetector(o.base, o.baseOptions ?? {});
  createBaseDetector(o.base === 'none' ? 'robust-z' : o.base, o.baseOptions ?? {}); // fail fast on a bad name
  const online = new OnlineDetector(ruleSet, {
    ...(baseFactory ? { baseFactory } : {}),
    metrics: dm,
    onRuleError: (f, labels) => {
      dm.faults.labels(f.ruleId).inc();
      log.warn('rule quarantined on a series', { rule: f.ruleId, version: f.ruleVersion, series: labels, message: f.message });
    },
  });

  // Tail the rules topic: every instance sees every rule, so its group is its own. It starts from
  // the beginning too: a rule published between the read above and the tail's first fetch would
  // otherwise be missed, and re-applying a rule already in force changes nothing.
  const rulesConsumer = await rt.transport.consumer({ groupId: `${o.groupId}.rules.${o.instanceId}.${randomUUID().slice(0, 8)}`, fromBeginning: true, autoCommit: false });
  await rulesConsumer.subscribe([rulesTopic]);
  await rulesConsumer.run({
    eachBatch: async (b) => {
      if (await applyRuleRecords(b.records)) online.setRules(ruleSet);
    },
    onError: (err) => log.error('rules tail failed', { err }),
  });

  const producer: Producer = await rt.transport.producer({ transactionalId: `${o.groupId}.${o.instanceId}` });
  const consumer: Consumer = await rt.transport.consumer({ groupId: o.groupId, fromBeginning: true, autoCommit: false, readCommitted: true, maxBatchSize: o.maxBatchSize ?? 500 });
  await consumer.subscribe([metricsTopic]);

  let fail!: (err: unknown) => void;
  const failed = new Promise<unknown>((resolve) => (fail = resolve));

  await consumer.run({
    onAssign: async (partitions) => {
      const ids = partitions.map((p) => p.partition);
      for (const p of ids) online.dropPartition(p);
      // Replay what the group already processed on these partitions (up to its committed offsets)
      // to rebuild every series' windows; one read for all of them.
      const committed = await rt.transport.committed(o.groupId, metricsTopic);
      const until = new Map(ids.map((p) => [p, committed.get(p) ?? '0']));
      const pending: InRecord[] = [];
      await rt.transport.readToEnd(metricsTopic, ids, (recs) => void pending.push(...recs), until);
      let replayed = 0;
      for (const r of pending) {
        try {
          const { value } = await rt.serde.decode<MetricBatch>(metricsTopic, r.value);
          online.rebuild(r.partition, value);
          replayed++;
        } catch {
          // It went to the dead-letter topic when first processed.
        }
      }
      log.info('partitions assigned; windows rebuilt from the topic', { partitions: ids, replayedRecords: replayed, upTo: Object.fromEntries(until) });
      seriesGauge.set(online.seriesCount());
    },
    onRevoke: async (partitions) => {
      for (const { partition } of partitions) online.dropPartition(partition);
      seriesGauge.set(online.seriesCount());
      log.info('partitions revoked', { partitions: partitions.map((p) => p.partition) });
    },
    onError: (err) => {
      tm.errors.labels('detect').inc();
      log.error('detector batch failed; stopping (offsets of committed batches are safe)', { err });
      fail(err);
    },
    eachBatch: async (b) => {
      const started = performance.now();
      const decoded = await decodeBatch<MetricBatch>(rt.serde, b.records, {
        policy: rt.config.onDecodeFailure,
        stage: 'detect',
        prefix,
        onFailure: (rec, err) => {
          tm.deadLetters.labels(rec.topic, 'decode').inc();
          log.warn('undecodable metrics record', { partition: rec.partition, offset: rec.offset, err });
        },
      });
      const anomalies: Anomaly[] = [];
      for (const { value } of decoded.ok) anomalies.push(...online.process(b.partition, value));
      const next = String(Number(b.records[b.records.length - 1].offset) + 1);
      const tx = await producer.transaction();
      try {
        await tx.send([
          ...anomalies.map((a) => ({ topic: anomaliesTopic, key: a.fingerprint, value: rt.serde.encode(anomaliesTopic, a) })),
          ...decoded.dead,
        ]);
        await tx.sendOffsets(o.groupId, [{ topic: b.topic, partition: b.partition, offset: next }]);
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      const now = Date.now();
      for (const { value } of decoded.ok) if (value.receivedAtMs > 0) e2e.observe((now - value.receivedAtMs) / 1000);
      tm.consumed.labels(b.topic, o.groupId).inc(b.records.length);
      tm.produced.labels(anomaliesTopic).inc(anomalies.length);
      tm.lag.labels(b.topic, String(b.partition), o.groupId).set(Math.max(0, Number(b.highWatermark) - Number(next)));
      tm.batchLatency.labels(b.topic, o.groupId).observe((performance.now() - started) / 1000);
      seriesGauge.set(online.seriesCount());
      o.onCommitted?.({ partition: b.partition, records: b.records.length, anomalies });
    },
  });
  log.info('detector running', { group: o.groupId, base: o.base, rules: ruleSet.all().length });

  return {
    failed,
    rules: () => ruleSet,
    seriesCount: () => online.seriesCount(),
    async stop() {
      await consumer.stop();
      await rulesConsumer.stop();
      await producer.close();
    },
  };
}

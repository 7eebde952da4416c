/**
 * The transport contract: the same suite runs on the embedded transport and on real Kafka through
 * both clients (kafkajs, librdkafka).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { EmbeddedBroker, EmbeddedTransport } from '../../../pipelines/core/transport/embedded.ts';
import { KafkaTransport } from '../../../pipelines/core/transport/kafka.ts';
import { RdKafkaTransport } from '../../../pipelines/core/transport/rdkafka.ts';
import type { Batch, Consumer, InRecord, Transport } from '../../../pipelines/core/transport/types.ts';
import { BROKER, ROOT, ensureInfra, uniquePrefix, waitFor } from '../../helpers/infra.ts';

interface Impl {
  name: string;
  make(): Transport;
  setup?(): void;
}

/** Builds librdkafka's native module if it does not load (a no-op once built); throws if it cannot. */
function ensureRdKafka(): void {
  execFileSync('bash', [join(ROOT, 'infra', 'rdkafka.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
}

const broker = new EmbeddedBroker();
const impls: Impl[] = [
  { name: 'embedded', make: () => new EmbeddedTransport(broker) },
  { name: 'kafka', setup: ensureInfra, make: () => new KafkaTransport({ brokers: [BROKER], clientId: `contract-${randomBytes(3).toString('hex')}`, connectTimeoutMs: 15000, requestTimeoutMs: 30000 }) },
  {
    name: 'librdkafka',
    setup: () => {
      ensureInfra();
      ensureRdKafka();
    },
    make: () => new RdKafkaTransport({ brokers: [BROKER], clientId: `contract-${randomBytes(3).toString('hex')}`, connectTimeoutMs: 15000, requestTimeoutMs: 30000 }),
  },
];

/** Runs a consumer until `count` records arrived; returns them (and stops the consumer). */
async function consumeN(t: Transport, topics: string[], groupId: string, count: number, opts: { autoCommit?: boolean; onBatch?: (b: Batch, c: Consumer) => Promise<void> } = {}): Promise<InRecord[]> {
  const c = await t.consumer({ groupId, fromBeginning: true, autoCommit: opts.autoCommit });
  await c.subscribe(topics);
  const got: InRecord[] = [];
  await c.run({
    eachBatch: async (b) => {
      // Counted once the handler's work (e.g. a transaction) is done, so stopping never cuts it.
      await opts.onBatch?.(b, c);
      got.push(...b.records);
    },
  });
  try {
    await waitFor(() => got.length >= count, `${count} records on ${topics.join(',')} (have ${got.length})`, 60000);
  } finally {
    await c.stop();
  }
  return got;
}

for (const impl of impls) {
  describe(`transport contract: ${impl.name}`, () => {
    let t: Transport;
    const prefix = uniquePrefix(`contract-${impl.name}`);
    const topic = (n: string) => `${prefix}${n}`;

    before(async () => {
      impl.setup?.();
      t = impl.make();
      await t.connect();
      await t.ensureTopics([
        { name: topic('keyed'), partitions: 3 },
        { name: topic('resume'), partitions: 2 },
        { name: topic('tx-in'), partitions: 1 },
        { name: topic('tx-out'), partitions: 1 },
        { name: topic('split'), partitions: 4 },
        { name: topic('compact'), partitions: 1, cleanupPolicy: 'compact' },
        { name: topic('times'), partitions: 2 },
      ]);
    });

    after(async () => {
      await t?.close();
    });

    test('ensureTopics is idempotent and listTopics shows the topics', async () => {
      await t.ensureTopics([{ name: topic('keyed'), partitions: 3 }]);
      const names = await t.listTopics();
      for (const n of ['keyed', 'resume', 'tx-in', 'tx-out', 'split', 'compact']) assert.ok(names.includes(topic(n)), `missing ${topic(n)}`);
      const offs = await t.offsets(topic('keyed'));
      assert.equal(offs.length, 3);
    });

    test('records with one key land on one partition, in order, nothing lost', async () => {
      const p = await t.producer();
      const records = Array.from({ length: 300 }, (_, i) => ({ topic: topic('keyed'), key: `series-${i % 10}`, value: Buffer.from(String(i)), headers: { n: String(i) } }));
      const acks = await p.send(records);
      assert.ok(acks.length >= 1);
      await p.close();
      const got = await consumeN(t, [topic('keyed')], `${prefix}g-keyed`, 300);
      assert.equal(got.length, 300);
      const partitionOfKey = new Map<string, number>();
      const lastByKey = new Map<string, number>();
      for (const r of got) {
        const key = r.key!.toString();
        const n = Number(r.value!.toString());
        assert.equal(r.headers.n, String(n));
        if (partitionOfKey.has(key)) assert.equal(partitionOfKey.get(key), r.partition, `key ${key} moved partitions`);
        partitionOfKey.set(key, r.partition);
        assert.ok((lastByKey.get(key) ?? -1) < n, `key ${key} out of order`);
        lastByKey.set(key, n);
      }
      assert.deepEqual([...new Set(got.map((r) => Number(r.value!.toString())))].sort((a, b) => a - b), records.map((_, i) => i));
    });

    test('a restarted consumer resumes from committed offsets: no loss, no duplicate', async () => {
      const p = await t.producer();
      await p.send(Array.from({ length: 100 }, (_, i) => ({ topic: topic('resume'), key: `k${i % 7}`, value: Buffer.from(String(i)) })));
      const group = `${prefix}g-resume`;
      const first = await consumeN(t, [topic('resume')], group, 1);
      // What the group committed is what it consumed; reading up to those offsets returns exactly that.
      const committed = await t.committed(group, topic('resume'));
      const until = new Map([0, 1].map((p) => [p, committed.get(p) ?? '0']));
      assert.equal([...until.values()].reduce((sum, o) => sum + Number(o), 0), first.length);
      const upto = await t.readToEnd(topic('resume'), undefined, undefined, until);
      assert.deepEqual(upto.map((r) => r.value!.toString()).sort(), first.map((r) => r.value!.toString()).sort());
      await p.send(Array.from({ length: 100 }, (_, i) => ({ topic: topic('resume'), key: `k${i % 7}`, value: Buffer.from(String(100 + i)) })));
      const remaining = 200 - first.length;
      const second = await consumeN(t, [topic('resume')], group, remaining);
      await p.close();
      const all = [...first, ...second].map((r) => Number(r.value!.toString())).sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 200 }, (_, i) => i), 'every record exactly once across the restart');
    });

    test('transactions: aborted records are invisible, committed ones appear with their offsets', async () => {
      const p = await t.producer();
      await p.send(Array.from({ length: 10 }, (_, i) => ({ topic: topic('tx-in'), value: Buffer.from(String(i)), partition: 0 })));
      await p.close();
      const tp = await t.producer({ transactionalId: `${prefix}tx` });
      const group = `${prefix}g-tx`;
      const aborted = await tp.transaction();
      await aborted.send([{ topic: topic('tx-out'), value: Buffer.from('aborted'), partition: 0 }]);
      await aborted.abort();
      // Process tx-in in a transaction: outputs and input offsets commit together.
      await consumeN(t, [topic('tx-in')], group, 10, {
        autoCommit: false,
        onBatch: async (b) => {
          const tx = await tp.transaction();
          await tx.send(b.records.map((r) => ({ topic: topic('tx-out'), value: Buffer.from(`out-${r.value!.toString()}`), partition: 0 })));
          await tx.sendOffsets(group, [{ topic: b.topic, partition: b.partition, offset: String(Number(b.records[b.records.length - 1].offset) + 1) }]);
          await tx.commit();
        },
      });
      await tp.close();
      const out = (await t.readToEnd(topic('tx-out'))).map((r) => r.value!.toString());
      assert.ok(!out.includes('aborted'), 'aborted record visible to read_committed');
      assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => `out-${i}`));
      // The group's offsets were committed by the transaction: a new member of the group reads nothing old.
      const c = await t.consumer({ groupId: group, fromBeginning: true, autoCommit: false });
      await c.subscribe([topic('tx-in')]);
      const seen: InRecord[] = [];
      await c.run({ eachBatch: async (b) => void seen.push(...b.records) });
      const p2 = await t.producer();
      await p2.send([{ topic: topic('tx-in'), value: Buffer.from('fresh'), partition: 0 }]);
      await p2.close();
      await waitFor(() => seen.length >= 1, 'the fresh record', 30000);
      await c.stop();
      assert.deepEqual(seen.map((r) => r.value!.toString()), ['fresh']);
    });

    test('two members of a group split the partitions and together read everything once', async () => {
      const group = `${prefix}g-split`;
      const a = await t.consumer({ groupId: group, fromBeginning: true });
      const b = await t.consumer({ groupId: group, fromBeginning: true });
      const got = new Map<string, InRecord[]>([['a', []], ['b', []]]);
      await a.subscribe([topic('split')]);
      await b.subscribe([topic('split')]);
      await a.run({ eachBatch: async (x) => void got.get('a')!.push(...x.records) });
      await b.run({ eachBatch: async (x) => void got.get('b')!.push(...x.records) });
      await waitFor(() => a.assignment().length + b.assignment().length === 4 && a.assignment().length > 0 && b.assignment().length > 0, 'both members assigned', 60000);
      const p = await t.producer();
      await p.send(Array.from({ length: 200 }, (_, i) => ({ topic: topic('split'), key: `s${i}`, value: Buffer.from(String(i)) })));
      await p.close();
      await waitFor(() => got.get('a')!.length + got.get('b')!.length >= 200, 'all 200 split records', 60000);
      await Promise.all([a.stop(), b.stop()]);
      assert.ok(got.get('a')!.length > 0 && got.get('b')!.length > 0, 'both members received records');
      const pa = new Set(got.get('a')!.map((r) => r.partition));
      for (const r of got.get('b')!) assert.ok(!pa.has(r.partition), `partition ${r.partition} read by both`);
      const all = [...got.get('a')!, ...got.get('b')!].map((r) => Number(r.value!.toString())).sort((x, y) => x - y);
      assert.deepEqual(all, Array.from({ length: 200 }, (_, i) => i));
    });

    test('readToEnd returns what a compacted topic holds, tombstones included', async () => {
      const p = await t.producer();
      await p.send([
        { topic: topic('compact'), key: 'r1', value: Buffer.from('v1') },
        { topic: topic('compact'), key: 'r2', value: Buffer.from('v1') },
        { topic: topic('compact'), key: 'r1', value: Buffer.from('v2') },
        { topic: topic('compact'), key: 'r2', value: null },
      ]);
      await p.close();
      const recs = await t.readToEnd(topic('compact'));
      const latest = new Map<string, string | null>();
      for (const r of recs) latest.set(r.key!.toString(), r.value ? r.value.toString() : null);
      assert.deepEqual(Object.fromEntries(latest), { r1: 'v2', r2: null });
    });

    test('offsetsForTimes finds the first record at or after a time; readToEnd reads from an offset', async () => {
      const base = Date.now() - 3_600_000;
      const p = await t.producer();
      // Partition 0: ten records a minute apart; partition 1: two old records.
      await p.send(Array.from({ length: 10 }, (_, i) => ({ topic: topic('times'), partition: 0, key: `k${i}`, value: Buffer.from(String(i)), timestamp: base + i * 60_000 })));
      await p.send([0, 1].map((i) => ({ topic: topic('times'), partition: 1, key: `o${i}`, value: Buffer.from(`o${i}`), timestamp: base - 86_400_000 + i })));
      await p.close();
      const at = await t.offsetsForTimes(topic('times'), base + 4 * 60_000);
      assert.equal(at.get(0), '4', 'exactly at a record: that record');
      assert.equal(at.get(1), '2', 'no record that recent: the end');
      assert.equal((await t.offsetsForTimes(topic('times'), base + 4 * 60_000 + 1, [0])).get(0), '5', 'between records: the next one');
      const only0 = await t.offsetsForTimes(topic('times'), base - 2 * 86_400_000, [0]);
      assert.deepEqual([...only0.entries()], [[0, '0']], 'older than every record: the first; only the partitions asked for');
      // From offset 4 up to (not including) 8 on partition 0; partition 1 from its start.
      const recs = await t.readToEnd(topic('times'), [0, 1], undefined, new Map([[0, '8']]), new Map([[0, at.get(0)!]]));
      assert.deepEqual(recs.filter((r) => r.partition === 0).map((r) => r.value!.toString()), ['4', '5', '6', '7']);
      assert.deepEqual(recs.filter((r) => r.partition === 1).map((r) => r.value!.toString()), ['o0', 'o1']);
      assert.equal(recs.find((r) => r.partition === 0)!.timestamp, base + 4 * 60_000, 'the record keeps its timestamp');
      // Starting at the end reads nothing (and returns at once).
      assert.deepEqual(await t.readToEnd(topic('times'), [1], undefined, undefined, new Map([[1, '2']])), []);
    });
  });
}

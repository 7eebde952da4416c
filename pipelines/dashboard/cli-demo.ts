/**
 * `panoptes dashboard --demo`: something to look at without a broker. It runs, in this process,
 * the real detector (base detector + demo-rules.yaml), the real incident correlator and the real
 * RCA consumer over a small synthetic shop (frontend → checkout → payments → db) whose database
 * connection pool saturates every `faultEveryMs`, and publishes the shop's causal graph. What is
 * synthetic: the metric samples (seeded, one per second per series, ten minutes backfilled) and
 * the inference results (a steady load on a model named `demo-scorer` that misses more deadlines
 * during a fault), since a demo should not need ONNX models or a load generator.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../core/random.ts';
import type { InferenceResult, MetricBatch } from '../core/records.ts';
import type { Runtime } from '../core/runtime.ts';
import { topicName } from '../core/topics.ts';
import { fingerprintOf } from '../core/series-key.ts';
import { loadRules, toRuleRecord } from '../detect/index.ts';
import { DEMO_GRAPH, SHOP, intensity, type DemoOptions } from './demo/shop.ts';

export { DEMO_GRAPH, type DemoOptions } from './demo/shop.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

export async function startDemo(rt: Runtime, o: DemoOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = rt.config.topicPrefix;
  const everyS = Math.round((o.faultEveryMs ?? 180_000) / 1000);
  const lengthS = Math.round((o.faultLengthMs ?? 25_000) / 1000);
  const backfillS = o.backfillS ?? 600;
  const rnd = mulberry32(o.seed ?? 7);
  const producer = await rt.transport.producer();
  const t = (k: Parameters<typeof topicName>[0]) => topicName(k, prefix);

  const rules = await loadRules(join(HERE, 'demo-rules.yaml'));
  // Each rule watches the signal it was written for.
  const selectors: Record<string, Record<string, string>> = { 'latency-surge': { signal: 'latency' }, 'pool-saturation': { signal: 'connections' } };
  await producer.send(rules.map((r) => ({ topic: t('rules'), key: r.spec.id, value: rt.serde.encode(t('rules'), toRuleRecord(r, { source: 'demo', selector: selectors[r.spec.id] ?? {} })) })));
  await producer.send([{ topic: t('causalGraphs'), key: DEMO_GRAPH.name, value: rt.serde.encode(t('causalGraphs'), DEMO_GRAPH) }]);

  // The real stages, loaded on use (the dashboard alone needs none of them).
  const { startDetector } = await import('../detect/index.ts');
  const { startIncidentCorrelator } = await import('../incidents/index.ts');
  const { startRcaConsumer } = await import('../rca/index.ts');
  const stages: { name: string; stop(): Promise<void> }[] = [];
  stages.push({ name: 'detect', ...(await startDetector(rt, { groupId: 'panoptes-demo-detect', instanceId: 'demo', base: 'robust-z' })) });
  stages.push({ name: 'incidents', ...(await startIncidentCorrelator(rt, { groupId: 'panoptes-demo-incidents', instanceId: 'demo', correlator: { windowMs: 60_000, quietMs: 20_000 } })) });
  stages.push({ name: 'rca', ...(await startRcaConsumer(rt, { groupId: 'panoptes-demo-rca', instanceId: 'demo', debounceMs: 3000 })) });

  const labels = SHOP.map((s) => ({ __name__: s.name, component: s.component, signal: s.signal }));
  const fps = labels.map(fingerprintOf);
  const start = Math.floor(Date.now() / 1000) - backfillS;
  // One fault lies in the backfilled past (so the page opens on an incident already explained),
  // the next begins `everyS` later, and so on.
  const firstFault = start + backfillS - Math.min(250, Math.floor(backfillS / 2));
  const sample = (k: number, sec: number): number => {
    const s = SHOP[k];
    const since = sec - s.lagS - firstFault;
    const f = since < 0 ? 0 : intensity(since % everyS, lengthS);
    return Math.max(0, s.base + s.noise * (rnd() * 2 - 1) + s.base * 0.05 * Math.sin(sec / 40) + s.fault * f);
  };
  const batches = (from: number, to: number): MetricBatch[] =>
    SHOP.map((_, k) => ({
      fingerprint: fps[k],
      labels: labels[k],
      samples: Array.from({ length: to - from }, (_, i) => ({ timestampMs: (from + i) * 1000, value: sample(k, from + i), stale: false })),
      source: 'demo',
      receivedAtMs: Date.now(),
      exemplarsDropped: 0,
      histogramsDropped: 0,
    }));
  const send = (bs: MetricBatch[]) => producer.send(bs.map((b) => ({ topic: t('metrics'), key: b.fingerprint, value: rt.serde.encode(t('metrics'), b) })));
  for (let from = start; from < start + backfillS; from += 60) await send(batches(from, Math.min(from + 60, start + backfillS)));
  // Faults recur every everyS from firstFault, so the backfill can hold more than one.
  const now = start + backfillS;
  const pastFaults = Math.floor((now - 1 - firstFault) / everyS) + 1;
  const nextIn = firstFault + pastFaults * everyS - now;
  o.log(`demo: ${SHOP.length} series backfilled (${backfillS} s, ${pastFaults} fault${pastFaults === 1 ? '' : 's'} in it); a fault every ${everyS} s for ${lengthS} s, next in ${nextIn} s`);

  let next = start + backfillS;
  let reqId = 0;
  const tick = async () => {
    const now = Math.floor(Date.now() / 1000);
    if (now < next) return;
    await send(batches(next, now + 1));
    // 40 requests a second with a 50 ms deadline; when the fault is on, the model host shares the
    // database's trouble and more requests are late or refused.
    const f = now < firstFault ? 0 : intensity((now - firstFault) % everyS, lengthS);
    const results: InferenceResult[] = [];
    for (let i = 0; i < 40 * (now + 1 - next); i++) {
      const x = rnd();
      const status = x < 0.3 * f ? 'rejected' : x < 0.02 + 0.5 * f ? 'late' : 'ok';
      const total = status === 'late' ? 55 + 40 * rnd() : 8 + 20 * rnd() + 20 * f;
      results.push({ requestId: `demo-${reqId++}`, model: 'demo-scorer', status, outputs: [], error: null, queueMs: total * 0.3, batchWaitMs: 2, execMs: total * 0.6, totalMs: status === 'rejected' ? 0 : total, batchSize: 8 });
    }
    await producer.send(results.map((r) => ({ topic: t('inferenceResults'), key: r.requestId, value: rt.serde.encode(t('inferenceResults'), r) })));
    next = now + 1;
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy || o.signal.aborted) return;
    busy = true;
    tick()
      .catch((err: unknown) => o.log(`demo: producing failed: ${(err as Error).message}`))
      .finally(() => (busy = false));
  }, 250);

  return {
    async stop() {
      clearInterval(timer);
      for (const s of stages.reverse()) await s.stop().catch((err: unknown) => o.log(`demo: stopping ${s.name} failed: ${(err as Error).message}`));
      await producer.close();
    },
  };
}

/**
 * The lab's Prometheus end to end: Debian's prometheus scrapes the lab app, evaluates the lab:<signal>
 * recording rules and remote-writes ONLY those series into the real Panoptes receiver
 * (connectors/remote-write, in process, on the embedded transport: Avro records on the metrics
 * topic). A fault's effect (geo failing) arrives there as lab:errors{component="geo"}.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RemoteWriteReceiver, TopicSink } from '../../../connectors/remote-write/index.ts';
import { createRuntime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { MetricBatch } from '../../../pipelines/core/records.ts';
import { embeddedConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { TEST_STATE_FILE, runDir } from './helpers.ts';

process.env.PANOPTES_LAB_STATE = TEST_STATE_FILE;
const { startApp } = await import('../../../pipelines/lab/app/index.ts');
const { startPrometheus } = await import('../../../pipelines/lab/prometheus/index.ts');
const { runWorkload } = await import('../../../pipelines/lab/workload/index.ts');
const { injectorFor, activeFaults, cleanupLeftovers } = await import('../../../pipelines/lab/faults/index.ts');
const { LAB_SIGNALS, RESOURCE_SIGNALS } = await import('../../../pipelines/lab/types.ts');

const cleanups: Array<() => Promise<unknown>> = [];
let runId = 'none';
after(async () => {
  for (const c of cleanups.reverse()) await c().catch((e) => console.error(e));
  assert.deepEqual(activeFaults(runId), []);
});

test('Prometheus remote-writes the lab:<signal> series (and only those) into the receiver; a fault shows in them', { timeout: 85_000 }, async () => {
  await cleanupLeftovers(); // runs of test processes that died, holding our ports
  const prefix = uniquePrefix('lab-prom');
  const rt = await createRuntime(embeddedConfig(prefix), { stage: 'lab-test' });
  cleanups.push(() => rt.close());
  const topic = topicName('metrics', prefix);
  const registry = new Registry();
  const sink = new TopicSink({ producer: await rt.transport.producer(), serde: rt.serde, topic, registry });
  const receiver = new RemoteWriteReceiver({ listen: '127.0.0.1:0' }, { sink, registry });
  const rwUrl = `${await receiver.start()}/api/v1/write`;
  cleanups.push(() => receiver.close());

  const app = await startApp({ runDir: runDir('prom'), basePort: 18700, seed: 9 });
  runId = app.runId;
  cleanups.push(() => app.stop());
  const prom = await startPrometheus({ runDir: app.runDir, port: 18790, targets: app.scrapeTargets(), remoteWriteUrl: rwUrl, scrapeIntervalS: 1 });
  cleanups.push(() => prom.stop());
  await prom.ready(40_000);

  const ctrl = new AbortController();
  cleanups.push(async () => ctrl.abort());
  const load = runWorkload(app, { shape: 'poisson', rps: 15, durationMs: 60_000, seed: 4 }, ctrl.signal);

  const read = async (): Promise<MetricBatch[]> => {
    const out: MetricBatch[] = [];
    for (const r of await rt.transport.readToEnd(topic)) out.push((await rt.serde.decode<MetricBatch>(topic, r.value!)).value);
    return out;
  };
  const expected = [
    ...app.services().flatMap((s) => LAB_SIGNALS.map((sig) => `${s.name}:${sig}`)),
    ...['postgres', 'redis'].flatMap((r) => RESOURCE_SIGNALS.map((sig) => `${r}:${sig}`)),
  ];
  const seen = (batches: MetricBatch[]) => new Set(batches.map((b) => `${b.labels.component}:${b.labels.signal}`));
  const batches = await waitFor(async () => {
    const b = await read();
    const s = seen(b);
    return expected.every((e) => s.has(e)) ? b : undefined;
  }, `all ${expected.length} lab series at the receiver`, 40_000, 500);

  // Only recorded series leave Prometheus, with exactly the contract's labels.
  for (const b of batches) {
    assert.match(b.labels.__name__!, /^lab:/);
    assert.deepEqual(Object.keys(b.labels).sort(), ['__name__', 'component', 'signal']);
    assert.equal(b.labels.__name__, `lab:${b.labels.signal}`);
  }
  assert.equal(seen(batches).size, expected.length, 'no unexpected component:signal');
  const up = batches.filter((b) => b.labels.__name__ === 'lab:up').flatMap((b) => b.samples.filter((s) => !s.stale).map((s) => s.value));
  assert.ok(up.length > 0 && up.every((v) => v === 1));

  // The query helpers see the same series.
  assert.equal((await prom.query('lab:up')).length, 9);
  const range = await waitFor(async () => {
    const now = Date.now();
    const r = await prom.queryRange('lab:traffic{component="frontend"}', now - 10_000, now, 1);
    return r.length === 1 && r[0]!.points.length >= 3 && r[0]!.points.some(([, v]) => v > 0) ? r : undefined;
  }, 'frontend traffic in a range query', 15_000, 500);
  assert.ok(range[0]!.points.every(([t]) => t > Date.now() - 15_000));

  // A fault's effect arrives at the receiver as the recorded signal.
  const spec = { kind: 'errors' as const, target: 'geo' as const, params: { errorRate: 1 } };
  await injectorFor('errors').inject(app, spec);
  const since = Date.now();
  try {
    await waitFor(async () => {
      const b = await read();
      return b.some((x) => x.labels.__name__ === 'lab:errors' && x.labels.component === 'geo' && x.samples.some((s) => s.timestampMs > since && s.value > 0.3));
    }, 'lab:errors{component="geo"} > 0.3 at the receiver', 30_000, 500);
    // The caller's errors follow (search only forwards geo's failures).
    await waitFor(async () => ((await prom.query('lab:errors{component="search"}'))[0]?.value ?? 0) > 0.3, 'lab:errors{component="search"} > 0.3', 20_000, 500);
  } finally {
    await injectorFor('errors').recover(app, spec);
  }
  ctrl.abort();
  const stats = await load;
  assert.ok(stats.sent > 0);
});

/**
 * `panoptes run --config FILE` on real Kafka, as an operator runs it: one child process with
 * ingest, detect and incidents from one pipeline file. A series written over remote-write with a
 * spike comes out as anomalies and an incident; /readyz and /metrics of the process cover every
 * stage; SIGTERM stops it with exit 0. A fresh topic prefix (and so fresh groups) per run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anomaly, Incident } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { groupName, topicName } from '../../../pipelines/core/topics.ts';
import { BROKER, ensureInfra, kafkaConfig, REGISTRY, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { metricSum, startStage, type StageProcess } from '../../helpers/stage-process.ts';
import { body, post, series } from '../../unit/remote-write/helpers.ts';

const prefix = uniquePrefix('run');
const dir = mkdtempSync(join(tmpdir(), 'panoptes-run-'));
const file = join(dir, 'pipeline.yaml');
let proc: StageProcess | null = null;
let rt: Runtime | null = null;

before(() => {
  ensureInfra();
  writeFileSync(
    file,
    `brokers: [${BROKER}]
registryUrl: ${REGISTRY}
topicPrefix: ${prefix}
logLevel: warn
connectTimeoutMs: 15000
stages:
  ingest:
    listen: 127.0.0.1:0
  detect:
    base: robust-z
    window: 30
    threshold: 6
    group: run-test-detect
  incidents:
    groupId: run-test-incidents
    quietMs: 600000
`,
  );
});

after(async () => {
  await proc?.kill();
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function read<T>(key: 'anomalies' | 'incidents'): Promise<T[]> {
  const topic = topicName(key, prefix);
  const out: T[] = [];
  for (const r of await rt!.transport.readToEnd(topic)) if (r.value) out.push((await rt!.serde.decode<T>(topic, r.value)).value);
  return out;
}

test('ingest + detect + incidents in one process: a spike written over remote-write becomes anomalies and an incident; SIGTERM exits 0', { timeout: 120_000 }, async () => {
  proc = await startStage('run', ['run', '--config', file, '--instance', 'it'], {});
  const [, url] = await proc.waitLine(/^ingest: remote-write on (\S+)$/, 60_000);
  await proc.waitLine(/^pipeline running on kafka \(prefix .*\): ingest, detect, incidents;/, 60_000);

  // Every consumer stage has its partitions (the process's /readyz covers them all).
  await waitFor(async () => (await fetch(`${proc!.metricsUrl}/readyz`)).status === 200, 'the pipeline ready', 60_000, 250);

  // 60 steady samples 15 s apart, then a spike of 3 samples (one request each, as Prometheus batches).
  const t0 = Date.now() - 70 * 15_000;
  const labels = { __name__: 'http_latency_seconds', component: 'checkout', job: 'shop' };
  const steady: [number, number][] = Array.from({ length: 60 }, (_, i) => [t0 + i * 15_000, 0.2 + 0.01 * ((i * 7) % 5)]);
  const spike: [number, number][] = [0, 1, 2].map((i) => [t0 + (60 + i) * 15_000, 5]);
  for (const samples of [steady, spike]) {
    const r = await post(url!, body([series(labels, samples)]));
    assert.equal(r.status, 204, r.body);
  }

  rt = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
  const anomalies = await waitFor(async () => {
    const a = (await read<Anomaly>('anomalies')).filter((x) => x.labels.component === 'checkout');
    return a.length > 0 ? a : null;
  }, 'anomalies of the spike on the anomalies topic', 45_000, 500);
  assert.ok(anomalies.every((a) => a.timestampMs >= spike[0]![0]), `only the spike is anomalous: ${anomalies.map((a) => a.timestampMs - t0).join(', ')}`);
  const incidents = await waitFor(async () => {
    const i = await read<Incident>('incidents');
    return i.length > 0 ? i : null;
  }, 'an incident record', 45_000, 500);
  assert.equal(incidents[0]!.status, 'OPEN');

  // The groups are the file's (prefixed), not random: copies elsewhere join the same ones.
  const committed = await rt.transport.committed(groupName('run-test-detect', prefix), topicName('metrics', prefix));
  assert.ok([...committed.values()].some((o) => Number(o) > 0), 'the detector committed in the group the file names');

  // One /metrics for every stage of the process, one set of metrics each (no double registration).
  const text = await proc.metrics();
  assert.ok(metricSum(text, 'panoptes_stage_records_total', { stage: 'detect', outcome: 'processed' }) >= 2);
  assert.ok(metricSum(text, 'panoptes_stage_records_total', { stage: 'incidents', outcome: 'processed' }) >= 1);
  assert.ok(metricSum(text, 'panoptes_remote_write_records_produced_total') >= 2);

  assert.equal(await proc.stop(), 0, proc.tail());
});

test('a stage that fails to start stops the others: one line naming it, exit 1', { timeout: 90_000 }, async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  const bad = join(dir, 'taken.yaml');
  writeFileSync(bad, `brokers: [${BROKER}]\nregistryUrl: ${REGISTRY}\ntopicPrefix: ${prefix}\nlogLevel: warn\nstages:\n  detect: { group: run-test-detect-2 }\n  ingest: { listen: 127.0.0.1:${port} }\n`);
  try {
    const p = await startStage('run-taken', ['run', '--config', bad, '--instance', 'it2'], {}, false);
    // ingest starts last (every consumer first), so detect had started and is stopped again.
    assert.equal(await p.exited, 1, p.tail());
    const errors = p.lines.filter((l) => l.startsWith('panoptes run:'));
    assert.equal(errors.length, 1, p.tail());
    assert.match(errors[0]!, /^panoptes run: stage ingest failed to start: .*EADDRINUSE/);
  } finally {
    taken.close();
  }
});

/**
 * The online commands on real Kafka, in-process: `graph publish` (a bad file publishes nothing),
 * then `incidents run` and `rca run` on the synthetic fault of pipeline-scenario.ts until aborted,
 * with the stage metrics on /metrics (ports 18101, 18102).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliCommand, CliIo } from '../../../pipelines/core/cli-types.ts';
import { InputError } from '../../../pipelines/core/errors.ts';
import type { CausalGraphRecord, Incident, RcaResult } from '../../../pipelines/core/records.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import { commands as incidentCommands } from '../../../pipelines/incidents/cli.ts';
import { commands as rcaCommands } from '../../../pipelines/rca/cli.ts';
import { BROKER, ensureInfra, kafkaConfig, REGISTRY, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { BAD, batches, FAULT, faultAnomalies, GOOD, series } from '../../unit/rca/pipeline-scenario.ts';

const prefix = uniquePrefix('rca-cli');
const saved = { ...process.env };
let rt: Runtime;
const dir = mkdtempSync(join(tmpdir(), 'rca-cli-online-'));

function cmd(list: CliCommand[], name: string): CliCommand {
  const c = list.find((x) => x.name === name);
  assert.ok(c, name);
  return c;
}

function io(signal: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json: true, signal };
  return { io: x, out, err };
}

async function send(topic: string, recs: { key: string; value: unknown }[]): Promise<void> {
  const p = await rt.transport.producer();
  for (let i = 0; i < recs.length; i += 200) await p.send(recs.slice(i, i + 200).map((r) => ({ topic, key: r.key, value: rt.serde.encode(topic, r.value) })));
  await p.close();
}

before(async () => {
  ensureInfra();
  Object.assign(process.env, { PANOPTES_TRANSPORT: 'kafka', PANOPTES_BROKERS: BROKER, PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'silent' });
  rt = await createRuntime(kafkaConfig(prefix), { stage: 'test' });
});

after(async () => {
  process.env = saved;
  await rt?.close().catch(() => undefined);
});

test('graph publish: a valid graph goes on causal-graphs, a bad one is refused with the reason', async () => {
  const good = join(dir, 'good.json');
  const bad = join(dir, 'bad.json');
  writeFileSync(good, JSON.stringify(GOOD));
  writeFileSync(bad, JSON.stringify(BAD));
  const publish = cmd(rcaCommands, 'graph publish');
  const ok = io(new AbortController().signal);
  assert.equal(await publish.run({ options: { graph: good }, positionals: [] }, ok.io), 0);
  assert.equal(JSON.parse(ok.out[0]!).version, GOOD.version);
  await assert.rejects(publish.run({ options: { graph: bad }, positionals: [] }, io(new AbortController().signal).io), (e: unknown) => e instanceof InputError && /unknown node nowhere:latency/.test(e.message));
  const topic = topicName('causalGraphs', prefix);
  const recs = await rt.transport.readToEnd(topic);
  assert.equal(recs.length, 1, 'only the good graph is on the topic');
  assert.equal((await rt.serde.decode<CausalGraphRecord>(topic, recs[0]!.value)).value.version, GOOD.version);
});

test('incidents run and rca run: incident records and an rca naming the root, metrics served, clean stop', async () => {
  await send(topicName('metrics', prefix), batches(series()).map((b) => ({ key: b.fingerprint, value: b })));
  await send(topicName('anomalies', prefix), faultAnomalies().map((a) => ({ key: 'lab', value: a })));
  const stopInc = new AbortController();
  const stopRca = new AbortController();
  const inc = io(stopInc.signal);
  const rca = io(stopRca.signal);
  process.env.PANOPTES_METRICS_LISTEN = '127.0.0.1:18101';
  const incRun = cmd(incidentCommands, 'incidents run').run({ options: { instance: 'cli', 'quiet-ms': 3000, 'window-ms': 10000, 'tick-ms': 200 }, positionals: [] }, inc.io);
  await waitFor(() => inc.err.some((l) => l.includes('running')), 'incidents run started', 30_000);
  process.env.PANOPTES_METRICS_LISTEN = '127.0.0.1:18102';
  const rcaRun = cmd(rcaCommands, 'rca run').run({ options: { instance: 'cli', 'debounce-ms': 300 }, positionals: [] }, rca.io);
  try {
    await waitFor(() => rca.err.some((l) => l.includes('running')), 'rca run started', 30_000);
    const incidents = () => inc.out.map((l) => JSON.parse(l) as Incident);
    await waitFor(() => incidents().some((i) => i.components.includes('geo') && i.status === 'RESOLVED'), 'the geo incident resolved', 30_000);
    const geoId = incidents().find((i) => i.components.includes('geo'))!.id;
    const results = () => rca.out.map((l) => JSON.parse(l) as RcaResult).filter((r) => r.incidentId === geoId);
    await waitFor(() => results().length > 0, 'rca of the geo incident', 20_000);
    assert.equal(results().at(-1)!.causes[0]?.node, 'geo:cpu');
    assert.equal(incidents().find((i) => i.id === geoId)!.openedAtMs, FAULT.from);

    const incMetrics = await (await fetch('http://127.0.0.1:18101/metrics')).text();
    assert.match(incMetrics, /panoptes_transport_consumed_records_total\{[^}]*topic="[^"]*anomalies"/);
    assert.match(incMetrics, /panoptes_transport_produced_records_total\{[^}]*topic="[^"]*incidents"/);
    assert.match(incMetrics, /panoptes_transport_consumer_lag_records\{[^}]*anomalies/);
    assert.match(incMetrics, /panoptes_incidents_records_total\{[^}]*status="RESOLVED"/);
    assert.match(incMetrics, /panoptes_incidents_end_to_end_seconds_count/);
    const rcaMetrics = await (await fetch('http://127.0.0.1:18102/metrics')).text();
    assert.match(rcaMetrics, /panoptes_transport_produced_records_total\{[^}]*topic="[^"]*rca"/);
    assert.match(rcaMetrics, /panoptes_transport_consumed_records_total\{[^}]*topic="[^"]*metrics"/);
    assert.match(rcaMetrics, /panoptes_rca_analyses_total\{[^}]*outcome="ranked"/);
    assert.match(rcaMetrics, /panoptes_rca_analysis_duration_seconds_count/);
    assert.match(rcaMetrics, /panoptes_rca_window_nodes\{[^}]*\} 6/);
    // Readiness: each command's /readyz says ready once its consumer is assigned (rca: and its metrics tail caught up).
    assert.match(rcaMetrics, /panoptes_stage_ready\{stage="rca"\} 1/);
    for (const [port, stage] of [[18101, 'incidents'], [18102, 'rca']] as const) {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await r.json()) as { status: string; stage: string };
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.deepEqual([body.status, body.stage], ['ready', stage]);
    }
  } finally {
    stopRca.abort();
    stopInc.abort();
    assert.equal(await rcaRun, 0);
    assert.equal(await incRun, 0);
  }
});

/**
 * `panoptes dashboard --demo` on the embedded transport (no broker): the real detector, incident
 * correlator and RCA consumer run in the dashboard's process over the synthetic shop, and the
 * dashboard shows their output: series, anomalies from the demo rules, an incident with ranked
 * root causes on the demo graph, inference figures. SIGTERM stops it cleanly (exit 0).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT, childEnv, waitFor } from '../../helpers/infra.ts';

const PORT = 18511;
const BASE = `http://127.0.0.1:${PORT}`;

test('--demo runs the pipeline in-process on the embedded transport and the dashboard shows it', async () => {
  const env = childEnv({ PANOPTES_TRANSPORT: 'embedded', PANOPTES_LOG_LEVEL: 'warn' });
  delete env.PANOPTES_BROKERS;
  delete env.PANOPTES_REGISTRY_URL;
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'dashboard', '--demo', '--listen', `127.0.0.1:${PORT}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => log.includes('dashboard on http://') || child.exitCode !== null, 'the dashboard to listen', 30_000);
    assert.equal(child.exitCode, null, log);
    assert.match(log, /embedded transport/);
    type Summary = { series: number; anomalies: number; rules: number; graphs: number; inference: { total: number } };
    const s = await waitFor(async () => {
      const x = (await (await fetch(`${BASE}/api/summary`)).json()) as Summary;
      return x.series === 4 && x.anomalies > 0 && x.rules === 2 && x.graphs === 1 && x.inference.total > 0 ? x : null;
    }, 'series, anomalies, rules, graph and inference results on the dashboard', 30_000);
    assert.equal(s.series, 4);
    const anomalies = (await (await fetch(`${BASE}/api/anomalies?limit=200`)).json()) as { ruleId: string | null; labels: Record<string, string> }[];
    // The demo rules fire, each on the signal its selector names.
    assert.ok(anomalies.some((a) => a.ruleId === 'latency-surge'), 'latency-surge fired');
    for (const a of anomalies) if (a.ruleId === 'pool-saturation') assert.equal(a.labels.signal, 'connections');
    for (const a of anomalies) if (a.ruleId === 'latency-surge') assert.equal(a.labels.signal, 'latency');
    const inc = await waitFor(async () => {
      const list = (await (await fetch(`${BASE}/api/incidents`)).json()) as { id: string; components: string[]; rca: { causes: { node: string }[] } | null }[];
      return list.find((i) => i.rca && i.rca.causes.length > 0) ?? null;
    }, 'an incident with ranked root causes', 30_000);
    assert.ok(inc.components.includes('db'), `incident components: ${inc.components.join(', ')}`);
    const svg = await fetch(`${BASE}/api/incidents/${encodeURIComponent(inc.id)}/graph.svg`);
    assert.equal(svg.status, 200);
    assert.match(await svg.text(), /db:connections/);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 15_000)))]);
  clearTimeout(timer);
  if (code === 'hung') child.kill('SIGKILL');
  assert.equal(code, 0, `exit code after SIGTERM; log:\n${log.slice(-2000)}`);
});

test('--demo refuses to write into a real cluster\'s unprefixed topics', async () => {
  const env = childEnv({ PANOPTES_BROKERS: '127.0.0.1:9092', PANOPTES_TOPIC_PREFIX: '' });
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'dashboard', '--demo', '--listen', `127.0.0.1:${PORT}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /--demo writes synthetic records to the topics: on Kafka it needs a topic prefix/);
});

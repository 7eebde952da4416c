/**
 * The dashboard in a real browser over real Kafka: `panoptes dashboard` runs as a child process
 * on a unique topic prefix; Debian's chromium (headless, driven by playwright-core) loads the page,
 * which must show the series with its anomalies and explanations, the rule with its training
 * score, the incident with its causal graph and root causes, and the inference figures, and must
 * update when a new anomaly is produced. Every request the page makes must stay on the dashboard's
 * own origin. A screenshot goes to reports/dashboard/ (DASHBOARD_SCREENSHOT=FILE writes another).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { Producer } from '../../../pipelines/core/transport/types.ts';
import { BROKER, REGISTRY, ROOT, childEnv, ensureInfra, kafkaConfig, uniquePrefix, waitFor } from '../../helpers/infra.ts';
import { FINGERPRINT, GRAPH, RCA, RULE, anomaly, incident, inferenceResults, metricBatches } from './seed.ts';

const PORT = 18510;
const URL_BASE = `http://127.0.0.1:${PORT}`;
const OUT = join(ROOT, 'reports', 'dashboard');
const START = Date.now() - 180 * 60_000;
const SPIKES = [95, 96, 150];

let rt: Runtime;
let producer: Producer;
let child: ChildProcess;
let childLog = '';
let ctx: BrowserContext;
let profile: string;
const offOrigin: string[] = [];

async function produce(key: Parameters<typeof topicName>[0], records: { key: string; value: unknown }[]): Promise<void> {
  const topic = topicName(key, rt.config.topicPrefix);
  await producer.send(records.map((r) => ({ topic, key: r.key, value: rt.serde.encode(topic, r.value) })));
}

before(async () => {
  ensureInfra();
  const prefix = uniquePrefix('dashboard');
  rt = await createRuntime(kafkaConfig(prefix), { stage: 'dashboard-test' });
  producer = await rt.transport.producer();

  // Everything but the last spike's anomaly is on the topics before the dashboard starts: the
  // view is rebuilt from them; the last one arrives live.
  await produce('rules', [{ key: RULE.id, value: RULE }]);
  await produce('causalGraphs', [{ key: GRAPH.name, value: GRAPH }]);
  await produce('metrics', metricBatches(START, 180, SPIKES).map((b) => ({ key: b.fingerprint, value: b })));
  const first = SPIKES.slice(0, 2).map((i) => anomaly(START, i, 0.67));
  await produce('anomalies', first.map((a) => ({ key: a.fingerprint, value: a })));
  const inc = incident(first.map((a) => a.id), START + SPIKES[0] * 60_000);
  await produce('incidents', [{ key: inc.id, value: inc }]);
  await produce('rca', [{ key: RCA.incidentId, value: RCA }]);
  await produce('inferenceResults', inferenceResults(400).map((r) => ({ key: r.requestId, value: r })));

  child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'dashboard', '--listen', `127.0.0.1:${PORT}`], {
    cwd: ROOT,
    env: childEnv({ PANOPTES_BROKERS: BROKER, PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (childLog += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (childLog += d.toString()));
  await waitFor(() => childLog.includes('dashboard on http://') || child.exitCode !== null, 'the dashboard to listen', 30_000);
  assert.equal(child.exitCode, null, `panoptes dashboard exited:\n${childLog}`);

  profile = mkdtempSync(join(tmpdir(), 'panoptes-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1800 },
  });
  // The page must need nothing but the dashboard: anything else is recorded and refused.
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(URL_BASE) || u.startsWith('data:')) return route.continue();
    offOrigin.push(u);
    return route.abort();
  });
});

after(async () => {
  await ctx?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await producer?.close();
  await rt?.close();
});

async function markIds(page: Page): Promise<string[]> {
  return page.$$eval('#chart [data-anomaly-id]', (els) => els.map((e) => e.getAttribute('data-anomaly-id') ?? ''));
}

test('the page shows the series with its anomalies, rules, incident and inference, and updates live', async (t) => {
  // The view has caught up with the topics before the browser looks.
  await waitFor(async () => {
    const s = (await (await fetch(`${URL_BASE}/api/summary`)).json()) as { series: number; anomalies: number; rules: number; incidents: number; graphs: number };
    return s.series === 1 && s.anomalies === 2 && s.rules === 1 && s.incidents === 1 && s.graphs === 1;
  }, 'the dashboard to read the seeded topics', 30_000);

  const page = await ctx.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
  await page.goto(URL_BASE);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  await page.waitForSelector('#status[data-state="live"]', { timeout: 15_000 });

  // Series with its anomaly overlay and the selected anomaly's explanation.
  assert.match((await page.textContent('#chart-title')) ?? '', /http_request_duration_seconds\{quantile="0.99", service="checkout"\}/);
  assert.equal(await page.locator('#chart svg path.line').count(), 1);
  const first = await markIds(page);
  assert.deepEqual(first.sort(), SPIKES.slice(0, 2).map((i) => anomaly(START, i, 0).id).sort());
  const explain = (await page.textContent('#explain')) ?? '';
  assert.match(explain, /latency-spike @ 3f9a1c2b7d4e5a60/);
  assert.match(explain, /mean\(60m\) \+ 4 \* std\(60m\)/);
  assert.match(explain, /0\.171/);

  // Rule with its training score; incident with ranked causes and the causal graph, causes marked.
  assert.match((await page.textContent('#rules-table tbody')) ?? '', /latency-spike[\s\S]*0\.912/);
  await page.waitForSelector('#graph svg', { timeout: 10_000 });
  const causes = await page.$$eval('#causes > li', (els) => els.map((e) => e.getAttribute('data-node')));
  assert.deepEqual(causes, ['db:connections', 'checkout:cpu']);
  assert.equal(await page.locator('#graph svg g.root-cause').count(), 2);
  assert.match((await page.textContent('#incident-list')) ?? '', /checkout p99 latency spike/);

  // Inference: 400 results, 20 late and 16 rejected (seed.ts) → attainment 364/384 of those that ran.
  await waitFor(async () => /94\.8 %/.test((await page.textContent('#inference-figures')) ?? ''), 'SLO attainment 94.8 % on the page', 10_000);

  // A new anomaly (and the samples around it) arrives: marker, table row, counts update without a reload.
  const fresh = anomaly(START, SPIKES[2], 0.69);
  await produce('metrics', metricBatches(START + 180 * 60_000, 10, []).map((b) => ({ key: b.fingerprint, value: b })));
  const sentAt = performance.now();
  await produce('anomalies', [{ key: fresh.fingerprint, value: fresh }]);
  await page.waitForSelector(`#chart [data-anomaly-id="${fresh.id}"]`, { timeout: 15_000 });
  // A figure, not a pass/fail condition: acknowledged produce → Kafka → dashboard → SSE → browser DOM.
  t.diagnostic(`new anomaly on the page ${(performance.now() - sentAt).toFixed(0)} ms after its produce call began`);
  await page.waitForSelector(`#recent-anomalies tr[data-anomaly-id="${fresh.id}"]`, { timeout: 5_000 });
  assert.equal((await markIds(page)).length, 3);
  // The ten new samples reached the chart's line too (180 + 10 points).
  await waitFor(async () => ((await page.getAttribute('#chart svg path.line', 'd')) ?? '').split(/[ML]/).length - 1 === 190, 'the new samples on the chart', 5_000);
  assert.equal(await page.textContent('#counts [data-count="anomalies"]'), '3');
  assert.match((await page.textContent('#announce')) ?? '', /New critical anomaly/);

  // Selecting the new marker explains it.
  await page.click(`#chart [data-anomaly-id="${fresh.id}"]`);
  await waitFor(async () => /value 0\.69/.test((await page.textContent('#explain')) ?? ''), 'the explanation of the new anomaly', 5_000);

  // Keyboard users reach a marker and open its explanation with Enter.
  const older = anomaly(START, SPIKES[0], 0.67);
  await page.focus(`#chart [data-anomaly-id="${older.id}"]`);
  await page.keyboard.press('Enter');
  await waitFor(async () => ((await page.textContent('#explain')) ?? '').includes(`Anomaly at ${new Date(older.timestampMs).toISOString().slice(0, 10)} ${new Date(older.timestampMs).toISOString().slice(11, 19)} UTC`), 'the explanation opened from the keyboard', 5_000);
  await page.click(`#chart [data-anomaly-id="${fresh.id}"]`);
  await waitFor(async () => /value 0\.69/.test((await page.textContent('#explain')) ?? ''), 'the explanation of the new anomaly again', 5_000);

  mkdirSync(OUT, { recursive: true });
  const shot = join(OUT, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.DASHBOARD_SCREENSHOT) copyFileSync(shot, process.env.DASHBOARD_SCREENSHOT);

  assert.deepEqual(offOrigin, [], 'the page fetched something from outside the dashboard');
  assert.deepEqual(pageErrors, []);
  // The series has fingerprint FINGERPRINT in the API as well.
  const detail = (await (await fetch(`${URL_BASE}/api/series/${FINGERPRINT}`)).json()) as { anomalies: unknown[]; points: unknown[] };
  assert.equal(detail.anomalies.length, 3);
  assert.equal(detail.points.length, 190);
  await page.close();
});

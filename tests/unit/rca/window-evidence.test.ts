/**
 * The faulty component is back before the symptom peaks (issue 17, third pass; generated incidents
 * in `tests/fixtures/rca/lab-hang`, see its README). The analysed row is the target's peak, and by
 * then a frozen process has resumed or a restarted one answers again: at that row its `up` is 1
 * and its other series are missing, so it has no evidence, and the caller that turned its timeouts
 * into 5xx is named first. With `windowEvidence` a series counts with its strongest score from the
 * incident start to the analysed row, and `up` = 0 on the rows before names the component.
 *
 * 1. geo frozen with SIGSTOP for 6 s: geo:up 0 on five rows, 1 again at frontend:errors' peak;
 *    search (errors 100 %) was named first.
 * 2. profile's config points a store at a closed port and profile restarts: up 0 on two rows,
 *    then failing everything; frontend (errors 74 %) was named first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../../../pipelines/rca/eval/petshop-data.ts';
import { startRowFor, truthGraph } from '../../../pipelines/rca/eval/petshop-eval.ts';
import { rankCauses } from '../../../pipelines/rca/rca.ts';
import type { RankOptions } from '../../../pipelines/rca/rank/scores.ts';
import { windowPeaks, fitModels } from '../../../pipelines/rca/rank/scores.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/rca/lab-hang/low_traffic_s2');
const s = loadScenario(dir, 'train');
const issue = (name: string) => s.issues.find((i) => i.name === name)!;
const hangGeo = issue('issue_7');
const misconfigProfile = issue('issue_6');

function rank(i: typeof hangGeo, options: Partial<RankOptions>) {
  const graph = truthGraph(s.callGraph, i.targetMetric);
  return rankCauses({ incidentId: i.name, graph, target: `${i.targetNode}:${i.targetMetric}`, telemetry: { normal: s.normal!, failure: i.failure }, startRow: startRowFor(i.failure, i.targetTimestampMs), method: 'hybrid', options });
}

test('the fixture holds the generated incidents: geo frozen, profile misconfigured, symptom frontend:errors', () => {
  assert.equal(hangGeo.rootCause, 'geo');
  assert.equal(misconfigProfile.rootCause, 'profile');
  for (const i of [hangGeo, misconfigProfile]) assert.equal(`${i.targetNode}:${i.targetMetric}`, 'frontend:errors');
  // At the analysed row (the symptom's peak, the last row) geo answers again.
  const up = hangGeo.failure.series.get('geo:up')!;
  assert.equal(up.at(-1), 1);
  assert.ok(up.slice(0, -1).includes(0));
});

test('a frozen callee back by the symptom peak: named by its up on the rows before', () => {
  const before = rank(hangGeo, { windowEvidence: false });
  assert.equal(before.causes[0]!.component, 'search', 'the blind spot: the caller turning timeouts into 5xx is named first');
  const after = rank(hangGeo, { windowEvidence: true });
  assert.equal(after.analyzedRow, before.analyzedRow, 'the analysed row does not move');
  assert.equal(after.causes[0]!.component, 'geo');
  assert.equal(after.causes[0]!.node, 'geo:up');
  assert.deepEqual(after.causes[0]!.path, ['geo:up', 'geo:errors', 'search:errors', 'frontend:errors']);
  assert.match(after.causes[0]!.evidence.at(-1)!.detail, /root: anomalous \(strongest signal geo:up at 1000\.0 robust SDs, \d+ rows? before the analysed row; geo:\w+, .* missing at the analysed row/);
  const search = after.causes.find((c) => c.component === 'search')!;
  assert.match(search.evidence.at(-1)!.detail, /but geo upstream is comparably anomalous and explains it/);
});

test('a restarted misconfigured callee: its restart is evidence though it answers at the peak', () => {
  assert.equal(rank(misconfigProfile, { windowEvidence: false }).causes[0]!.component, 'frontend');
  const after = rank(misconfigProfile, { windowEvidence: true });
  assert.equal(after.causes[0]!.component, 'profile');
});

test('window peaks: the strongest discounted score from the start to the row, and where', () => {
  const f = hangGeo.failure;
  const models = fitModels(s.normal!, ['geo:up', 'frontend:errors']);
  const start = startRowFor(f, hangGeo.targetTimestampMs);
  const last = f.timestamps.length - 1;
  const p = windowPeaks(models, f, start, last, true, 'frontend:errors');
  const geo = p.get('geo:up')!;
  assert.equal(geo.score, 1000);
  assert.ok(geo.row >= start && geo.row < last, 'geo was down before the analysed row');
  assert.equal(f.series.get('geo:up')![geo.row], 0);
  // Rows before the start are not looked at: the window of one row is the row itself.
  const one = windowPeaks(models, f, last, last, true, 'frontend:errors');
  assert.equal(one.get('geo:up')!.score, 0);
});

test('one missed scrape is not evidence: a score counts on the window only when held on two rows', () => {
  const f = hangGeo.failure;
  const start = startRowFor(f, hangGeo.targetTimestampMs);
  const last = f.timestamps.length - 1;
  const blip = (rows: number[]) => {
    const up = f.series.get('rate:up')!.map((v, r) => (rows.includes(r) ? 0 : v));
    return { timestamps: f.timestamps, series: new Map([...f.series, ['rate:up', up]]) };
  };
  const models = fitModels(s.normal!, ['rate:up']);
  assert.equal(windowPeaks(models, blip([start + 1]), start, last, true, 'frontend:errors').get('rate:up')!.score, 0, 'one row');
  assert.equal(windowPeaks(models, blip([start + 1, start + 2]), start, last, true, 'frontend:errors').get('rate:up')!.score, 1000, 'two rows');
  assert.equal(windowPeaks(models, blip([start + 1]), start, last, true, 'frontend:errors', 1).get('rate:up')!.score, 1000, 'hold 1: the plain peak');
  // At the analysed row itself one row is enough, as without the window.
  assert.equal(windowPeaks(models, blip([last]), start, last, true, 'frontend:errors').get('rate:up')!.score, 1000);
});

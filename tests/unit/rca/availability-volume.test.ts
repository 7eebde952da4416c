/**
 * The availability blind spot that PetShop showed (issue 17), on incidents generated from the lab
 * (`tests/fixtures/rca/lab-errors`, see its README):
 *
 * 1. A low-volume view of a failing service. PetShop's PetSearch load balancer forwarded 24 requests
 *    and failed 2 (−8.3 points against a flat 100 %, 83 robust SDs) while PetSearch failed 21 of
 *    1013 (−2.1 points, 21 SDs): by scores the balancer was a root of its own and ranked first. The
 *    lab has no such front, so one is grafted onto the generated "search fails 50 % of requests"
 *    incident: `search-lb` forwards a quarter of search's requests to it for the frontend, and at
 *    the rows where search failed, it failed 2 of its 3 (a small sample's bad luck). Without the
 *    failed-request comparison (`countFailures: false`, the former rule) hybrid names search-lb
 *    first; with it, search, and the balancer's explanation says search failed more requests.
 * 2. A dependency called now and then. PetShop's S3 had values in 10 of 589 normal rows, and its
 *    latency against those 10 values outranked PetSearch. Grafted the same way: `images`, called by
 *    search in 11 of the 121 normal rows, is slow during the incident. With `minSupport: 0` (the
 *    former rule) it is a root and ranks first; with the default it is not evidence.
 * 3. The direction of the failed-request rule, on a generated incident as it is: user's config
 *    points PostgreSQL at a closed port, so user fails its 2 requests and PostgreSQL counts the same
 *    2 failed calls. Equal counts cannot say which is behind them: user stays first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../../../pipelines/rca/eval/petshop-data.ts';
import { startRowFor, truthGraph } from '../../../pipelines/rca/eval/petshop-eval.ts';
import { rankCauses } from '../../../pipelines/rca/rca.ts';
import type { Frame } from '../../../pipelines/rca/frame.ts';
import type { RankOptions } from '../../../pipelines/rca/rank/scores.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/rca/lab-errors/low_traffic_s1');
const s = loadScenario(dir, 'test');
const issue = (name: string) => s.issues.find((i) => i.name === name)!;
const errorsOnSearch = issue('issue_6');
const misconfigUser = issue('issue_15');

/** A copy of the frame with more series (same rows). */
function withSeries(f: Frame, extra: Record<string, number[]>): Frame {
  const series = new Map(f.series);
  for (const [k, v] of Object.entries(extra)) series.set(k, v);
  return { timestamps: f.timestamps, series };
}

function rank(normal: Frame, failure: Frame, calls: [string, string][], options: Partial<RankOptions>) {
  const g = truthGraph({ nodes: [...new Set(calls.flat())], calls }, 'errors');
  const latency = truthGraph({ nodes: [...new Set(calls.flat())], calls }, 'latency');
  const graph = { ...g, nodes: [...g.nodes, ...latency.nodes], edges: [...g.edges, ...latency.edges, ...[...new Set(calls.flat())].map((c) => ({ from: `${c}:latency`, to: `${c}:errors`, provenance: 'DOCS' as const, confidence: 1, reason: 'a slow component times out' }))] };
  return rankCauses({ incidentId: 't', graph, target: 'frontend:errors', telemetry: { normal, failure }, startRow: startRowFor(failure, errorsOnSearch.targetTimestampMs), method: 'hybrid', options });
}

test('the fixture holds the generated incidents: errors on search, misconfig on user', () => {
  assert.equal(errorsOnSearch.rootCause, 'search');
  assert.equal(misconfigUser.rootCause, 'user');
  for (const i of [errorsOnSearch, misconfigUser]) assert.equal(`${i.targetNode}:${i.targetMetric}`, 'frontend:errors');
});

test('a low-volume front of a failing service: named first by scores, explained by failed requests', () => {
  const normal = s.normal!;
  const failure = errorsOnSearch.failure;
  const quarter = (xs: number[]) => xs.map((x) => x / 4);
  const lbNormal = withSeries(normal, { 'search-lb:traffic': quarter(normal.series.get('search:traffic')!), 'search-lb:errors': normal.series.get('search:errors')!.map((x) => (Number.isFinite(x) ? 0 : x)) });
  const lbFailure = withSeries(failure, { 'search-lb:traffic': quarter(failure.series.get('search:traffic')!), 'search-lb:errors': failure.series.get('search:errors')!.map((x) => (x > 0 ? 2 / 3 : x)) });
  // frontend → search-lb → search (the balancer fronts search), the rest of the lab's call graph as generated.
  const calls: [string, string][] = [...s.callGraph.calls.filter(([a, b]) => !(a === 'frontend' && b === 'search')), ['frontend', 'search-lb'], ['search-lb', 'search']];
  // The first anomalous row of the symptom: search failed 31 % there, the balancer 67 %.
  const opts: Partial<RankOptions> = { row: 'first' };
  const before = rank(lbNormal, lbFailure, calls, { ...opts, countFailures: false });
  assert.deepEqual(before.causes.slice(0, 2).map((c) => c.component), ['search-lb', 'search'], 'the blind spot: the front outranks the service behind it');
  const after = rank(lbNormal, lbFailure, calls, opts);
  assert.equal(after.causes[0]!.component, 'search');
  assert.equal(after.causes[0]!.node, 'search:errors');
  assert.deepEqual(after.causes[0]!.path, ['search:errors', 'search-lb:errors', 'frontend:errors']);
  const lb = after.causes.find((c) => c.component === 'search-lb')!;
  assert.match(lb.evidence.at(-1)!.detail, /but search \(failed \d+\.\d requests beyond normal against search-lb's \d+\.\d\) upstream is comparably anomalous and explains it/);
});

test('a dependency called now and then is not evidence: its handful of normal values are no basis', () => {
  const normal = s.normal!;
  const failure = errorsOnSearch.failure;
  const n = normal.timestamps.length;
  // Called in every 12th normal row (11 of 121: a model needs 10), about 20 ms; during the incident every row, timing out at 1 s.
  const imagesNormal = Array.from({ length: n }, (_, i) => (i % 12 === 0 ? 0.02 + 0.001 * (i % 3) : NaN));
  const imagesFailure = failure.timestamps.map((_, i) => (i >= 3 ? 1 : NaN));
  const nf = withSeries(normal, { 'images:latency': imagesNormal });
  const ff = withSeries(failure, { 'images:latency': imagesFailure });
  const calls: [string, string][] = [...s.callGraph.calls, ['search', 'images']];
  const before = rank(nf, ff, calls, { minSupport: 0 });
  assert.equal(before.causes[0]!.component, 'images', 'the blind spot: the sparse dependency outranks the failing service');
  const after = rank(nf, ff, calls, {});
  assert.equal(after.causes[0]!.component, 'search');
  assert.match(after.causes[0]!.evidence.at(-1)!.detail, /^hybrid: root: anomalous \(strongest signal search:errors/);
  // Still a candidate, and its explanation says why its latency did not count.
  const images = after.causes.find((c) => c.component === 'images')!;
  assert.match(images.evidence.at(-1)!.detail, /images:latency \(\d+\.\d\) not counted: values in fewer than 50 % of the normal rows/);
});

test('equal failed counts of a caller and its database do not move the cause to the database', () => {
  const r = rankCauses({ incidentId: 'misconfig-user', graph: truthGraph(s.callGraph, 'errors'), target: 'frontend:errors', telemetry: { normal: s.normal!, failure: misconfigUser.failure }, startRow: startRowFor(misconfigUser.failure, misconfigUser.targetTimestampMs), method: 'hybrid' });
  assert.equal(r.causes[0]!.component, 'user');
  assert.match(r.causes[0]!.evidence.at(-1)!.detail, /^hybrid: root: anomalous \(strongest signal user:errors/);
  assert.ok(r.causes.slice(0, 3).some((c) => c.component === 'postgres'), 'postgres is still a close candidate');
});

test('failed counts equal up to the rounding of stored rates are equal: a tie, not "more"', () => {
  // The same incident with PostgreSQL's error ratio as a 6-digit CSV rounds it: 0.0277778 × 24
  // calls/s is 0.6666672 failed calls/s against the caller's 1 × 0.666667 (high_traffic_s2, train).
  const f = misconfigUser.failure;
  const bump = (xs: number[]) => xs.map((x) => (x > 0 ? x * (1 + 1e-6) : x));
  const failure = { timestamps: f.timestamps, series: new Map([...f.series, ['postgres:errors', bump(f.series.get('postgres:errors')!)]]) };
  const r = rankCauses({ incidentId: 'misconfig-user-rounded', graph: truthGraph(s.callGraph, 'errors'), target: 'frontend:errors', telemetry: { normal: s.normal!, failure }, startRow: startRowFor(failure, misconfigUser.targetTimestampMs), method: 'hybrid' });
  assert.equal(r.causes[0]!.component, 'user');
});

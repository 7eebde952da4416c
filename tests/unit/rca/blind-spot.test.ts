/**
 * The availability blind spot (issue 17), on an incident generated from the lab: geo was killed,
 * so it has no error ratio at all (its process is gone; only `up` fell), while search's and the
 * frontend's errors rose. Node-level methods only consider ancestors of frontend:errors whose own
 * *errors* are anomalous and never name geo; hybrid scores every upstream component on all of its
 * signals and names geo first, with geo:up as the evidence and a path through search to the target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenario } from '../../../pipelines/rca/eval/petshop-data.ts';
import { startRowFor, truthGraph } from '../../../pipelines/rca/eval/petshop-eval.ts';
import { rankCauses } from '../../../pipelines/rca/rca.ts';
import { defaultRankMethod } from '../../../pipelines/rca/index.ts';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/rca/lab-crash-geo/low_traffic_s1');
const s = loadScenario(dir, 'train');
const issue = s.issues[0]!;
const req = (method: 'hybrid' | 'attribution' | 'traversal' | 'random-walk') =>
  rankCauses({ incidentId: 'crash-geo', graph: truthGraph(s.callGraph, issue.targetMetric), target: `${issue.targetNode}:${issue.targetMetric}`, telemetry: { normal: s.normal!, failure: issue.failure }, startRow: startRowFor(issue.failure, issue.targetTimestampMs), method });

test('the fixture is the generated crash of geo with frontend:errors as the symptom', () => {
  assert.equal(issue.rootCause, 'geo');
  assert.equal(`${issue.targetNode}:${issue.targetMetric}`, 'frontend:errors');
});

test('node-level methods miss a crashed callee: geo is not ranked at all', () => {
  for (const m of ['attribution', 'traversal', 'random-walk'] as const) {
    const comps = req(m).causes.map((c) => c.component);
    assert.ok(comps.length > 0, `${m} reports a cause`);
    assert.ok(!comps.includes('geo'), `${m} ranks ${comps.join(' > ')}`);
  }
});

test('hybrid (the default) names geo first, with its up series as evidence and a path to the target', () => {
  assert.equal(defaultRankMethod, 'hybrid');
  const r = req('hybrid');
  const top = r.causes[0]!;
  assert.equal(top.component, 'geo');
  assert.equal(top.node, 'geo:up');
  assert.deepEqual(top.path, ['geo:up', 'geo:errors', 'search:errors', 'frontend:errors']);
  const why = top.evidence[top.evidence.length - 1]!.detail;
  assert.match(why, /^hybrid: root: anomalous \(strongest signal geo:up at \d+\.\d robust SDs/);
  // Every upstream component is a candidate, the weak ones included.
  const comps = r.causes.map((c) => c.component);
  for (const c of ['search', 'frontend', 'rate', 'profile', 'reservation', 'user', 'postgres', 'redis']) assert.ok(comps.includes(c), `${c} is a candidate`);
});

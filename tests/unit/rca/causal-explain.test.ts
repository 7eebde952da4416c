/**
 * hybrid: an anomalous component upstream explains another only through its series that are
 * direct causes of the other's anomalous series on the graph (issue 20). A caller is upstream of its callee on the
 * component graph — its traffic is the callee's load — but the caller's latency is the symptom the
 * callee passes on, not a cause of the callee's latency. Before, the test used the caller's
 * strongest series of any kind, so the entry service (always anomalous: it is the target's
 * component) "explained" a slow callee, the two explained each other, and the ranking fell back to
 * the larger score: the entry's own latency residual when the callee's latency, against a noisy
 * normal history, scored lower (the lab's online RCA named `frontend` for latency faults in search
 * and reservation; the callee's displayed evidence was floored to 0 below the suspects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleIncident } from '../../../pipelines/rca/rca.ts';
import { withVersion } from '../../../pipelines/graph/index.ts';
import { mulberry32 } from '../../../pipelines/core/random.ts';

const n = (id: string) => ({ id, component: id.split(':')[0]!, metric: id.split(':')[1]!, observed: true });
const e = (from: string, to: string) => ({ from, to, provenance: 'DOCS' as const, confidence: 1, reason: '' });

// web calls api (which uses db) and cache; the caller's traffic is its callees' load.
const ids = ['web:latency', 'web:traffic', 'api:latency', 'db:latency', 'cache:latency'];
const graph = withVersion({
  name: 'g',
  nodes: ids.map(n),
  edges: [e('api:latency', 'web:latency'), e('cache:latency', 'web:latency'), e('db:latency', 'api:latency'), e('web:traffic', 'api:latency'), e('web:traffic', 'cache:latency'), e('web:traffic', 'web:latency')],
  createdAtMs: 0,
  source: 't',
});

/** api answers `slowMs` late from row 70; web waits for it and queues a little more on top. */
function incidentData(slowMs: number) {
  const rnd = mulberry32(20);
  const T = 82;
  const s = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (let t = 0; t < T; t++) {
    const slow = t >= 70 ? slowMs / 1000 : 0;
    const api = 0.03 + 0.02 * rnd() + slow; // a noisy callee (it calls a database)
    s.get('db:latency')!.push(0.005 + 0.001 * rnd());
    s.get('cache:latency')!.push(0.004 + 0.001 * rnd());
    s.get('api:latency')!.push(api);
    s.get('web:latency')!.push(api + 0.01 + 0.002 * rnd() + slow * 0.25);
    s.get('web:traffic')!.push(12 + rnd());
  }
  const ts = Array.from({ length: T }, (_, i) => i * 1000);
  const cut = (a: number, b: number) => ({ timestamps: ts.slice(a, b), series: new Map([...s].map(([k, v]) => [k, v.slice(a, b)])) });
  const incident = { id: 'slow-api', status: 'UPDATED' as const, openedAtMs: 70_000, updatedAtMs: 75_000, resolvedAtMs: null, severity: 'warning' as const, components: ['web', 'api'], anomalyIds: [], anomalyCount: 5, summary: '' };
  return handleIncident(incident, graph, { normal: cut(0, 67), failure: cut(70, T) }, { method: 'hybrid' });
}

test('a slow callee with a noisy history is the root; the caller waiting for it is explained by it', () => {
  const res = incidentData(200);
  const why = (c: string) => res.causes.find((x) => x.component === c)!.evidence.at(-1)!.detail;
  assert.equal(res.causes[0]?.component, 'api', res.causes.map((c) => `${c.node}=${c.score}`).join(', '));
  assert.match(why('api'), /^hybrid: root: anomalous \(strongest signal api:latency/);
  assert.match(why('web'), /but api upstream is comparably anomalous and explains it/);
  // The caller's own latency scores higher than the callee's (it waits and queues), yet it is the symptom.
  const web = res.causes.find((c) => c.component === 'web')!;
  const api = res.causes[0]!;
  assert.ok(web.evidence[0]!.score > api.score, `web:latency ${web.evidence[0]!.score} > api:latency ${api.score}`);
});

test('the caller explains its callee through its traffic only: a load it did not change explains nothing', () => {
  const res = incidentData(200);
  const api = res.causes.find((c) => c.component === 'api')!;
  assert.doesNotMatch(api.evidence.at(-1)!.detail, /web upstream/);
  assert.ok(api.score > 0, 'the callee keeps its evidence (it is not floored below the suspects)');
});

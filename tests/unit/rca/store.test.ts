import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { GraphStore, parseGraphJson } from '../../../pipelines/graph/index.ts';
import { graphVersion, withVersion } from '../../../pipelines/graph/index.ts';
import type { CausalGraphRecord } from '../../../pipelines/graph/index.ts';
import { InputError } from '../../../pipelines/core/errors.ts';

function g(edges: [string, string, number?][], nodes = ['a:latency', 'b:latency', 'c:latency']): CausalGraphRecord {
  return withVersion({
    name: 'app',
    nodes: nodes.map((id) => ({ id, component: id.split(':')[0]!, metric: id.split(':')[1]!, observed: true })),
    edges: edges.map(([from, to, c]) => ({ from, to, provenance: 'DOCS' as const, confidence: c ?? 1, reason: '' })),
    createdAtMs: 0,
    source: 'test',
  });
}

test('accepts a valid DAG and keeps it', () => {
  const store = new GraphStore();
  const res = store.propose(g([['a:latency', 'b:latency']]));
  assert.equal(res.status, 'accepted');
  assert.equal(store.current()?.edges.length, 1);
});

test('rejects a graph with an edge to an unknown node and keeps the last good graph', () => {
  const reg = new Registry();
  const store = new GraphStore({ registry: reg });
  const good = g([['a:latency', 'b:latency']]);
  assert.equal(store.propose(good).status, 'accepted');
  const res = store.propose(g([['a:latency', 'zzz:latency']]));
  assert.equal(res.status, 'rejected');
  assert.match(res.status === 'rejected' ? res.reason : '', /unknown node zzz:latency/);
  assert.equal(store.current()?.version, good.version);
});

test('rejects nodes the telemetry does not have when known nodes are given', () => {
  const store = new GraphStore();
  const res = store.propose(g([['a:latency', 'b:latency']]), new Set(['a:latency', 'b:latency']));
  assert.equal(res.status, 'rejected');
  assert.match(res.status === 'rejected' ? res.reason : '', /unknown node c:latency: no such metric/);
  assert.equal(store.current(), null);
});

test('breaks a cycle by removing its least-confident edge, and reports it', () => {
  const store = new GraphStore();
  const res = store.propose(g([['a:latency', 'b:latency', 0.9], ['b:latency', 'c:latency', 0.8], ['c:latency', 'a:latency', 0.3]]));
  assert.equal(res.status, 'accepted');
  assert.deepEqual(res.status === 'accepted' ? res.repairs : [], ['removed c:latency -> a:latency (confidence 0.3) to break a cycle']);
  assert.equal(store.current()?.edges.length, 2);
});

test('rejects a cycle when cycle breaking is off, naming the cycle', () => {
  const store = new GraphStore({ validate: { breakCycles: false } });
  const res = store.propose(g([['a:latency', 'b:latency'], ['b:latency', 'a:latency']]));
  assert.equal(res.status, 'rejected');
  assert.match(res.status === 'rejected' ? res.reason : '', /cycle: a:latency -> b:latency -> a:latency/);
});

test('rejects malformed JSON and malformed shapes with the reason; last good graph kept', () => {
  const store = new GraphStore();
  const good = g([['a:latency', 'b:latency']]);
  store.propose(JSON.stringify(good));
  const bad1 = store.propose('{"name": "x", "nodes": [');
  assert.equal(bad1.status, 'rejected');
  assert.match(bad1.status === 'rejected' ? bad1.reason : '', /not valid JSON/);
  const bad2 = store.propose('{"name": "x", "nodes": [{"id": 3}], "edges": {}}');
  assert.match(bad2.status === 'rejected' ? bad2.reason : '', /nodes\[0\]\.id: expected a non-empty string.*edges: expected an array/);
  assert.equal(store.current()?.version, good.version);
  assert.throws(() => parseGraphJson('[1,2]'), InputError);
});

test('rejects graphs over the size limits', () => {
  const store = new GraphStore({ validate: { maxNodes: 2 } });
  const res = store.propose(g([]));
  assert.match(res.status === 'rejected' ? res.reason : '', /3 nodes, more than the limit 2/);
});

test('version is a content hash: independent of order, name and time', () => {
  const a = g([['a:latency', 'b:latency'], ['b:latency', 'c:latency']]);
  const b = { ...a, name: 'other', createdAtMs: 5, edges: [...a.edges].reverse(), nodes: [...a.nodes].reverse() };
  assert.equal(graphVersion(a), graphVersion(b));
  assert.notEqual(graphVersion(a), graphVersion(g([['a:latency', 'b:latency']])));
  const store = new GraphStore();
  store.propose(a);
  const again = store.propose(b);
  assert.equal(again.status === 'accepted' && again.unchanged, true);
});

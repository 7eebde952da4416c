/**
 * The lab's service catalog agrees with the app it documents: one page per service and resource,
 * `## Calls` equal to the app's real call graph (topology.ts), `## Metrics` equal to the recorded
 * signals; and the causal graph synthesized from it (offline judge, as `panoptes graph synthesize`)
 * carries latency and errors along every call edge and none between components that never talk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogDir } from '../../../pipelines/rca/io.ts';
import { synthesizeGraph } from '../../../pipelines/rca/synth/synthesize.ts';
import { OfflineJudge } from '../../../pipelines/rca/synth/offline-judge.ts';
import { CALLS, LAB_RESOURCES, LAB_SERVICES, STORES } from '../../../pipelines/lab/app/topology.ts';
import { LAB_SIGNALS, RESOURCE_SIGNALS } from '../../../pipelines/lab/types.ts';

const DIR = new URL('../../../pipelines/lab/catalog', import.meta.url).pathname;

test('catalog pages match the app: components, calls, metrics', () => {
  const cat = loadCatalogDir(DIR);
  assert.deepEqual([...cat.pages.keys()].sort(), [...LAB_SERVICES, ...LAB_RESOURCES].sort());
  assert.deepEqual(cat.dangling, []);
  for (const s of LAB_SERVICES) {
    const p = cat.pages.get(s)!;
    assert.equal(p.kind, 'service');
    assert.deepEqual(p.calls.map((c) => c.target).sort(), [...CALLS[s], ...STORES[s]].sort(), `${s} calls`);
    assert.deepEqual(p.metrics.map((m) => m.target), [...LAB_SIGNALS], `${s} metrics`);
  }
  for (const r of LAB_RESOURCES) {
    const p = cat.pages.get(r)!;
    assert.equal(p.kind, 'resource');
    assert.deepEqual(p.calls, []);
    assert.deepEqual(p.metrics.map((m) => m.target), [...RESOURCE_SIGNALS], `${r} metrics`);
  }
});

test('the synthesized graph follows the call graph', { timeout: 30_000 }, async () => {
  const observed = new Set([...LAB_SERVICES.flatMap((s) => LAB_SIGNALS.map((m) => `${s}:${m}`)), ...LAB_RESOURCES.flatMap((r) => RESOURCE_SIGNALS.map((m) => `${r}:${m}`))]);
  const { graph } = await synthesizeGraph({ name: 'lab', catalog: loadCatalogDir(DIR), observed, judge: new OfflineJudge() });
  const edges = new Set(graph.edges.map((e) => `${e.from} -> ${e.to}`));
  const talks = new Set<string>();
  for (const caller of LAB_SERVICES) {
    for (const callee of [...CALLS[caller], ...STORES[caller]]) {
      talks.add(`${callee}>${caller}`);
      for (const sig of ['latency', 'errors']) assert.ok(edges.has(`${callee}:${sig} -> ${caller}:${sig}`), `${callee}:${sig} -> ${caller}:${sig}`);
    }
  }
  // No latency/errors edge between two components unless one calls the other.
  for (const e of graph.edges) {
    const [fc, fm] = e.from.split(':');
    const [tc, tm] = e.to.split(':');
    if (fc === tc || !['latency', 'errors'].includes(fm!) || fm !== tm) continue;
    assert.ok(talks.has(`${fc}>${tc}`), `unexpected edge ${e.from} -> ${e.to}`);
  }
  // Every observed node is in the graph.
  const nodes = new Set(graph.nodes.map((n) => n.id));
  for (const o of observed) assert.ok(nodes.has(o), `node ${o}`);
});

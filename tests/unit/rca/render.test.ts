import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layeredLayout, toDot, toSvg } from '../../../pipelines/rca/render.ts';
import { withVersion } from '../../../pipelines/graph/index.ts';

const graph = withVersion({
  name: 'shop',
  nodes: ['db:latency', 'api:latency', 'web:latency', 'cache:latency'].map((id) => ({ id, component: id.split(':')[0]!, metric: 'latency', observed: id !== 'cache:latency' })),
  edges: [
    { from: 'db:latency', to: 'api:latency', provenance: 'BOTH' as const, confidence: 0.9, reason: 'api calls db' },
    { from: 'api:latency', to: 'web:latency', provenance: 'DOCS' as const, confidence: 0.7, reason: 'web calls "api"' },
    { from: 'cache:latency', to: 'api:latency', provenance: 'DATA' as const, confidence: 0.4, reason: '' },
  ],
  createdAtMs: 0,
  source: 'test',
});

test('DOT lists every node and edge with escaped labels', () => {
  const dot = toDot(graph);
  assert.match(dot, /^digraph "shop" \{/);
  assert.match(dot, /"db:latency" -> "api:latency" \[color="#15803d"/);
  assert.match(dot, /web calls \\"api\\"/);
  assert.match(dot, /"cache:latency" \[style=dashed/);
});

test('layered layout puts causes in earlier layers than their effects', () => {
  const l = layeredLayout(graph);
  assert.deepEqual(l.layers.map((x) => x.length), [2, 1, 1]);
  assert.ok(l.pos.get('db:latency')!.x < l.pos.get('api:latency')!.x);
  assert.ok(l.pos.get('api:latency')!.x < l.pos.get('web:latency')!.x);
});

test('SVG is well-formed enough: one rect per node, one line per edge, escaped text', () => {
  const svg = toSvg(graph);
  assert.equal((svg.match(/<rect /g) ?? []).length, 4);
  assert.equal((svg.match(/<line /g) ?? []).length, 3);
  assert.match(svg, /web calls &quot;api&quot;/);
  assert.ok(svg.startsWith('<svg ') && svg.trimEnd().endsWith('</svg>'));
});

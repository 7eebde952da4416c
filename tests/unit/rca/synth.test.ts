import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCatalog, parseCatalogFile, parseCatalogPage } from '../../../pipelines/rca/catalog.ts';
import { OfflineJudge } from '../../../pipelines/rca/synth/offline-judge.ts';
import { collapseUnobserved } from '../../../pipelines/rca/synth/collapse.ts';
import { synthesizeGraph } from '../../../pipelines/rca/synth/synthesize.ts';
import { validateWithData } from '../../../pipelines/rca/synth/validate-data.ts';
import { withVersion } from '../../../pipelines/graph/index.ts';
import type { Frame } from '../../../pipelines/rca/frame.ts';
import { gaussian, rng } from '../../../pipelines/rca/stats.ts';
import { InputError } from '../../../pipelines/core/errors.ts';
import { interactionOf, type PairQuestion } from '../../../pipelines/rca/synth/judge.ts';

const shop = `
# web
- kind: service
- type: frontend
The web site.
## Calls
- \`api\` — product pages
## Metrics
- latency — page time, seconds

# api
- kind: service
- type: backend
The product API.
## Calls
- \`db\` — product rows
- \`ghost\` — a component nobody documented

# db
- kind: resource
- type: sql-database
## Stores
- products
## Calls
- \`api\` — (a resource never calls: this must be skipped)

# client
- kind: request
- type: service-client
## Calls
- \`web\` — page loads
`;

test('catalog pages parse: kind, type, calls with reasons, metrics; dangling references listed', () => {
  const pages = parseCatalogFile(shop, 'shop.md');
  assert.deepEqual(pages.map((p) => p.component), ['web', 'api', 'db', 'client']);
  assert.deepEqual(pages[0]!.calls, [{ target: 'api', why: 'product pages' }]);
  assert.deepEqual(pages[0]!.metrics, [{ target: 'latency', why: 'page time, seconds' }]);
  assert.equal(pages[2]!.kind, 'resource');
  assert.deepEqual(pages[2]!.stores, ['products']);
  assert.deepEqual(buildCatalog(pages).dangling, ['api -> ghost']);
});

test('catalog errors name the file and line', () => {
  assert.throws(() => parseCatalogPage('# x\n- kind: database\n', 'x.md'), (e: unknown) => e instanceof InputError && /x\.md:2: kind "database" is not one of service, resource, request/.test(e.message));
  assert.throws(() => parseCatalogPage('# x\nno kind here\n', 'x.md'), /x\.md: no "- kind/);
  assert.throws(() => parseCatalogPage('just text', 'y.md'), /y\.md: no "# <component>" title/);
  assert.throws(() => buildCatalog([...parseCatalogFile('# a\n- kind: service\n', 'a.md'), ...parseCatalogFile('# a\n- kind: service\n', 'b.md')]), /described twice/);
});

test('only the four Atlas interaction types are allowed', () => {
  assert.equal(interactionOf('request', 'service'), 'request→service');
  assert.equal(interactionOf('service', 'resource'), 'service→resource');
  assert.equal(interactionOf('resource', 'service'), null);
  assert.equal(interactionOf('service', 'request'), null);
});

test('offline judge: callee latency and errors propagate to the caller, caller load to the callee', async () => {
  const j = new OfflineJudge();
  const view = (component: string, metric: string) => ({ component, kind: 'service' as const, type: 't', metric, metricDoc: '', componentDoc: '' });
  const ask = (ma: string, mb: string, interaction: PairQuestion['interaction'] = 'service→service') => j.judge({ interaction, a: view('web', ma), b: view('api', mb), relation: '' });
  assert.equal((await ask('latency', 'latency')).verdict, 'B_CAUSES_A');
  assert.equal((await ask('availability', 'availability')).verdict, 'B_CAUSES_A');
  assert.equal((await ask('requests', 'requests')).verdict, 'A_CAUSES_B');
  assert.equal((await ask('latency', 'requests')).verdict, 'NONE');
  assert.equal((await ask('saturation', 'latency', 'within')).verdict, 'A_CAUSES_B');
  assert.equal((await ask('latency', 'utilization', 'within')).verdict, 'B_CAUSES_A');
});

test('unobserved nodes collapse keeping transitive paths, and stay as suspects', () => {
  const n = (id: string, observed = true) => ({ id, component: id.split(':')[0]!, metric: id.split(':')[1]!, observed });
  const e = (from: string, to: string) => ({ from, to, provenance: 'DOCS' as const, confidence: 1, reason: `${from}>${to}` });
  const res = collapseUnobserved([n('a:requests'), n('a:saturation', false), n('a:latency')], [e('a:requests', 'a:saturation'), e('a:saturation', 'a:latency')]);
  const edges = res.edges.map((x) => `${x.from}>${x.to}`).sort();
  assert.deepEqual(edges, ['a:requests>a:latency', 'a:saturation>a:latency']);
  assert.equal(res.collapsed, 1);
  assert.deepEqual(res.suspects, ['a:saturation']);
  assert.match(res.edges.find((x) => x.from === 'a:requests')!.reason, /via unobserved a:saturation/);
});

test('synthesis: one agent per component, interactions filtered, suspects kept, edges explained', async () => {
  const catalog = buildCatalog(parseCatalogFile(shop, 'shop.md'));
  const observed = new Set(['web:latency', 'api:latency', 'db:latency', 'client:latency', 'web:requests', 'api:requests', 'db:requests']);
  const { graph, report } = await synthesizeGraph({ name: 'shop', catalog, observed, judge: new OfflineJudge() });
  assert.equal(report.agents, 4);
  assert.deepEqual(report.skippedInteractions, ['db (resource) -> api (service): not one of the four interaction types']);
  assert.deepEqual(report.dangling, ['api -> ghost']);
  const has = (from: string, to: string) => graph.edges.some((e) => e.from === from && e.to === to);
  assert.ok(has('db:latency', 'api:latency'));
  assert.ok(has('api:latency', 'web:latency'));
  assert.ok(has('web:latency', 'client:latency'));
  assert.ok(has('web:requests', 'api:requests'));
  assert.ok(has('api:requests', 'api:latency'), 'load → latency through the collapsed saturation node');
  assert.ok(!has('api:latency', 'db:latency'));
  assert.ok(report.suspects.includes('db:utilization'));
  assert.ok(graph.nodes.some((n) => n.id === 'db:utilization' && !n.observed));
  assert.ok(graph.edges.every((e) => e.reason.length > 0 && e.provenance === 'DOCS'));
  assert.ok(report.questions >= 20, `questions ${report.questions}`);
  // Deterministic: same inputs, same version.
  const again = await synthesizeGraph({ name: 'shop', catalog, observed, judge: new OfflineJudge() });
  assert.equal(again.graph.version, graph.version);
});

test('a cached answer is re-stated for the pair it is used on: its reason names that pair and its call, never the first pair asked', async () => {
  // Two client segments of the same type calling two services of the same type: the second pair's
  // answers come from the cache (Atlas's cache by type), and used to keep the first pair's names.
  const twins = `
# cart_client
- kind: request
- type: service-client
## Calls
- \`cart\` — the basket requests it records

# cart
- kind: service
- type: backend
## Metrics
- latency — seconds
- availability — percent

# search_client
- kind: request
- type: service-client
## Calls
- \`search\` — the search requests it records

# search
- kind: service
- type: backend
## Metrics
- latency — seconds
- availability — percent
`;
  const catalog = buildCatalog(parseCatalogFile(twins, 'twins.md'));
  const observed = new Set(['cart_client:latency', 'cart:latency', 'search_client:latency', 'search:latency', 'cart:availability', 'search:availability', 'cart_client:availability', 'search_client:availability']);
  const { graph, report } = await synthesizeGraph({ name: 'twins', catalog, observed, judge: new OfflineJudge() });
  assert.ok(report.cacheHits > 0, 'the second pair is answered from the cache');
  const edge = (from: string, to: string) => graph.edges.find((e) => e.from === from && e.to === to);
  const cart = edge('cart:latency', 'cart_client:latency');
  const search = edge('search:latency', 'search_client:latency');
  assert.ok(cart && search);
  for (const [e, own, other] of [[cart, ['cart', 'basket'], ['search']], [search, ['search'], ['cart', 'basket']]] as const) {
    for (const w of own) assert.ok(e.reason.includes(w), `${e.from} -> ${e.to}: "${e.reason}" should name ${w}`);
    for (const w of other) assert.ok(!e.reason.includes(w), `${e.from} -> ${e.to}: "${e.reason}" names ${w}, another pair`);
  }
  // Reasons inside one component are re-stated too.
  for (const e of graph.edges.filter((x) => x.from.startsWith('search:') && x.to.startsWith('search:'))) assert.ok(!e.reason.includes('cart'), e.reason);
});

test('data validation confirms supported edges, flags contradicted ones, proposes missing ones', () => {
  // x → y strongly; z independent of both; w = 0.9·y + noise (a link the docs lack).
  const rand = rng(3);
  const cols: Record<string, number[]> = { 'x:m': [], 'y:m': [], 'z:m': [], 'w:m': [] };
  for (let t = 0; t < 500; t++) {
    const x = gaussian(rand);
    const y = 0.8 * x + 0.5 * gaussian(rand);
    cols['x:m']!.push(x);
    cols['y:m']!.push(y);
    cols['z:m']!.push(gaussian(rand));
    cols['w:m']!.push(0.9 * y + 0.3 * gaussian(rand));
  }
  const frame: Frame = { timestamps: cols['x:m']!.map((_, i) => i), series: new Map(Object.entries(cols)) };
  const g = withVersion({
    name: 't',
    nodes: Object.keys(cols).map((id) => ({ id, component: id[0]!, metric: 'm', observed: true })),
    edges: [
      { from: 'x:m', to: 'y:m', provenance: 'DOCS' as const, confidence: 1, reason: 'docs' },
      { from: 'z:m', to: 'y:m', provenance: 'DOCS' as const, confidence: 1, reason: 'docs' },
    ],
    createdAtMs: 0,
    source: 'test',
  });
  const { graph, report } = validateWithData(g, frame);
  const xy = graph.edges.find((e) => e.from === 'x:m' && e.to === 'y:m')!;
  const zy = graph.edges.find((e) => e.from === 'z:m' && e.to === 'y:m')!;
  assert.equal(xy.provenance, 'BOTH');
  assert.equal(zy.provenance, 'DOCS');
  assert.equal(zy.confidence, 0.5);
  assert.match(zy.reason, /no dependence found/);
  assert.deepEqual(report.flagged, ['z:m -> y:m']);
  assert.equal(report.confirmed, 1);
  const pruned = validateWithData(g, frame, { alpha: 0.01, maxCondSize: 2, prune: true, addDataEdges: 'none', minStrength: 0.3 });
  assert.deepEqual(pruned.report.pruned, ['z:m -> y:m']);
  assert.equal(pruned.graph.edges.length, 1);
  // The y–w link is found by PC; whether it is added depends on PC orienting it (a v-structure
  // needs a third variable), so check it is at least not invented between unrelated nodes.
  assert.ok(report.added.every((a) => !a.includes('z:m')));
});

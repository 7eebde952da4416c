import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands, petshopCatalogDir } from '../../../pipelines/rca/cli.ts';
import { commands as incidentCommands } from '../../../pipelines/incidents/cli.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../../../pipelines/core/cli-types.ts';
import { InputError } from '../../../pipelines/core/errors.ts';
import { gaussian, rng } from '../../../pipelines/rca/stats.ts';

function cmd(name: string, list: CliCommand[] = commands): CliCommand {
  const c = list.find((x) => x.name === name);
  assert.ok(c, `command ${name}`);
  return c;
}

async function run(c: CliCommand, options: ParsedArgs['options'], positionals: string[] = [], json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json, signal: new AbortController().signal };
  const code = await c.run({ options, positionals }, io);
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'rca-cli-'));

/** web calls api calls db; latency adds up along the calls; `fault` slows one component. */
function simulate(rows: number, seed: number, fault?: { component: string; from: number }): string[][] {
  const rand = rng(seed);
  const out: string[][] = [];
  for (let t = 0; t < rows; t++) {
    const extra = (c: string) => (fault && fault.component === c && t >= fault.from ? 0.2 : 0);
    const db = 0.05 + 0.005 * gaussian(rand) + extra('db');
    const api = 0.05 + 0.005 * gaussian(rand) + extra('api') + db;
    const web = 0.05 + 0.005 * gaussian(rand) + extra('web') + api;
    out.push([String(1_700_000_000 + t * 300), String(web), String(api), String(db)]);
  }
  return out;
}

function petshopCsv(rows: string[][]): string {
  return ['microservice,web,api,db', 'metric,latency,latency,latency', 'statistic,Average,Average,Average', 'unix_timestamp,,,', ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

function makeDataset(): string {
  const root = join(dir, 'ds');
  const sc = join(root, 'tiny');
  mkdirSync(join(sc, 'noissue'), { recursive: true });
  writeFileSync(join(sc, 'graph.csv'), ',web,api,db\nweb,0,1,0\napi,0,0,1\ndb,0,0,0\n');
  writeFileSync(join(sc, 'noissue', 'metrics.csv'), petshopCsv(simulate(300, 1)));
  for (const [i, comp] of ['db', 'api'].entries()) {
    const d = join(sc, 'train', `issue_${i}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'metrics.csv'), petshopCsv(simulate(5, 10 + i, { component: comp, from: 1 })));
    writeFileSync(join(d, 'target.json'), JSON.stringify({ target: { node: 'web', metric: 'latency', agg: 'Average', timestamp: 1_700_000_000 + 300 }, root_cause: { node: comp, metric: null } }));
  }
  return root;
}

const catalogDir = join(dir, 'catalog');
mkdirSync(catalogDir);
writeFileSync(join(catalogDir, 'shop.md'), '# web\n- kind: service\n## Calls\n- `api` — pages\n\n# api\n- kind: service\n## Calls\n- `db` — rows\n\n# db\n- kind: resource\n');

test('rca eval on a PetShop-layout folder: per scenario and metric, top-1/top-3 and specificity as JSON lines', async () => {
  const ds = makeDataset();
  for (const graph of ['truth', 'synth']) {
    const { code, out, err } = await run(cmd('rca eval'), { dataset: ds, graph, method: 'attribution', catalog: catalogDir }, [], true);
    assert.equal(code, 0);
    const rows = out.map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.deepEqual({ scenario: rows[0].scenario, metric: rows[0].metric, graph: rows[0].graph, issues: rows[0].issues, top1: rows[0].top1, top3: rows[0].top3 }, { scenario: 'tiny', metric: 'latency', graph, issues: 2, top1: 1, top3: 1 });
    assert.equal(rows[0].specificity, 1);
    assert.ok(err.some((l) => l.startsWith('tiny latency')), 'progress on stderr');
  }
});

test('graph synthesize writes a graph from the PetShop catalog and a metric list; graph show renders it', async () => {
  const metrics = join(dir, 'metrics.txt');
  writeFileSync(metrics, '# observed\nPetSite:latency\nPetSearch_AWS::ECS::Fargate:latency\npetInfo_AWS::DynamoDB::Table:latency\n');
  const out = join(dir, 'g.json');
  const res = await run(cmd('graph synthesize'), { docs: petshopCatalogDir, metrics, out, provider: 'offline', name: 'petshop' });
  assert.equal(res.code, 0);
  const g = JSON.parse(readFileSync(out, 'utf8'));
  assert.ok(g.edges.some((e: { from: string; to: string }) => e.from === 'PetSearch_AWS::ECS::Fargate:latency' && e.to === 'PetSite:latency'));
  assert.ok(g.edges.some((e: { from: string; to: string }) => e.from === 'petInfo_AWS::DynamoDB::Table:latency' && e.to === 'PetSearch_AWS::ECS::Fargate:latency'));
  const dot = await run(cmd('graph show'), { format: 'dot' }, [out]);
  assert.match(dot.out.join('\n'), /"PetSearch_AWS::ECS::Fargate:latency" -> "PetSite:latency"/);
  const svg = await run(cmd('graph show'), { format: 'svg' }, [out]);
  assert.match(svg.out.join('\n'), /^<svg /);
});

test('graph show rejects malformed JSON and edges to unknown nodes with the reason', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"name": "x", "nodes": [], ');
  await assert.rejects(run(cmd('graph show'), {}, [bad]), (e: unknown) => e instanceof InputError && /rejected: graph is not valid JSON/.test(e.message));
  const unknown = join(dir, 'unknown.json');
  writeFileSync(unknown, JSON.stringify({ name: 'x', nodes: [{ id: 'a:m', component: 'a', metric: 'm' }], edges: [{ from: 'a:m', to: 'b:m' }] }));
  await assert.rejects(run(cmd('graph show'), {}, [unknown]), /unknown node b:m/);
});

test('rca ranks the injected root cause of an incident from files', async () => {
  const ds = makeDataset();
  const data = join(dir, 'wide.csv');
  const rows = [...simulate(200, 3), ...simulate(5, 4, { component: 'db', from: 1 }).map((r, i) => [String(1_700_000_000 + (200 + i) * 300), ...r.slice(1)])];
  writeFileSync(data, ['timestamp,web:latency,api:latency,db:latency', ...rows.map((r) => r.join(','))].join('\n'));
  const graphFile = join(dir, 'truth.json');
  const { truthGraph } = await import('../../../pipelines/rca/eval/petshop-eval.ts');
  const { parseCallGraph } = await import('../../../pipelines/rca/eval/petshop-data.ts');
  writeFileSync(graphFile, JSON.stringify(truthGraph(parseCallGraph(readFileSync(join(ds, 'tiny', 'graph.csv'), 'utf8')), 'latency')));
  const incident = join(dir, 'incident.json');
  writeFileSync(incident, JSON.stringify({ id: 'inc-1', target: 'web:latency', startMs: 1_700_000_000 + 201 * 300 }));
  const res = await run(cmd('rca'), { incident, graph: graphFile, data, method: 'traversal' }, [], true);
  const result = JSON.parse(res.out[0]!);
  assert.equal(result.incidentId, 'inc-1');
  assert.equal(result.causes[0].node, 'db:latency');
  assert.deepEqual(result.causes[0].path, ['db:latency', 'api:latency', 'web:latency']);
  const human = await run(cmd('rca'), { incident, graph: graphFile, data }, []);
  assert.match(human.out.join('\n'), /1\. db:latency {2}score/);
});

test('incidents correlate replays anomalies from a file', async () => {
  const f = join(dir, 'anomalies.jsonl');
  const a = (service: string, t: number) => JSON.stringify({ id: `${service}@${t}`, labels: { service }, timestampMs: t * 60_000, severity: 'warning' });
  writeFileSync(f, [a('db', 0), a('api', 1), a('billing', 2)].join('\n'));
  const g = join(dir, 'deps.csv');
  writeFileSync(g, ',api,db\napi,0,1\ndb,0,0\n');
  const res = await run(cmd('incidents correlate', incidentCommands), { anomalies: f, graph: g }, [], true);
  const recs = res.out.map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((r) => r.status), ['OPEN', 'UPDATED', 'OPEN', 'RESOLVED', 'RESOLVED']);
  assert.deepEqual(recs[1].components, ['api', 'db']);
  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, '{"labels": {}}\nnot json\n');
  await assert.rejects(run(cmd('incidents correlate', incidentCommands), { anomalies: broken }), /broken\.jsonl:2: not valid JSON/);
});

/**
 * Offline commands of the RCA stage: synthesize and show causal graphs, rank the root causes of
 * one incident from files, and run the PetShop evaluation. Kafka wiring is elsewhere; these work
 * on files.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import type { CliCommand, CliIo, CliOption, ParsedArgs } from '../core/cli-types.ts';
import { InputError, UsageError } from '../core/errors.ts';
import type { Incident } from '../core/records.ts';
import { sliceFrame, type Frame } from './frame.ts';
import { datasetsRoot } from './eval/petshop-data.ts';
import { runPetshopEval } from './eval/run.ts';
import type { EvalMethod, GraphKind } from './eval/petshop-eval.ts';
import { loadCatalogDir, readFrame, readObserved, readText } from './io.ts';
import { defaultRankMethod, handleIncident, rankMethods, type RankMethod } from './rca.ts';
import type { RankOptions } from './rank/scores.ts';
import { rankSpec } from './spec.ts';
import { toDot, toSvg } from './render.ts';
import { GraphStore } from '../graph/index.ts';
import { onlineCommands } from './cli-online.ts';
import { corpusCommand } from './corpus/command.ts';
import { OfflineJudge } from './synth/offline-judge.ts';
import { LlmJudge } from './synth/llm-judge.ts';
import { synthesizeGraph } from './synth/synthesize.ts';
import { defaultDataValidationOptions } from './synth/validate-data.ts';
import type { CausalJudge } from './synth/judge.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The ranking options of rankSpec (spec.ts): thresholds, hybrid's settings, row choice. */
const thresholdOptions: CliCommand['options'] = rankSpec.cliOptions();

function rankOptionsOf(args: ParsedArgs): Partial<RankOptions> {
  return rankSpec.fromArgs(args) as RankOptions;
}
export const petshopCatalogDir = join(here, 'catalog', 'petshop');

function str(args: ParsedArgs, name: string, required = false): string | undefined {
  const v = args.options[name];
  if (v === undefined || v === '') {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new UsageError(`--${name}: expected a value`);
  return v;
}

function num(args: ParsedArgs, name: string, dflt: number): number {
  const v = args.options[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function methodOf(v: string | undefined): RankMethod {
  const m = (v ?? defaultRankMethod) as RankMethod;
  if (!rankMethods.includes(m)) throw new UsageError(`--method: expected one of ${rankMethods.join(', ')}, got "${v}"`);
  return m;
}

async function makeJudge(provider: string, io: CliIo): Promise<CausalJudge> {
  if (provider === 'offline') return new OfflineJudge();
  if (provider !== 'llm') throw new UsageError(`--provider: expected offline or llm, got "${provider}"`);
  const { createLlmClient } = await import('../llm/index.ts');
  const client = createLlmClient({ registry: new Registry() });
  if (client.name !== 'openai') throw new UsageError('--provider llm needs an endpoint: set OPENAI_API_KEY (and OPENAI_BASE_URL, PANOPTES_LLM_MODEL)');
  io.err(`graph synthesize: asking ${client.config.defaultModel ?? 'the configured model'} (3 votes per question, shuffled options)`);
  return new LlmJudge(client);
}

/** The synthesized graph's data-proposed edges: one option, one default (validate-data.ts). */
const dataEdgesOption: CliOption = {
  name: 'data-edges',
  type: 'boolean',
  description: 'Synthesis: add PC-oriented edges between components the catalog does not link',
  default: defaultDataValidationOptions.addDataEdges !== 'none',
};

const synthesize: CliCommand = {
  name: 'graph synthesize',
  summary: 'Build a causal graph from a Markdown service catalog, metric names and (optionally) no-incident data',
  usage: '--docs DIR --metrics FILE [--data CSV] [--out FILE] [--provider offline|llm] [--publish]',
  options: [
    { name: 'docs', type: 'string', description: 'Folder of Markdown catalog pages (one `# component` per page)', required: true, placeholder: 'DIR' },
    { name: 'metrics', type: 'string', description: 'Observed metrics: a CSV header (PetShop layout or timestamp,<node>...) or one component:metric per line', required: true, placeholder: 'FILE' },
    { name: 'data', type: 'string', description: 'No-incident telemetry CSV for data validation (PC / Fisher z)', placeholder: 'CSV' },
    { name: 'out', type: 'string', description: 'Write the graph JSON here instead of stdout', placeholder: 'FILE' },
    { name: 'provider', type: 'string', description: 'Who answers the agents: offline (rules) or llm (pipelines/llm)', default: 'offline' },
    { name: 'name', type: 'string', description: 'Graph name', default: 'app' },
    { name: 'prune', type: 'boolean', description: 'Remove docs edges the data contradicts instead of flagging them', default: false },
    dataEdgesOption,
    { name: 'publish', type: 'boolean', description: 'Also put the graph on the causal-graphs topic (uses the pipeline config)', default: false },
  ],
  help: 'Example: panoptes graph synthesize --docs pipelines/rca/catalog/petshop --metrics $D/petshop/low_traffic/noissue/metrics.csv --data $D/petshop/low_traffic/noissue/metrics.csv --out graph.json',
  async run(args, io) {
    const catalog = loadCatalogDir(str(args, 'docs', true)!);
    const observed = readObserved(str(args, 'metrics', true)!);
    const dataPath = str(args, 'data');
    const data = dataPath ? readFrame(dataPath) : undefined;
    const judge = await makeJudge(str(args, 'provider') ?? 'offline', io);
    const { graph, report } = await synthesizeGraph({
      name: str(args, 'name') ?? 'app',
      catalog,
      observed,
      judge,
      data,
      dataValidation: { prune: args.options.prune === true, addDataEdges: args.options['data-edges'] === false ? 'none' : 'oriented' },
      progress: (l) => io.err(l),
    });
    const summary = {
      version: graph.version,
      nodes: graph.nodes.length,
      edges: graph.edges.length,
      agents: report.agents,
      questions: report.questions,
      cacheHits: report.cacheHits,
      unobserved: report.unobserved.length,
      suspects: report.suspects.length,
      collapsed: report.collapsed,
      undocumented: report.undocumented,
      skippedInteractions: report.skippedInteractions,
      repairs: report.repairs,
      data: report.data ? { tested: report.data.tested, confirmed: report.data.confirmed, flagged: report.data.flagged.length, pruned: report.data.pruned.length, added: report.data.added } : null,
    };
    const out = str(args, 'out');
    if (out) {
      writeFileSync(out, JSON.stringify(graph, null, 2) + '\n');
      if (io.json) io.out(JSON.stringify({ out, ...summary }));
      else io.out(`wrote ${out}: version ${graph.version}, ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
    } else io.out(JSON.stringify(graph, null, io.json ? 0 : 2));
    io.err(`synthesis: ${JSON.stringify(summary)}`);
    if (args.options.publish === true) {
      const [{ loadConfig }, { createRuntime }, { publishGraph }] = await Promise.all([import('../core/config.ts'), import('../core/runtime.ts'), import('./publish.ts')]);
      const rt = await createRuntime(loadConfig(), { stage: 'graph' });
      try {
        const p = await publishGraph(rt, graph, { source: str(args, 'provider') ?? 'offline' });
        io.err(`published graph ${p.name}@${p.version} on ${p.topic}`);
      } finally {
        await rt.close();
      }
    }
    return 0;
  },
};

const show: CliCommand = {
  name: 'graph show',
  summary: 'Validate a causal graph file and print it as DOT, SVG or JSON',
  usage: 'FILE [--format dot|svg|json]',
  options: [{ name: 'format', type: 'string', description: 'dot, svg or json', default: 'dot' }],
  async run(args, io) {
    const file = args.positionals[0];
    if (!file) throw new UsageError('graph show: give the graph FILE');
    const store = new GraphStore();
    const res = store.propose(readText(file, 'graph file'));
    if (res.status === 'rejected') throw new InputError(`graph ${file} rejected: ${res.reason}`);
    for (const r of res.repairs) io.err(`repair: ${r}`);
    const g = store.current()!;
    const format = io.json ? 'json' : (str(args, 'format') ?? 'dot');
    if (format === 'dot') io.out(toDot(g).trimEnd());
    else if (format === 'svg') io.out(toSvg(g).trimEnd());
    else if (format === 'json') io.out(JSON.stringify(g, null, io.json ? 0 : 2));
    else throw new UsageError(`--format: expected dot, svg or json, got "${format}"`);
    return 0;
  },
};

/** Incident file: an Incident record, or `{ "id"?, "target": "component:metric", "startMs" }`. */
function readIncident(path: string): { incident: Incident; target?: string } {
  let x: Record<string, unknown>;
  try {
    x = JSON.parse(readText(path, 'incident file')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`incident file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof x !== 'object' || x === null) throw new InputError(`incident file ${path}: expected a JSON object`);
  const target = typeof x.target === 'string' ? x.target : undefined;
  const components = Array.isArray(x.components) ? x.components.map(String) : target ? [target.slice(0, target.lastIndexOf(':'))] : [];
  const opened = typeof x.openedAtMs === 'number' ? x.openedAtMs : typeof x.startMs === 'number' ? x.startMs : NaN;
  if (!Number.isFinite(opened)) throw new InputError(`incident file ${path}: needs openedAtMs (or startMs), ms since the epoch`);
  if (components.length === 0) throw new InputError(`incident file ${path}: needs components (or target)`);
  const incident: Incident = {
    id: typeof x.id === 'string' ? x.id : 'incident',
    status: 'OPEN',
    openedAtMs: opened,
    updatedAtMs: typeof x.updatedAtMs === 'number' ? x.updatedAtMs : opened,
    resolvedAtMs: null,
    severity: 'warning',
    components,
    anomalyIds: [],
    anomalyCount: 0,
    summary: '',
  };
  return { incident, target };
}

const rca: CliCommand = {
  name: 'rca',
  summary: 'Rank the root causes of one incident on a causal graph',
  usage: '--incident FILE --graph FILE --data CSV [--normal CSV] [--method hybrid|attribution|traversal|random-walk]',
  options: [
    { name: 'incident', type: 'string', description: 'Incident JSON (an incident record, or {target, startMs})', required: true, placeholder: 'FILE' },
    { name: 'graph', type: 'string', description: 'Causal graph JSON', required: true, placeholder: 'FILE' },
    { name: 'data', type: 'string', description: 'Telemetry CSV covering the incident (and, without --normal, the history before it)', required: true, placeholder: 'CSV' },
    { name: 'normal', type: 'string', description: 'No-incident telemetry CSV (default: rows of --data before the incident minus --gap)', placeholder: 'CSV' },
    { name: 'gap', type: 'number', description: 'Rows before the incident start left out of the normal history', default: 2 },
    { name: 'method', type: 'string', description: 'hybrid, attribution, traversal or random-walk', default: defaultRankMethod },
    { name: 'target', type: 'string', description: 'Affected node to explain (component:metric); default from the incident', placeholder: 'NODE' },
    ...thresholdOptions,
  ],
  async run(args, io) {
    const { incident, target } = readIncident(str(args, 'incident', true)!);
    const store = new GraphStore();
    const res = store.propose(readText(str(args, 'graph', true)!, 'graph file'));
    if (res.status === 'rejected') throw new InputError(`graph rejected: ${res.reason}`);
    const data = readFrame(str(args, 'data', true)!);
    const normalPath = str(args, 'normal');
    let normal: Frame;
    let failure: Frame;
    const startIdx = data.timestamps.findIndex((t) => t >= incident.openedAtMs);
    const gap = num(args, 'gap', 2);
    if (normalPath) {
      normal = readFrame(normalPath);
      failure = startIdx >= 0 ? sliceFrame(data, Math.max(0, startIdx - gap), data.timestamps.length) : data;
    } else {
      if (startIdx < 0) throw new InputError('the incident starts after the last row of --data: nothing to analyse');
      const cut = Math.max(0, startIdx - gap);
      if (cut < 10) throw new InputError(`only ${cut} rows of --data precede the incident: give --normal with no-incident history`);
      normal = sliceFrame(data, 0, cut);
      failure = sliceFrame(data, cut, data.timestamps.length);
    }
    const result = handleIncident(incident, store.current(), { normal, failure }, { method: methodOf(str(args, 'method')), target: str(args, 'target') ?? target, options: rankOptionsOf(args), nowMs: Date.now() });
    if (io.json) io.out(JSON.stringify(result));
    else {
      io.out(`incident ${result.incidentId} · graph ${result.graphVersion ?? 'none'} · method ${result.method}`);
      if (result.note) io.out(`note: ${result.note}`);
      if (result.causes.length === 0) io.out('no root cause reported');
      result.causes.forEach((c, i) => {
        io.out(`${i + 1}. ${c.node}  score ${c.score}`);
        io.out(`   path: ${c.path.join(' -> ')}`);
        for (const e of c.evidence) io.out(`   - ${e.detail}`);
      });
    }
    return 0;
  },
};

function pct(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}

const evalCmd: CliCommand = {
  name: 'rca eval',
  summary: 'PetShop evaluation: top-1/top-3 recall of the root-cause node and specificity on no-issue data',
  usage: '[--dataset DIR] [--graph truth|data|synth|all] [--method hybrid|attribution|traversal|random-walk|baseline|all] [--json]',
  options: [
    { name: 'dataset', type: 'string', description: 'Folder in the PetShop layout (default: $PANOPTES_DATASETS/petshop)', placeholder: 'DIR' },
    { name: 'graph', type: 'string', description: 'truth (dataset call graph), data (PC), synth (offline Atlas synthesis), a comma list, or all', default: 'synth' },
    { name: 'method', type: 'string', description: 'hybrid, attribution, traversal, random-walk, baseline (the re-implemented PetShop anomaly traversal), a comma list, or all', default: defaultRankMethod },
    { name: 'catalog', type: 'string', description: 'Catalog folder for --graph synth', placeholder: 'DIR' },
    { name: 'split', type: 'string', description: 'Issue split folder', default: 'train' },
    { name: 'specificity-window', type: 'number', description: 'Rows of each fake incident window on no-issue data (0 = all the rest)', default: 5 },
    { name: 'details', type: 'boolean', description: 'Also print every issue\'s ranking', default: false },
    { name: 'edges', type: 'boolean', description: 'Also print each graph\'s component-edge precision/recall against the dataset\'s call graph', default: false },
    dataEdgesOption,
    ...thresholdOptions,
  ],
  async run(args, io) {
    const dataset = resolve(str(args, 'dataset') ?? join(datasetsRoot(), 'petshop'));
    const g = str(args, 'graph') ?? 'synth';
    const graphs: GraphKind[] = g === 'all' ? ['truth', 'data', 'synth'] : (g.split(',') as GraphKind[]);
    for (const k of graphs) if (!['truth', 'data', 'synth'].includes(k)) throw new UsageError(`--graph: expected truth, data, synth or all, got "${k}"`);
    const m = str(args, 'method') ?? defaultRankMethod;
    const methods: EvalMethod[] = m === 'all' ? [...rankMethods, 'baseline'] : m.split(',').map((x) => (x === 'baseline' ? 'baseline' : methodOf(x)));
    const t0 = Date.now();
    const { rows, details, edges } = await runPetshopEval({
      edges: args.options.edges === true,
      dataset,
      graphs,
      methods,
      catalogDir: str(args, 'catalog') ?? petshopCatalogDir,
      split: str(args, 'split') ?? 'train',
      specificityWindow: num(args, 'specificity-window', 5),
      rank: rankOptionsOf(args),
      dataEdges: args.options['data-edges'] !== false,
      progress: (l) => io.err(l),
    });
    io.err(`rca eval: ${rows.length} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (io.json) {
      for (const r of rows) io.out(JSON.stringify(r));
      if (args.options.details === true) for (const d of details) io.out(JSON.stringify({ detail: true, ...d }));
      for (const e of edges) io.out(JSON.stringify({ edges: true, ...e }));
      return 0;
    }
    io.out('| scenario | metric | graph | method | issues | top-1 | top-3 | specificity | normal data |');
    io.out('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) io.out(`| ${r.scenario} | ${r.metric} | ${r.graph} | ${r.method} | ${r.issues} | ${pct(r.top1)} | ${pct(r.top3)} | ${pct(r.specificity)} | ${r.normalFrom} |`);
    // Pooled over scenarios and metrics (issue- and window-weighted), per graph and method.
    const { pool } = await import('./eval/tune.ts');
    const keys = [...new Set(rows.map((r) => `${r.graph}\u0000${r.method}`))];
    io.out('');
    io.out('| graph | method | issues | top-1 | top-3 | specificity (windows) |');
    io.out('|---|---|---|---|---|---|');
    for (const k of keys) {
      const [graph, method] = k.split('\u0000') as [string, EvalMethod];
      const p = pool({ method, rank: {} }, rows.filter((r) => r.graph === graph && r.method === method));
      io.out(`| ${graph} | ${method} | ${p.issues} | ${p.top1.toFixed(3)} | ${p.top3.toFixed(3)} | ${pct(p.specificity)} (${p.windows}) |`);
    }
    if (edges.length > 0) {
      io.out('');
      io.out('| scenario | graph | metric | edges | call-graph edges | precision | recall | skeleton precision | skeleton recall |');
      io.out('|---|---|---|---|---|---|---|---|---|');
      for (const e of edges) io.out(`| ${e.scenario} | ${e.graph} | ${e.metric} | ${e.predicted} | ${e.truth} | ${pct(e.precision)} | ${pct(e.recall)} | ${pct(e.skeletonPrecision)} | ${pct(e.skeletonRecall)} |`);
    }
    if (args.options.details === true) for (const d of details) io.out(`${d.scenario}/${d.issue} ${d.metric}: ${d.top1 ? 'top1' : d.top3 ? 'top3' : 'miss'} ${d.ranked.join(' > ')}${d.note ? ` (${d.note})` : ''}`);
    return 0;
  },
};

const tuneCmd: CliCommand = {
  name: 'rca tune',
  summary: 'Choose the ranking method and thresholds on one split of a corpus (the documented protocol: specificity ≥ the floor, a significant win over the standing default, then best top-1, top-3)',
  usage: '--dataset DIR [--split train] [--graph synth|truth] [--catalog DIR] [--min-specificity 0.9] [--alpha 0.05] [--json]',
  options: [
    { name: 'dataset', type: 'string', description: 'Folder in the PetShop layout (e.g. a generated lab corpus)', required: true, placeholder: 'DIR' },
    { name: 'split', type: 'string', description: 'Split to choose on (never the one reported)', default: 'train' },
    { name: 'graph', type: 'string', description: 'Graph kind: synth or truth', default: 'synth' },
    { name: 'catalog', type: 'string', description: 'Catalog folder for --graph synth (pipelines/lab/catalog for the lab corpus)', placeholder: 'DIR' },
    { name: 'min-specificity', type: 'number', description: 'Configurations below this specificity are out', default: 0.9 },
    { name: 'alpha', type: 'number', description: 'A configuration replaces the standing default only when it ranks more issues top-1 with one-sided McNemar p below this', default: 0.05 },
    { name: 'specificity-window', type: 'number', description: 'Rows of each fake incident window on no-issue data', default: 5 },
  ],
  async run(args, io) {
    const g = str(args, 'graph') ?? 'synth';
    if (g !== 'synth' && g !== 'truth') throw new UsageError(`--graph: expected synth or truth, got "${g}"`);
    const { runTune } = await import('./eval/run.ts');
    const { changesFrom, defaultGrid, describeConfig, discordant, mcnemarP, standingDefault } = await import('./eval/tune.ts');
    const t0 = Date.now();
    const { scores, chosen } = await runTune({
      dataset: resolve(str(args, 'dataset', true)!),
      graphs: [g],
      catalogDir: str(args, 'catalog') ?? petshopCatalogDir,
      split: str(args, 'split') ?? 'train',
      specificityWindow: num(args, 'specificity-window', 5),
      grid: defaultGrid(),
      minSpecificity: num(args, 'min-specificity', 0.9),
      alpha: num(args, 'alpha', 0.05),
      progress: (l) => io.err(l),
    });
    io.err(`rca tune: ${scores.length} configurations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (io.json) {
      for (const { hits: _hits, ...s } of scores) io.out(JSON.stringify({ ...s, chosen: s.config === chosen?.config }));
      return 0;
    }
    // Against the standing default: issues won / lost (top-1 here, not there / the reverse) and McNemar's p.
    const base = scores.find((s) => changesFrom(s.config, standingDefault) === 0 && s.hits);
    const vsBase = (s: (typeof scores)[number]): string => {
      if (!base || !s.hits) return 'n/a';
      if (s === base || changesFrom(s.config, standingDefault) === 0) return 'default';
      const { wins, losses } = discordant(s.hits, base.hits!);
      return `+${wins} / −${losses}, p ${mcnemarP(wins, losses).toFixed(3)}`;
    };
    io.out('| configuration | issues | top-1 | top-3 | specificity | against the default (won / lost, p) |');
    io.out('|---|---|---|---|---|---|');
    for (const s of scores) io.out(`| ${s === chosen ? '**' : ''}${describeConfig(s.config)}${s === chosen ? '** (chosen)' : ''} | ${s.issues} | ${s.top1.toFixed(3)} | ${s.top3.toFixed(3)} | ${pct(s.specificity)} | ${vsBase(s)} |`);
    if (!chosen) io.out('no configuration reaches the specificity floor');
    return 0;
  },
};

export const commands: CliCommand[] = [synthesize, show, rca, evalCmd, tuneCmd, corpusCommand, ...onlineCommands];

/**
 * The pipeline file of `panoptes run --config FILE`: a config file (the connection settings every
 * command reads: brokers, registry, topic prefix, …; core/config.ts) plus a `stages:` map naming
 * the stages this process runs, each with its options under its name:
 *
 * ```yaml
 * brokers: [127.0.0.1:9092]
 * stages:
 *   ingest: { listen: 127.0.0.1:9201 }
 *   detect: { threshold: 4 }
 *   incidents: {}
 * ```
 *
 * Why a `stages:` map rather than stage names at the top level: the top level stays exactly the
 * config file every other command reads (so `panoptes topics create --config pipeline.yaml` works
 * on the same cluster and prefix), a misspelt stage name cannot be mistaken for a misspelt
 * connection key (each gets its own "did you mean"), and a plain config file given to `run` is
 * told apart at once.
 *
 * Each stage's options are its own command's spec (the same declaration its CLI flags come from):
 * `stages.detect` takes what `panoptes detect` takes, `stages.incidents` what `incidents run`
 * takes, and so on. The whole file is validated before anything starts; every problem is reported
 * with its path (`stages.detect.threshold: expected a finite number > 0, got "high"`).
 */
import { resolve } from 'node:path';
import { alertsSpec, readAlertsSecrets, type AlertsOptions } from '../../connectors/alerts/index.ts';
import { ingestSpec, receiverOptionsOf, type IngestOptions } from '../../connectors/remote-write/index.ts';
import { loadConfig, readConfigFile, type Config } from '../core/config.ts';
import { ConfigError, isPanoptesError, UsageError, type ConfigIssue } from '../core/errors.ts';
import { didYouMean, type Field, type Spec } from '../core/spec.ts';
import { dashboardAuth, dashboardSpec, type DashboardOptions } from '../dashboard/index.ts';
import { baseOptionsOf, createBaseDetector, detectSpec, type DetectOptions } from '../detect/index.ts';
import { incidentsRunSpec, readDependencyEdges, type IncidentsRunOptions } from '../incidents/index.ts';
import { readRegistry, serveSpec, type ServeOptions } from '../inference/index.ts';
import { rcaRunSpec, readFallbackGraph, type RcaRunOptions } from '../rca/index.ts';

/** The stages a pipeline file may name, in the order records flow through them. */
export const STAGE_NAMES = ['ingest', 'detect', 'incidents', 'rca', 'alerts', 'serve', 'dashboard'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Each stage's option values, as its spec types them. */
export interface StageOptionsMap {
  ingest: IngestOptions;
  detect: DetectOptions;
  incidents: IncidentsRunOptions;
  rca: RcaRunOptions;
  alerts: AlertsOptions;
  serve: ServeOptions;
  dashboard: DashboardOptions;
}

export interface StageSpecEntry<N extends StageName = StageName> {
  name: N;
  /** The stage's own command, whose options these are. */
  command: string;
  spec: Spec<Record<string, Field>>;
  /**
   * What the spec cannot say: rules of running inside `run` and files that must be readable
   * (secrets, graphs). Issue paths are relative to the stage (`workers`, `graph`).
   */
  check?(o: StageOptionsMap[N]): ConfigIssue[];
}

/** Issues of a check that throws (a file that cannot be read, a bad base detector option), at `path`. */
function attempt(path: string, fn: () => unknown): ConfigIssue[] {
  try {
    fn();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => ({ path: path || i.path, message: i.message }));
    if (isPanoptesError(err)) return [{ path, message: err.message }];
    throw err;
  }
}

const spec = <S extends Record<string, Field>>(s: Spec<S>) => s as unknown as Spec<Record<string, Field>>;

export const STAGE_SPECS: { [N in StageName]: StageSpecEntry<N> } = {
  ingest: {
    name: 'ingest',
    command: 'ingest',
    spec: spec(ingestSpec),
    check: (o) => [
      ...(o.workers !== undefined && o.workers !== 1 ? [{ path: 'workers', message: 'run starts one receiver per process: run more copies of `panoptes run` (each needs its own listen address) instead' }] : []),
      ...(o.nullSink ? [{ path: 'nullSink', message: 'not in a pipeline: the detector would get nothing (use `panoptes ingest --null-sink` to measure the receiver alone)' }] : []),
      ...attempt('', () => receiverOptionsOf({ ...o, nullSink: false })),
    ],
  },
  detect: {
    name: 'detect',
    command: 'detect',
    spec: spec(detectSpec),
    check: (o) => {
      if (o.base === 'none') return [];
      try {
        createBaseDetector(o.base, baseOptionsOf(o));
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // The detector names its own keys (`robust-z.window`, `ewma.seasonMs`): back to the spec's.
        const own: Record<string, string> = { threshold: 'threshold', window: 'window', seasonMs: 'season' };
        return err.issues.map((i) => {
          const key = own[i.path.replace(`${o.base}.`, '')];
          return key ? { path: key, message: i.message } : { path: '', message: `${i.path}: ${i.message}` };
        });
      }
    },
  },
  incidents: {
    name: 'incidents',
    command: 'incidents run',
    spec: spec(incidentsRunSpec),
    check: (o) => (typeof o.graph === 'string' ? attempt('graph', () => readDependencyEdges(o.graph as string)) : []),
  },
  rca: {
    name: 'rca',
    command: 'rca run',
    spec: spec(rcaRunSpec),
    check: (o) => (typeof o.graph === 'string' ? attempt('graph', () => readFallbackGraph(o.graph as string)) : []),
  },
  alerts: {
    name: 'alerts',
    command: 'alerts',
    spec: spec(alertsSpec),
    check: (o) => attempt('', () => readAlertsSecrets(o)),
  },
  serve: {
    name: 'serve',
    command: 'serve',
    spec: spec(serveSpec),
    check: (o) => attempt('models', () => readRegistry(resolve(String(o.models)))),
  },
  dashboard: {
    name: 'dashboard',
    command: 'dashboard',
    spec: spec(dashboardSpec),
    check: (o) => [
      ...(o.demo ? [{ path: 'demo', message: 'not in a pipeline: the demo writes synthetic records into the topics the other stages read (use `panoptes dashboard --demo`)' }] : []),
      ...attempt('', () => dashboardAuth(o)),
    ],
  },
};

/** One stage of a checked pipeline file: its name and its options with every default filled in. */
export interface PipelineStage<N extends StageName = StageName> {
  name: N;
  options: StageOptionsMap[N];
}

export interface Pipeline {
  file: string;
  config: Config;
  /** In the order of STAGE_NAMES (the order records flow), whatever the file's order. */
  stages: PipelineStage[];
}

/**
 * Checks the `stages:` value of a pipeline file: every problem with its path (`stages.<name>.<key>`),
 * unknown stage names with a "did you mean". Pure apart from reading the files the options name.
 */
export function checkStages(raw: unknown): { stages: PipelineStage[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { stages: [], issues: [{ path: 'stages', message: `expected a mapping of stage names (${STAGE_NAMES.join(', ')}) to their options, got ${JSON.stringify(raw)}` }] };
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) issues.push({ path: 'stages', message: `names no stage (known: ${STAGE_NAMES.join(', ')})` });
  const found = new Map<StageName, PipelineStage>();
  for (const [name, value] of entries) {
    const entry = (STAGE_SPECS as Record<string, StageSpecEntry>)[name];
    if (!entry) {
      issues.push({ path: `stages.${name}`, message: `unknown stage${didYouMean(name, STAGE_NAMES)} (known stages: ${STAGE_NAMES.join(', ')})` });
      continue;
    }
    const path = `stages.${name}`;
    const r = entry.spec.check(value, path);
    issues.push(...r.issues);
    if (r.issues.length > 0) continue;
    const options = r.value as StageOptionsMap[StageName];
    const more = (entry.check as ((o: unknown) => ConfigIssue[]) | undefined)?.(options) ?? [];
    issues.push(...more.map((i) => ({ path: i.path ? `${path}.${i.path}` : path, message: i.message })));
    if (more.length === 0) found.set(entry.name, { name: entry.name, options } as PipelineStage);
  }
  return { stages: STAGE_NAMES.filter((n) => found.has(n)).map((n) => found.get(n)!), issues };
}

/**
 * Reads and checks a whole pipeline file: its connection settings (with the environment's
 * PANOPTES_* on top, as for every command) and its stages, all problems in one ConfigError. A file
 * without `stages:` is a UsageError: it is a plain config file.
 */
export function loadPipeline(file: string, env: NodeJS.ProcessEnv = process.env): Pipeline {
  const doc = readConfigFile(file);
  if (!('stages' in doc)) {
    const near = Object.keys(doc).filter((k) => didYouMean(k, ['stages']) !== '');
    if (near.length > 0) throw new ConfigError(near.map((k) => ({ path: k, message: `unknown key (did you mean stages?)` })));
    throw new UsageError(`${file} has no \`stages:\` map: it is a plain config file (connection settings only); \`panoptes run\` needs a pipeline file naming the stages to run, e.g. pipelines/run/pipeline.example.yaml`);
  }
  const issues: ConfigIssue[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig({ env, file });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues.push(...err.issues);
  }
  const r = checkStages(doc.stages);
  issues.push(...r.issues);
  if (issues.length > 0 || !config) throw new ConfigError(issues);
  return { file, config, stages: r.stages };
}

/** The stage option tables of pipelines/run/README.md: each stage's own command spec, under `stages.NAME`. */
export function stagesMarkdown(): string {
  const out: string[] = [];
  for (const name of STAGE_NAMES) {
    const e = STAGE_SPECS[name];
    out.push(`#### \`stages.${name}\``, '', `${e.spec.summary.replace(/\.?$/, '.')} The options of \`panoptes ${e.command}\`, under their config names (the flag column is the command's).`, '', e.spec.markdown(), '');
  }
  return out.join('\n').trimEnd();
}

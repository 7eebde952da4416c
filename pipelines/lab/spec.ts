/**
 * The lab's options, declared once (core/spec.ts): `panoptes lab run` and `panoptes lab list`
 * take their CLI options, typed values, validation and README table from here.
 */
import { defineSpec, f } from '../core/spec.ts';
import { TASKS } from './problems/problem.ts';
import { defaultRankMethod, rankMethods, type RankMethod } from '../rca/index.ts';

export const DEFAULT_BASE_PORT = 18800;
export const DEFAULT_OUT = 'runs';

const problems = f.string({ doc: 'Problem file (YAML, see the lab README); default: the shipped set, pipelines/lab/problems/problems.yaml.', placeholder: 'FILE', nonEmpty: true });
const task = f.enum(TASKS, { doc: 'Only problems of this task (lab run: with --all).' });
const split = f.enum(['train', 'held-out', 'all'] as const, {
  doc: 'Only this half of the problems (lab run: with --all): train (the agent\'s settings were chosen on it) or held-out (never tuned on); split per task by the SHA-256 of each id (pipelines/lab/problems/split.ts).',
  default: 'all',
});

export const LAB_LIST_SPEC = defineSpec('lab list', { problems, task, split }, { summary: 'List the problems of a problem file.' });

export const LAB_RUN_SPEC = defineSpec(
  'lab run',
  {
    problems,
    problem: f.list({ doc: 'Problem id(s) to run (repeatable; see `panoptes lab list`).', placeholder: 'ID' }),
    all: f.boolean({ doc: 'Run every problem of the file (with --task and --split: those only).' }),
    task,
    split,
    repeat: f.int({ doc: 'Run each problem N times with different seeds (seed, seed+1000, …); the report gives each figure\'s mean and spread.', default: 1, min: 1, max: 20, placeholder: 'N' }),
    transport: f.enum(['embedded', 'kafka'] as const, { doc: 'embedded (in-process topics) or kafka (real brokers, PANOPTES_BROKERS or 127.0.0.1:9092).', default: 'embedded' }),
    agent: f.enum(['panoptes', 'llm'] as const, { doc: 'panoptes (the pipeline as the agent) or llm (ReAct over pipelines/llm; needs OPENAI_API_KEY).', default: 'panoptes' }),
    out: f.string({ doc: 'Where reports and per-problem files go.', default: DEFAULT_OUT, placeholder: 'DIR', nonEmpty: true }),
    basePort: f.int({ doc: 'App services use base..base+12, Prometheus base+20, the receiver base+21.', default: DEFAULT_BASE_PORT, min: 1024, max: 65_000 }),
    warmupMs: f.int({ doc: 'Baseline under workload before the injection (ms).', default: 30_000, min: 5_000, max: 600_000, advanced: true }),
    budgetMs: f.int({ doc: 'Overrides every problem\'s budget (ms after the injection).', min: 5_000, max: 600_000, advanced: true }),
    rcaMethod: f.enum(rankMethods, { doc: "Ranking method of the pipeline's RCA stage (default: the rca stage's own, chosen on the lab corpus's train split).", default: defaultRankMethod, advanced: true }),
  },
  {
    summary: 'Run lab problems end to end and score them.',
    rules: (v) => {
      const out: Array<{ path: string; message: string }> = [];
      const ids = (v.problem as string[] | undefined) ?? [];
      if (!v.all && ids.length === 0) out.push({ path: 'problem', message: 'give --problem ID or --all (`panoptes lab list` shows the ids)' });
      if (v.all && ids.length > 0) out.push({ path: 'all', message: 'give --all or --problem, not both' });
      return out;
    },
  },
);

/**
 * The typed values of the two commands. (core/spec.ts's `Options` types a field without a default
 * as `unknown`; these name the types.)
 */
export interface LabListOptions {
  problems?: string;
  task?: (typeof TASKS)[number];
  split: 'train' | 'held-out' | 'all';
}
export interface LabRunOptions extends LabListOptions {
  problem?: string[];
  all?: boolean;
  repeat: number;
  transport: 'embedded' | 'kafka';
  agent: 'panoptes' | 'llm';
  out: string;
  basePort: number;
  warmupMs: number;
  budgetMs?: number;
  rcaMethod: RankMethod;
}

/** `panoptes rca corpus`: generate the lab RCA corpus (see generate.ts and the rca README). */
import { resolve } from 'node:path';
import type { CliCommand, ParsedArgs } from '../../core/cli-types.ts';
import { UsageError } from '../../core/errors.ts';
import { FAULT_KINDS, type FaultKind } from '../../lab/index.ts';
import { DEFAULT_TIMINGS, TEST_COMPONENTS, TRAFFIC_RPS, type Timings } from './plan.ts';

function list(args: ParsedArgs, name: string, dflt: string): string[] {
  const v = args.options[name];
  const s = v === undefined ? dflt : String(v);
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

function num(args: ParsedArgs, name: string, dflt: number, min: number, max: number): number {
  const v = args.options[name];
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

export const corpusCommand: CliCommand = {
  name: 'rca corpus',
  summary: 'Generate an RCA corpus from the lab: every fault kind on every component, in the PetShop layout',
  usage: '--out DIR [--seeds 1,2] [--traffic low,high] [--kinds K,…] [--base-port N]',
  options: [
    { name: 'out', type: 'string', description: 'Output folder (created; scenario folders in it are replaced)', required: true, placeholder: 'DIR' },
    { name: 'seeds', type: 'string', description: 'Seeds (workload, fault order), comma list', default: '1,2' },
    { name: 'traffic', type: 'string', description: `Traffic levels, comma list of ${Object.entries(TRAFFIC_RPS).map(([k, v]) => `${k} (${v} rps)`).join(', ')}`, default: 'low,high' },
    { name: 'kinds', type: 'string', description: `Fault kinds (default all: ${FAULT_KINDS.join(', ')})`, placeholder: 'K,…' },
    { name: 'base-port', type: 'number', description: 'Lab base port (services +0..6, proxies +10..12)', default: 27300 },
    { name: 'test-components', type: 'string', description: 'Root-cause components held out for the test split', default: TEST_COMPONENTS.join(',') },
    { name: 'noissue-s', type: 'number', description: 'No-incident seconds recorded per scenario', default: DEFAULT_TIMINGS.noissueS },
    { name: 'fault-s', type: 'number', description: 'Seconds each fault lasts', default: DEFAULT_TIMINGS.faultS },
    { name: 'pre-s', type: 'number', description: 'Seconds recorded before each injection', default: DEFAULT_TIMINGS.preS },
    { name: 'settle-s', type: 'number', description: 'Quiet seconds after each recovery (once healthy)', default: DEFAULT_TIMINGS.settleS },
    { name: 'max-minutes', type: 'number', description: 'Time budget of the whole run: no fault or scenario starts after it (what ran is written)', default: 60 },
    { name: 'relabel', type: 'boolean', description: 'Only re-choose the targets of the corpus in --out with the current rule (no lab run)', default: false },
    { name: 'window-s', type: 'number', description: 'Rate and quantile window of the signals (s)', default: DEFAULT_TIMINGS.windowS },
  ],
  help: 'Needs the lab prerequisites (PostgreSQL on 127.0.0.1:5432, Redis on 6379). Uses $PANOPTES_LAB_STATE, or <out>/.lab-state.json when unset. About 15 min per scenario with the defaults.',
  async run(args, io) {
    const out = resolve(String(args.options.out ?? ''));
    const seeds = list(args, 'seeds', '1,2').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new UsageError(`--seeds: expected integers, got "${s}"`);
      return n;
    });
    const traffic = list(args, 'traffic', 'low,high');
    for (const t of traffic) if (!(t in TRAFFIC_RPS)) throw new UsageError(`--traffic: expected ${Object.keys(TRAFFIC_RPS).join(' or ')}, got "${t}"`);
    const kindsArg = args.options.kinds === undefined ? undefined : list(args, 'kinds', '');
    for (const k of kindsArg ?? []) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown fault kind "${k}" (known: ${FAULT_KINDS.join(', ')})`);
    const timings: Partial<Timings> = {
      noissueS: num(args, 'noissue-s', DEFAULT_TIMINGS.noissueS, 20, 3600),
      faultS: num(args, 'fault-s', DEFAULT_TIMINGS.faultS, 2, 600),
      preS: num(args, 'pre-s', DEFAULT_TIMINGS.preS, 1, 600),
      settleS: num(args, 'settle-s', DEFAULT_TIMINGS.settleS, 0, 600),
      windowS: num(args, 'window-s', DEFAULT_TIMINGS.windowS, 1, 60),
    };
    const basePort = num(args, 'base-port', 27300, 1024, 65500);
    if (args.options.relabel === true) {
      const [{ relabelCorpus }, { LAB_TOPOLOGY }] = await Promise.all([import('./relabel.ts'), import('./generate.ts')]);
      const r = relabelCorpus(out, LAB_TOPOLOGY, (l) => io.err(l));
      io.out(io.json ? JSON.stringify(r) : `relabelled ${r.issues} issues in ${out}: ${r.changed} targets changed, ${r.noSymptom} moved to no-symptom/`);
      return 0;
    }
    process.env.PANOPTES_LAB_STATE ??= resolve(out, '.lab-state.json');
    const { generateCorpus } = await import('./generate.ts');
    const m = await generateCorpus(
      { out, basePort, deadlineMs: Date.now() + num(args, 'max-minutes', 60, 1, 24 * 60) * 60_000, seeds, traffic, kinds: kindsArg as FaultKind[] | undefined, timings, testComponents: list(args, 'test-components', TEST_COMPONENTS.join(',')), signal: io.signal, progress: (l) => io.err(l) },
      `panoptes rca corpus ${process.argv.slice(4).join(' ')}`.trim(),
    );
    const issues = m.scenarios.reduce((a, s) => ({ train: a.train + s.issues.train, test: a.test + s.issues.test }), { train: 0, test: 0 });
    const skipped = m.scenarios.reduce((a, s) => a + s.skipped.length, 0);
    if (io.json) io.out(JSON.stringify(m));
    else io.out(`corpus in ${out}: ${m.scenarios.length} scenarios, ${issues.train} train + ${issues.test} test issues, ${skipped} faults skipped (no visible symptom), ${m.seconds} s`);
    return io.signal.aborted ? 1 : 0;
  },
};

/**
 * Rule evaluation speed on one core: samples/s of the compiled rule (incremental windows) vs the
 * tree-walking reference interpreter (recomputes every window), same rule, same series, same run.
 * Two series: 1-minute steps (a 1h window holds 60 samples) and 5-second steps (720 samples).
 * Two rules with three 1h clauses: `and` (the usual shape; later clauses are short-circuited when
 * the first is false) and `or` (every clause evaluated on every sample).
 * Measured at two levels: RuleProgram.step (the evaluator alone) and SeriesDetector.update (input
 * filtering, `for` state, firing records and explanations included).
 * Rates are per second of this process's CPU time (what one core delivers, unaffected by other
 * processes taking turns on a shared machine); wall-clock rates are printed beside them.
 */
import { loadavg } from 'node:os';
import { CompiledProgram } from '../../pipelines/detect/rules/compiler.ts';
import type { RuleProgram } from '../../pipelines/detect/rules/program.ts';
import { ReferenceProgram } from '../../pipelines/detect/rules/reference.ts';
import { defineRule } from '../../pipelines/detect/rules/rule.ts';
import { SeriesDetector } from '../../pipelines/detect/engine/series-detector.ts';

const RULES = {
  and: 'value > mean(1h) + 3 * std(1h) and value > quantile(0.99, 1h) and max(1h) - min(1h) > 5 for 3',
  or: 'value > mean(1h) + 6 * std(1h) or value > quantile(0.999, 1h) + 100 or max(1h) - min(1h) > 1000',
  // Same shape without order statistics: what the O(1) aggregates cost on their own.
  'and-no-quantile': 'value > mean(1h) + 3 * std(1h) and max(1h) - min(1h) > 5 and value > ewma(30m) + 1 for 3',
};

function makeSeries(n: number, stepMs: number): { t: Float64Array; v: Float64Array } {
  let seed = 42;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  let level = 50;
  let spike = 0;
  for (let i = 0; i < n; i++) {
    t[i] = 1_700_000_000_000 + i * stepMs;
    level += (rnd() - 0.5) * 0.2;
    // Incidents of 4 samples, one per ~1000, so `for 3` rules fire and explanations are built.
    if (spike === 0 && rnd() < 0.001) spike = 4;
    v[i] = level + (rnd() - 0.5) * 4 + (spike > 0 ? 30 : 0);
    if (spike > 0) spike--;
  }
  return { t, v };
}

interface Timing {
  /** Samples per CPU second. */
  rate: number;
  /** Samples per wall-clock second. */
  wallRate: number;
  count: number;
}

/**
 * Times samples [warm, n) after running [0, warm): on a loaded machine the optimizing compiler
 * (a background thread) can take hundreds of thousands of samples to deliver, and the rate we
 * want is the steady state.
 */
function time(n: number, body: (i: number) => boolean, warmFraction: number): Timing {
  const warm = Math.floor(n * warmFraction);
  let count = 0;
  for (let i = 0; i < warm; i++) if (body(i)) count++;
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = warm; i < n; i++) if (body(i)) count++;
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  return { rate: (n - warm) / cpu, wallRate: (n - warm) / wall, count };
}

type S = { t: Float64Array; v: Float64Array };
const timeProgram = (p: RuleProgram, s: S, n: number, warm = 0.5) => time(n, (i) => p.step(s.t[i]!, s.v[i]!) === 1, warm);
const timeDetector = (d: SeriesDetector, s: S, n: number, warm = 0.5) => time(n, (i) => d.update(s.t[i]!, s.v[i]!).isAnomaly, warm);

const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(1)}k`);

/**
 * Fixed-size mode for instruction counts (wall and CPU time are noise on a shared machine):
 * PANOPTES_BENCH_RULES_FIXED=shape:step:n steps the compiled program over the first n samples of
 * a 2,000,000-sample series and prints nothing else. Run it under callgrind at two values of n; the
 * difference in instructions over the difference in n is the cost per sample, without start-up:
 *   PANOPTES_BENCH_RULES_FIXED=and:1m:100000 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --single-threaded --import tsx tests/bench/rules.bench.ts   (then :2000000)
 */
function runFixed(spec: string): void {
  const [shape, step, n] = spec.split(':');
  const expr = RULES[shape as keyof typeof RULES];
  const count = Number(n);
  if (expr === undefined || (step !== '1m' && step !== '5s') || !(count > 0 && count <= 2_000_000)) throw new Error(`PANOPTES_BENCH_RULES_FIXED=${spec}: want <${Object.keys(RULES).join('|')}>:<1m|5s>:<n ≤ 2000000>`);
  const s = makeSeries(2_000_000, step === '1m' ? 60_000 : 5_000);
  const p = new CompiledProgram(defineRule(expr, { id: `bench-${shape}` }));
  let trues = 0;
  for (let i = 0; i < count; i++) if (p.step(s.t[i]!, s.v[i]!) === 1) trues++;
  console.log(`fixed: '${shape}' rule, step ${step}, ${count} samples, true on ${trues}`);
}

export async function run(): Promise<void> {
  if (process.env.PANOPTES_BENCH_RULES_FIXED) return runFixed(process.env.PANOPTES_BENCH_RULES_FIXED);
  const results: Record<string, unknown>[] = [];
  const load = loadavg()[0]!;
  console.log(`load average ${load.toFixed(1)} (rates are per CPU-second of this process)`);
  const cases = [
    { step: '1m', stepMs: 60_000, window: 60, nCompiled: 1_200_000, nRef: 40_000 },
    { step: '5s', stepMs: 5_000, window: 720, nCompiled: 800_000, nRef: 6_000 },
  ];
  for (const c of cases) {
    const s = makeSeries(c.nCompiled, c.stepMs);
    for (const [shape, expr] of Object.entries(RULES)) {
      const rule = defineRule(expr, { id: `bench-${shape}` });
      const comp = timeProgram(new CompiledProgram(rule), s, c.nCompiled);
      const ref = timeProgram(new ReferenceProgram(rule), s, c.nRef, 0.125);
      // Same decisions on the prefix both ran, or the comparison would mean nothing.
      const check = timeProgram(new CompiledProgram(rule), s, c.nRef, 0.125);
      if (check.count !== ref.count) throw new Error(`compiled and reference disagree: ${check.count} vs ${ref.count} true samples`);
      const det = timeDetector(new SeriesDetector({ rules: [rule] }), s, c.nCompiled);
      const detRef = timeDetector(new SeriesDetector({ rules: [rule], backend: 'reference' }), s, c.nRef, 0.125);
      const ratio = comp.rate / ref.rate;
      console.log(
        `step ${c.step} (1h = ${c.window} samples), '${shape}' rule: compiled ${fmtRate(comp.rate)} samples/s, reference ${fmtRate(ref.rate)} samples/s, ratio ${ratio.toFixed(1)}x ` +
          `(wall clock: ${fmtRate(comp.wallRate)} vs ${fmtRate(ref.wallRate)}); ` +
          `SeriesDetector.update: compiled ${fmtRate(det.rate)}/s, reference ${fmtRate(detRef.rate)}/s (${det.count} anomalies in ${c.nCompiled} samples)`,
      );
      results.push({
        step: c.step, windowSamples: c.window, rule: shape, expr,
        compiledSamplesPerCpuSec: Math.round(comp.rate), referenceSamplesPerCpuSec: Math.round(ref.rate), ratio: Number(ratio.toFixed(2)),
        compiledSamplesPerWallSec: Math.round(comp.wallRate), referenceSamplesPerWallSec: Math.round(ref.wallRate),
        detectorCompiledSamplesPerCpuSec: Math.round(det.rate), detectorReferenceSamplesPerCpuSec: Math.round(detRef.rate),
        compiledSamples: c.nCompiled, referenceSamples: c.nRef,
      });
    }
  }
  console.log(`JSON: ${JSON.stringify({ bench: 'rules', loadAverage: load, results })}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();

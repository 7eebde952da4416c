import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createTrainingRun } from '../../../../pipelines/train/argos/run.ts';
import { trainSeries } from '../../../../pipelines/train/argos/trainer.ts';
import type { TrainSeriesInput } from '../../../../pipelines/train/argos/trainer.ts';
import { mechanicalRepair } from '../../../../pipelines/train/argos/offline-agents.ts';
import { niceBeyond } from '../../../../pipelines/train/argos/synthesizer.ts';
import { prepareRule } from '../../../../pipelines/detect/rules/rule.ts';
import { syntheticSeries } from './synthetic.ts';

function input(seed: number, o: Parameters<typeof syntheticSeries>[1] = {}): TrainSeriesInput {
  const s = syntheticSeries(seed, o);
  return { name: s.name, timestamps: s.timestamps, values: s.values, truth: s.truth, base: s.base, trainEnd: s.values.length };
}

const offline = () => createTrainingRun({ registry: new Registry(), provider: 'offline' });

test('offline training is deterministic: same data and seed give the same rules and decisions', async () => {
  const a = await trainSeries(input(11), offline(), { seed: 7 });
  const b = await trainSeries(input(11), offline(), { seed: 7 });
  assert.ok(a.trained.length > 0, 'something is learned on the synthetic series');
  assert.deepEqual(
    a.trained.map((r) => `${r.spec.id} ${r.canonical}`),
    b.trained.map((r) => `${r.spec.id} ${r.canonical}`),
  );
  const decisions = (r: typeof a) => r.report.iterations.map((it) => [it.chunk, it.candidates.map((c) => [c.expr, c.outcome])]);
  assert.deepEqual(decisions(a), decisions(b));
  const c = await trainSeries(input(11), offline(), { seed: 8 });
  assert.notDeepEqual(
    c.report.iterations.map((it) => it.chunk),
    a.report.iterations.map((it) => it.chunk),
    'another seed samples other chunks',
  );
});

test('the loop finds an FN rule for spikes the base misses and keeps only rules that raise fit F1', async () => {
  const r = await trainSeries(input(21, { baseRecall: 0, falseAlarms: 0, spikes: 12 }), offline(), { seed: 1 });
  const fn = r.trained.filter((x) => x.spec.kind === 'FN');
  assert.ok(fn.length > 0, 'an FN rule is kept');
  assert.ok((r.report.finalFit.eventF1 ?? 0) > (r.report.baseFit.eventF1 ?? 0));
  for (const it of r.report.iterations) {
    const acc = it.candidates.filter((c) => c.outcome === 'accepted');
    assert.ok(acc.length <= 1, 'at most one candidate kept per iteration');
    for (const c of acc) assert.ok(c.fit && c.fit.deltaF1 >= 0, 'a kept rule never lowers fit F1');
    for (const c of it.candidates) if (c.fit && c.fit.deltaF1 < 0) assert.equal(c.outcome, 'rejected');
  }
  // Every rule is in the rule language and compiles.
  for (const x of r.trained) assert.ok(prepareRule(x.spec).rule, x.canonical);
});

test('the loop finds an FP rule vetoing the base detector\'s false alarms', async () => {
  const r = await trainSeries(input(31, { baseRecall: 1, falseAlarms: 30, spikes: 10 }), offline(), { seed: 1 });
  assert.ok(r.trained.some((x) => x.spec.kind === 'FP'), `FP rule kept: ${r.trained.map((x) => x.canonical).join('; ')}`);
  assert.ok(r.report.finalFit.fpEvents < r.report.baseFit.fpEvents);
});

test('the report records iterations, candidates, review decisions, agent calls and the validation verdict', async () => {
  const run = offline();
  const r = await trainSeries(input(11), run, { seed: 7, iterations: 3, candidates: 2, patience: 10 });
  const rep = r.report;
  assert.equal(rep.iterations.length, 3);
  assert.ok(rep.iterations.every((it) => it.candidates.length === 2));
  assert.ok(rep.iterations.flatMap((it) => it.candidates).some((c) => c.review !== undefined), 'review agent consulted');
  assert.equal(rep.split.fitRows, Math.floor(3000 * 0.7), 'validation is the last 30% by default');
  assert.equal(rep.split.validationRows, 3000 - rep.split.fitRows);
  assert.ok(rep.usage.agents['argos-detection']!.calls >= 1);
  assert.equal(rep.usage.total.promptTokens, 0, 'offline calls cost no tokens');
  assert.equal(typeof rep.validation.passed, 'boolean');
  assert.deepEqual(rep.published, r.published.map((x) => x.spec.id));
  assert.match(JSON.stringify(rep), /"stoppedBecause"/);
});

test('gate proven-vetoes: FP rules that removed no false alarm on the validation split are dropped, FN rules stay', async () => {
  // On this series (seed 7) the loop keeps fp-1 and fn-1; the veto removes nothing on validation.
  const r = await trainSeries(input(11), offline(), { seed: 7, iterations: 3, candidates: 2, patience: 10, rangeRules: 'off' });
  assert.deepEqual(r.trained.map((x) => x.spec.id).sort(), ['fn-1', 'fp-1']);
  assert.ok(r.report.validation.passed, r.report.validation.reason);
  assert.deepEqual(r.published.map((x) => x.spec.id), ['fn-1']);
  assert.match(r.report.validation.reason, /^FP rules dropped: they removed no false-alarm run on the validation split/);
  const all = await trainSeries(input(11), offline(), { seed: 7, iterations: 3, candidates: 2, patience: 10, gate: 'at-least', rangeRules: 'off' });
  assert.deepEqual(all.published.map((x) => x.spec.id).sort(), ['fn-1', 'fp-1'], 'the at-least gate publishes the whole set');
});

test('training stops after `patience` iterations without a kept rule', async () => {
  // Nothing to learn: no labelled event, no base alarm.
  const s = input(41, { spikes: 0, falseAlarms: 0 });
  const r = await trainSeries(s, offline(), { iterations: 10, patience: 2, rangeRules: 'off' });
  assert.equal(r.report.iterations.length, 2);
  assert.equal(r.report.stoppedBecause, 'no gain for 2 iterations');
  assert.deepEqual(r.published, []);
  assert.equal(r.report.validation.reason, 'no rule was kept');
});

test('mechanical repair (the offline repair agent) fixes what the compiler points at', () => {
  const fix = (expr: string) => {
    const p = prepareRule({ id: 'r', kind: 'FN', severity: 'warning', description: '', expr });
    const errors = p.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n');
    return mechanicalRepair(expr, errors).expr;
  };
  for (const [bad, good] of [
    ['value > mean(1d) + 4 * std(1d', 'value > mean(1d) + 4 * std(1d)'],
    ['value > avg(1h) + 3 * stdev(1h)', 'value > mean(1h) + 3 * std(1h)'],
    ['value > 3 && value < 10', 'value > 3 and value < 10'],
    ['value > mean(1h) + 3 * std(1h for 3', 'value > mean(1h) + 3 * std(1h) for 3'],
  ] as const) {
    const out = fix(bad);
    assert.equal(out, good);
    assert.ok(prepareRule({ id: 'r', kind: 'FN', severity: 'warning', description: '', expr: out }).rule, `${bad} → ${out} compiles`);
  }
  assert.equal(mechanicalRepair('def f(x): return x', 'not a rule').fix, 'no mechanical fix applies');
});

test('niceBeyond rounds to 3 significant digits strictly past the value', () => {
  assert.equal(niceBeyond(5.1234, true), 5.12);
  assert.equal(niceBeyond(5.1234, false), 5.13);
  assert.equal(niceBeyond(5.12, true), 5.11);
  assert.equal(niceBeyond(-0.01234, false), -0.0123);
  assert.equal(niceBeyond(123456, true), 123000);
  assert.ok(niceBeyond(0, true) < 0 && niceBeyond(0, false) > 0);
});

test('fpEvidence: no veto is kept while the fit split shows no detected event it spares', async () => {
  const data = input(31, { baseRecall: 0, falseAlarms: 30, spikes: 0 });
  const plain = await trainSeries(data, offline(), { seed: 1, fpEvidence: false });
  assert.ok(plain.trained.some((x) => x.spec.kind === 'FP'), 'without the option an FP rule is learnt from false alarms alone');
  const guarded = await trainSeries(data, offline(), { seed: 1, fpEvidence: true });
  assert.equal(guarded.trained.filter((x) => x.spec.kind === 'FP').length, 0);
  const reasons = guarded.report.iterations.flatMap((it) => it.candidates.map((c) => c.reason));
  assert.ok(reasons.some((x) => /fpEvidence/.test(x)), reasons.join('\n'));
  assert.equal(guarded.report.options['fpEvidence'], 1);
  // With detected events on the fit split the veto is still learnt.
  const withEvents = await trainSeries(input(31, { baseRecall: 1, falseAlarms: 30, spikes: 10 }), offline(), { seed: 1, fpEvidence: true });
  assert.ok(withEvents.trained.some((x) => x.spec.kind === 'FP'));
});

test('fpRelative: the offline synthesizer proposes no absolute `value < c` veto', async () => {
  const data = input(31, { baseRecall: 1, falseAlarms: 30, spikes: 10 });
  const level = /^value < -?[\d.e+-]+$/;
  const plain = await trainSeries(data, offline(), { seed: 1, iterations: 6, patience: 6, fpRelative: false });
  const proposed = (r: typeof plain) => r.report.iterations.flatMap((it) => it.candidates.filter((c) => c.kind === 'FP' && c.expr).map((c) => c.expr!));
  assert.ok(proposed(plain).some((e) => level.test(e)), `without the option the level veto is a candidate: ${proposed(plain).join('; ')}`);
  const relative = await trainSeries(data, offline(), { seed: 1, iterations: 6, patience: 6, fpRelative: true });
  assert.ok(proposed(relative).length > 0);
  assert.ok(!proposed(relative).some((e) => level.test(e)), proposed(relative).join('; '));
  assert.equal(relative.report.options['fpRelative'], 1);
});

/** 2,000 rows around 10 (±1), a labelled new high at `spikeAt`; base labels all 0. */
function rangeSeries(spikeAt: number, normalExcursion?: number): TrainSeriesInput {
  const n = 2000;
  const timestamps = Float64Array.from({ length: n }, (_, i) => i * 60_000);
  const values = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i / 7));
  const truth = new Uint8Array(n);
  for (let i = spikeAt; i < spikeAt + 5; i++) values[i] = 30;
  truth.fill(1, spikeAt - 10, spikeAt + 15);
  // A normal (unlabelled) value past the fit range, in the validation split.
  if (normalExcursion !== undefined) values[normalExcursion] = 25;
  return { name: 'range', timestamps, values, truth, base: new Uint8Array(n), trainEnd: n };
}

test('range rules: value beyond every normal fit value is published when the validation split agrees', async () => {
  // Fit = rows 0..1399, validation 1400..1999 (validation 0.3); the labelled new high is in validation.
  const r = await trainSeries(rangeSeries(1700), offline(), { seed: 1, validationFraction: 0.3, rangeRules: 'both' });
  const recs = r.report.rangeRules;
  assert.deepEqual(recs.map((x) => x.side), ['above', 'below']);
  const above = recs.find((x) => x.side === 'above')!;
  assert.ok(above.extreme <= 11 && above.extreme > 10.9, `fit maximum outside labels ${above.extreme}`);
  assert.ok(above.bound > above.extreme && above.bound < 11.1, `bound just beyond it: ${above.bound}`);
  assert.equal(above.published, true, above.reason);
  assert.match(above.reason, /no alarm on a normal row/);
  const below = recs.find((x) => x.side === 'below')!;
  assert.ok(below.bound < below.extreme);
  const ids = r.published.map((x) => x.spec.id);
  assert.ok(ids.includes('range-above'));
  const rule = r.published.find((x) => x.spec.id === 'range-above')!;
  assert.equal(rule.spec.kind, 'FN');
  assert.equal(rule.canonical, `value > ${above.bound}`);
  assert.match(rule.spec.description, /higher than every normal value of the training data/);
});

test('range rules: one alarm on a normal validation row withholds the rule; off proposes none', async () => {
  const r = await trainSeries(rangeSeries(1700, 1500), offline(), { seed: 1, validationFraction: 0.3, rangeRules: 'above' });
  assert.equal(r.report.rangeRules.length, 1);
  const above = r.report.rangeRules[0]!;
  assert.equal(above.published, false);
  assert.match(above.reason, /alarms on 1 normal validation row/);
  assert.ok(!r.published.some((x) => x.spec.id === 'range-above'));
  const off = await trainSeries(rangeSeries(1700), offline(), { seed: 1, validationFraction: 0.3, rangeRules: 'off' });
  assert.deepEqual(off.report.rangeRules, []);
  assert.ok(!off.published.some((x) => x.spec.id.startsWith('range-')));
});

test('range rules: the labelled rows of the fit split do not widen the range', async () => {
  // The labelled high is in the fit split: the bound stays at the normal maximum, so the rule catches it.
  const r = await trainSeries(rangeSeries(600), offline(), { seed: 1, validationFraction: 0.3, rangeRules: 'above' });
  const above = r.report.rangeRules[0]!;
  assert.ok(above.extreme < 11, `labelled 30s left out of the range: ${above.extreme}`);
  assert.ok(above.fit!.after.tp >= 1, 'it detects the labelled fit event');
});

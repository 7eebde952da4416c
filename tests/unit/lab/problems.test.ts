/**
 * Problem files (issue 20): the format is checked as a whole (every error with its path and line),
 * a fault kind on a target it cannot apply to names both, the shipped set is the generator's
 * output and covers every applicable (fault, component) pair plus fault-free problems under every
 * shape, the training / held-out split is deterministic and balanced, and the summary keeps false
 * alarms apart from detection accuracy, with the mean and spread over repeats.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../pipelines/core/errors.ts';
import { applicablePairs, inapplicable } from '../../../pipelines/lab/faults/applicable.ts';
import { generateProblemSet, parseProblems, problemsToYaml, selectSplit, shippedProblems, SHIPPED_HEADER, SHIPPED_PROBLEMS_FILE, splitOf } from '../../../pipelines/lab/problems/index.ts';
import type { Problem } from '../../../pipelines/lab/problems/problem.ts';
import { scoreAnswer, spreadOf, summarize, type RunOutcome } from '../../../pipelines/lab/score/score.ts';
import { LAB_SERVICES } from '../../../pipelines/lab/app/topology.ts';

function issuesOf(text: string): string[] {
  try {
    parseProblems(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

describe('problem files', () => {
  it('reads the issue\'s example', () => {
    const ps = parseProblems(`problems:
  - id: latency-profile-localization        # unique; free text otherwise
    task: localization
    fault: {kind: latency, target: profile, params: {latencyMs: 400}}
    workload: {shape: poisson, rps: 12, seed: 7}
    budgetMs: 35000
  - id: quiet-detection
    task: detection
    fault: none
    workload: {shape: diurnal, rps: 12, seed: 8}
`);
    assert.equal(ps.length, 2);
    assert.deepEqual(ps[0]!.fault, { kind: 'latency', target: 'profile', params: { latencyMs: 400 } });
    assert.equal(ps[1]!.fault, null);
    assert.equal(ps[1]!.budgetMs, 35_000);
    assert.equal(ps[1]!.workload.shape, 'diurnal');
    assert.match(ps[1]!.description, /no fault/);
  });

  it('reports every error at once, each with its path and line', () => {
    const issues = issuesOf(`problems:
  - id: a
    task: mitigation
    fault: {kind: slow-db, target: redis}
    workload: {shape: poison, rps: -1}
  - id: a
    task: localisation
    fault: none
    workload: {shape: burst, seed: 1}
    budget: 3
  - id: c
    task: rca
    fault: {kind: latency, target: search, params: {latencyMs: 0, foo: 1}}
    workload: {shape: burst, seed: 1}
`);
    const expect = [
      /^problems\[0\]\.fault\.target \(line 4\): fault slow-db cannot apply to redis/,
      /^problems\[0\]\.workload\.seed \(line 5\): is required/,
      /^problems\[0\]\.workload\.shape \(line 5\): expected one of poisson, diurnal, burst, got "poison"/,
      /^problems\[0\]\.workload\.rps \(line 5\): expected a finite number > 0/,
      /^problems\[1\]\.budget \(line 10\): unknown key \(did you mean budgetMs\?\)/,
      /^problems\[1\]\.id \(line 6\): duplicate id "a" \(also problems\[0\]\)/,
      /^problems\[1\]\.task \(line 7\): expected one of detection, localization, rca, mitigation/,
      /^problems\[2\]\.fault\.params\.foo \(line 13\): unknown key/,
      /^problems\[2\]\.fault\.params\.latencyMs \(line 13\): expected an integer from 1 to 10000, got 0/,
    ];
    for (const re of expect) assert.ok(issues.some((i) => re.test(i)), `${re} in\n${issues.join('\n')}`);
    assert.equal(issues.length, expect.length, issues.join('\n'));
  });

  it('a fault kind on a target it cannot apply to is an error naming both', () => {
    for (const [kind, target] of [['misconfig', 'geo'], ['crash', 'postgres'], ['redis-down', 'postgres'], ['latency', 'redis'], ['db-down', 'frontend']] as const) {
      const issues = issuesOf(`problems:\n  - {id: x, task: detection, fault: {kind: ${kind}, target: ${target}}, workload: {shape: poisson, seed: 1}}\n`);
      assert.equal(issues.length, 1, issues.join('\n'));
      assert.match(issues[0]!, new RegExp(`^problems\\[0\\]\\.fault\\.target \\(line 2\\): fault ${kind} cannot apply to ${target}`));
    }
    assert.match(issuesOf('problems:\n  - {id: x, task: mitigation, fault: {kind: db-down, target: postgres}, workload: {shape: poisson, seed: 1}}\n')[0]!, /mitigation problem needs a fault an agent may undo/);
    assert.match(issuesOf('problems:\n  - {id: x, task: rca, fault: {kind: misconfig, target: search, params: {dependency: postgres}}, workload: {shape: poisson, seed: 1}}\n')[0]!, /search does not use postgres/);
    assert.match(issuesOf('problems: [1]\n')[0]!, /problems\[0\] \(line 1\): expected a mapping/);
    assert.match(issuesOf('problem: []\n')[0]!, /unknown key \(did you mean problems\?\)/);
    assert.match(issuesOf('problems:\n  - {id: x\n')[0]!, /YAML/);
  });

  it('the shipped file is the generator\'s output (regenerate with problems/write-set.ts)', () => {
    assert.equal(readFileSync(SHIPPED_PROBLEMS_FILE, 'utf8'), problemsToYaml(generateProblemSet(), SHIPPED_HEADER));
    assert.deepEqual(shippedProblems(), generateProblemSet());
  });

  it('the shipped set: ≥ 60 problems, every applicable (fault, component) pair but hang, fault-free ones under each shape', () => {
    const ps = shippedProblems();
    assert.ok(ps.length >= 60, `${ps.length}`);
    const pairs = new Set(ps.filter((p) => p.fault).map((p) => `${p.fault!.kind}/${p.fault!.target}`));
    for (const { kind, target } of applicablePairs()) if (kind !== 'hang') assert.ok(pairs.has(`${kind}/${target}`), `${kind}/${target} missing`);
    for (const kind of ['latency', 'errors', 'crash', 'cpu-hog', 'memory-leak', 'scale-zero'] as const) for (const s of LAB_SERVICES) assert.equal(inapplicable(kind, s), null);
    for (const shape of ['poisson', 'diurnal', 'burst']) assert.ok(ps.some((p) => !p.fault && p.workload.shape === shape && p.task === 'detection'), shape);
    assert.equal(new Set(ps.map((p) => p.workload.seed)).size, ps.length, 'seeds differ');
  });

  it('splits deterministically into balanced halves with pairs never seen in training', () => {
    const ps = shippedProblems();
    const a = splitOf(ps);
    assert.deepEqual(splitOf([...ps].reverse()), a, 'independent of the order');
    const train = selectSplit(ps, 'train');
    const held = selectSplit(ps, 'held-out');
    assert.equal(train.length + held.length, ps.length);
    assert.equal(new Set([...train, ...held].map((p) => p.id)).size, ps.length);
    for (const task of ['detection', 'localization', 'rca', 'mitigation']) {
      const t = train.filter((p) => p.task === task).length;
      const h = held.filter((p) => p.task === task).length;
      assert.ok(t - h >= 0 && t - h <= 4, `${task}: ${t} vs ${h}`);
      assert.ok(h >= 5, `${task}: ${h} held out`);
    }
    for (const shape of ['poisson', 'diurnal', 'burst']) assert.ok(held.some((p) => !p.fault && p.workload.shape === shape), `fault-free ${shape} held out`);
    const key = (p: Problem) => `${p.fault?.kind}/${p.fault?.target}/${p.task}`;
    const trained = new Set(train.filter((p) => p.fault).map(key));
    assert.ok(held.filter((p) => p.fault).every((p) => !trained.has(key(p))));
  });
});

describe('scores over runs and repeats', () => {
  const prob = (id: string, fault: Problem['fault']): Problem => ({ id, task: 'detection', fault, workload: { shape: 'poisson', rps: 12, durationMs: 0, seed: 1 }, description: '', budgetMs: 1 });
  const d = { kind: 'crash' as const, component: 'geo' as const, signals: [], layer: 'application' as const, faultType: 'operation-error' as const, mitigation: { op: 'restart' as const, target: 'geo' as const }, text: '' };
  const out = (p: Problem, detected: boolean, ttd: number | null): RunOutcome => ({ problem: p, score: scoreAnswer(p, p.fault ? d : null, { detected }), ttdMs: ttd, ttlMs: null, ttmMs: null, steps: 1, tokens: { input: 0, output: 0 } });

  it('keeps detection accuracy, false-alarm rate and time to detect apart', () => {
    const f1 = prob('f1', { kind: 'crash', target: 'geo' });
    const f2 = prob('f2', { kind: 'crash', target: 'geo' });
    const q1 = prob('q1', null);
    const q2 = prob('q2', null);
    const s = summarize([out(f1, true, 3000), out(f2, false, null), out(q1, false, null), out(q2, true, null)]);
    assert.equal(s.byTask.detection.accuracy, 0.5);
    assert.deepEqual(s.detection, { faulty: 2, detected: 1, faultFree: 2, falseAlarms: 1, falseAlarmRate: 0.5, recall: 0.5 });
    assert.equal(s.meanTtdS, 3);
  });

  it('gives the mean and spread of each figure over repeats', () => {
    const f = prob('f', { kind: 'crash', target: 'geo' });
    const q = prob('q', null);
    const r1 = summarize([out(f, true, 2000), out(q, false, null)]);
    const r2 = summarize([out(f, true, 4000), out(q, true, null)]);
    const sp = spreadOf([r1, r2]);
    assert.deepEqual(sp.detectionAccuracy.values, [1, 0.5]);
    assert.equal(sp.detectionAccuracy.mean, 0.75);
    assert.ok(Math.abs(sp.detectionAccuracy.sd! - Math.SQRT1_2 / 2) < 1e-12);
    assert.deepEqual([sp.falseAlarmRate.min, sp.falseAlarmRate.max], [0, 1]);
    assert.equal(sp.ttdS.mean, 3);
    assert.equal(sp.rca.mean, null);
  });
});

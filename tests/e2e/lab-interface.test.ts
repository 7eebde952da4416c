/**
 * The agent-cloud interface's guard rails and AIOpsLab's scoring, without the application:
 * exec refuses anything outside the allow-list (and never reaches the app), and the evaluators
 * score as AIOpsLab does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentCloud } from '../../pipelines/lab/interface/cloud.ts';
import { ExecRefused, parseExec } from '../../pipelines/lab/interface/exec.ts';
import { shippedProblems, TASKS, type Problem, type Task } from '../../pipelines/lab/problems/index.ts';
import { localizationAccuracy, scoreAnswer } from '../../pipelines/lab/score/score.ts';
import { blameOrder, faultKindOf, evidenceFor, mitigationFor } from '../../pipelines/lab/agents/diagnose.ts';
import type { FaultDescription, FaultSpec, ServiceInfo } from '../../pipelines/lab/types.ts';
import type { Anomaly } from '../../pipelines/core/records.ts';

const SERVICES = ['frontend', 'search', 'geo', 'rate', 'profile', 'reservation', 'user'];

function fakeApp() {
  const calls: string[] = [];
  return {
    calls,
    app: {
      services: () => SERVICES.map((name, i) => ({ name, port: 1 + i, url: '', pid: 1, workers: 4, calls: [], stores: [] }) as unknown as ServiceInfo),
      logs: () => [],
      restart: async (s: string) => void calls.push(`restart ${s}`),
      rollbackConfig: async (s: string) => void calls.push(`rollback ${s}`),
      scale: async (s: string, n: number) => void calls.push(`scale ${s} ${n}`),
    },
  };
}

function cloudWith(app: ReturnType<typeof fakeApp>['app']) {
  return new AgentCloud({ task: 'mitigation', app: app as never, prometheus: null, pipeline: { anomalies: () => [], incidents: () => [], rca: () => [] }, injectedAtMs: Date.now() });
}

describe('lab exec allow-list', () => {
  it('accepts exactly the three operations on lab services', () => {
    assert.deepEqual(parseExec('restart geo', SERVICES), { op: 'restart', service: 'geo' });
    assert.deepEqual(parseExec('  rollback-config search ', SERVICES), { op: 'rollback-config', service: 'search' });
    assert.deepEqual(parseExec('scale rate 4', SERVICES), { op: 'scale', service: 'rate', workers: 4 });
  });

  it('refuses anything else with a clear error, and the app is never touched', async () => {
    const { app, calls } = fakeApp();
    const cloud = cloudWith(app);
    for (const cmd of ['rm -rf /', 'kill -9 1', 'restart geo; rm -rf /', 'restart postgres', 'restart kafka', 'scale rate 0', 'scale rate 99', 'scale rate two', 'restart', 'restart geo now', 'curl http://example.org', 'restart $(id)', 'systemctl stop redis']) {
      await assert.rejects(cloud.exec(cmd), (e: unknown) => e instanceof ExecRefused && /exec refused/.test((e as Error).message) && /allowed: restart <service>/.test((e as Error).message), cmd);
    }
    assert.deepEqual(calls, []);
    assert.equal(cloud.steps.length, 13);
    assert.ok(cloud.steps.every((s) => s.action === 'exec' && !s.ok));
    assert.equal(await cloud.exec('restart geo'), 'done: restart geo');
    assert.deepEqual(calls, ['restart geo']);
  });

  it('counts only the first submission', () => {
    const cloud = cloudWith(fakeApp().app);
    cloud.submit({ detected: true });
    cloud.submit({ detected: false });
    assert.deepEqual(cloud.submission?.answer, { detected: true });
    assert.equal(cloud.steps.filter((s) => s.action === 'submit' && s.ok).length, 1);
  });
});

const prob = (task: Task, fault: FaultSpec | null): Problem => ({ id: 'p', task, fault, workload: { shape: 'poisson', rps: 12, durationMs: 0, seed: 1 }, description: '', budgetMs: 35_000 });
const crashGeo: FaultSpec = { kind: 'crash', target: 'geo' };

describe('lab problems and scoring', () => {
  it('ships at least 60 problems over every fault kind, all four tasks and fault-free ones, with unique ids', () => {
    const ps = shippedProblems();
    assert.ok(ps.length >= 60);
    assert.ok(new Set(ps.map((p) => p.fault?.kind)).size >= 10);
    assert.deepEqual(new Set(ps.map((p) => p.task)), new Set(TASKS));
    assert.equal(new Set(ps.map((p) => p.id)).size, ps.length);
    assert.ok(ps.some((p) => p.id === 'crash-geo-localization'), 'npm start\'s problem');
  });

  it('scores localization as AIOpsLab (1 for the exact answer, 1/len for a longer list holding it)', () => {
    assert.deepEqual(localizationAccuracy(['geo'], 'geo'), { accuracy: 1, top1: true, top3: true });
    assert.deepEqual(localizationAccuracy(['search', 'geo'], 'geo'), { accuracy: 0.5, top1: false, top3: true });
    assert.deepEqual(localizationAccuracy(['a', 'b', 'c', 'geo'], 'geo'), { accuracy: 0.25, top1: false, top3: false });
    assert.deepEqual(localizationAccuracy([], 'geo'), { accuracy: 0, top1: false, top3: false });
  });

  it('scores rca on component and fault kind, detection on yes, mitigation on the live probe only', () => {
    const d: FaultDescription = { kind: 'crash', component: 'geo', signals: ['up'], layer: 'application', faultType: 'operation-error', mitigation: { op: 'restart', target: 'geo' }, text: '' };
    assert.equal(scoreAnswer(prob('rca', crashGeo), d, { component: 'geo', faultKind: 'crash' }).score, 1);
    assert.equal(scoreAnswer(prob('rca', crashGeo), d, { component: 'geo', faultKind: 'latency' }).score, 0);
    assert.equal(scoreAnswer(prob('detection', crashGeo), d, { detected: false }).score, 0);
    assert.equal(scoreAnswer(prob('detection', crashGeo), d, null).reason, 'no answer submitted within the budget');
    assert.equal(scoreAnswer(prob('mitigation', crashGeo), d, { note: 'did it' }).score, 0);
    assert.equal(scoreAnswer(prob('mitigation', crashGeo), d, null, { ok: true, detail: 'back to normal' }).score, 1);
  });

  it('scores a fault-free detection problem 1 only for "no fault"; "fault" is a false alarm, silence a miss', () => {
    const quiet = prob('detection', null);
    const no = scoreAnswer(quiet, null, { detected: false });
    assert.equal(no.score, 1);
    assert.deepEqual(no.detection, { correct: true, faultFree: true, falseAlarm: false });
    const yes = scoreAnswer(quiet, null, { detected: true });
    assert.equal(yes.score, 0);
    assert.deepEqual(yes.detection, { correct: false, faultFree: true, falseAlarm: true });
    assert.equal(scoreAnswer(quiet, null, null).score, 0);
  });
});

describe('Panoptes agent diagnosis', () => {
  const an = (component: string, signal: string, value: number, ruleId: string | null = null): Anomaly => ({ id: `${component}${signal}`, fingerprint: `${component}:${signal}`, labels: { component, signal }, timestampMs: 1, value, ruleId, ruleVersion: null, ruleKind: null, severity: 'warning', detector: 'robust-z', baseScore: 10, explanation: '', clauses: [], detectedAtMs: 1 });

  it('blames a component that went down before its callers', () => {
    assert.deepEqual(blameOrder(['search', 'frontend'], [an('search', 'errors', 0.3), an('geo', 'up', 0)]), ['geo', 'search', 'frontend']);
  });

  it('names the fault kind from the evidence and picks the allow-listed action', () => {
    assert.equal(faultKindOf(evidenceFor('geo', [an('geo', 'up', 0)], [])), 'crash');
    assert.equal(faultKindOf(evidenceFor('search', [an('search', 'errors', 0.9)], [{ level: 'error', msg: 'request failed', error: '127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1' }])), 'misconfig');
    assert.equal(faultKindOf(evidenceFor('reservation', [an('reservation', 'memory', 5e8, 'lab-memory')], [])), 'memory-leak');
    assert.equal(faultKindOf(evidenceFor('postgres', [an('postgres', 'latency', 0.4)], [])), 'slow-db');
    assert.equal(faultKindOf(evidenceFor('rate', [an('rate', 'errors', 1)], [{ level: 'error', msg: 'request failed', error: 'no workers (scaled to zero)' }])), 'scale-zero');
    // A caller relaying the refusal is not the one scaled to zero.
    assert.notEqual(faultKindOf(evidenceFor('frontend', [an('frontend', 'errors', 0.5)], [{ level: 'error', msg: 'request failed', error: '127.0.0.1:3/rates answered 503: {"error":"no workers (scaled to zero)"}' }])), 'scale-zero');
    assert.deepEqual(mitigationFor('search', 'misconfig'), { op: 'rollback-config', service: 'search' });
    assert.deepEqual(mitigationFor('geo', 'crash'), { op: 'restart', service: 'geo' });
    assert.equal(mitigationFor('postgres', 'slow-db'), null);
  });
});

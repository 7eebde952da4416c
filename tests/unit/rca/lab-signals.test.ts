/** Signals of the lab (pipelines/lab): `up` (process liveness) and series flat in normal data (errors at 0). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricDirection } from '../../../pipelines/rca/rank/anomaly.ts';
import type { PairQuestion } from '../../../pipelines/rca/synth/judge.ts';
import { metricFamily, OfflineJudge } from '../../../pipelines/rca/synth/offline-judge.ts';

const view = (component: string, metric: string) => ({ component, metric, kind: 'service', type: 'http-service', description: '' }) as unknown as PairQuestion['a'];

test('`up` is liveness: down is bad, a callee that is down raises its caller\'s errors, not its caller\'s up', async () => {
  assert.equal(metricFamily('up'), 'liveness');
  assert.equal(metricFamily('uptime_seconds'), 'other', 'only the exact name');
  assert.equal(metricDirection('up'), 'down');
  const j = new OfflineJudge();
  const q = (a: string, b: string): PairQuestion => ({ interaction: 'service→service', a: view('search', a), b: view('geo', b), relation: 'nearby hotels' }) as PairQuestion;
  assert.equal((await j.judge(q('errors', 'up'))).verdict, 'B_CAUSES_A');
  assert.equal((await j.judge(q('up', 'up'))).verdict, 'NONE', 'the caller stays up');
  assert.equal((await j.judge(q('availability', 'up'))).verdict, 'B_CAUSES_A');
  assert.equal((await j.judge(q('errors', 'availability'))).verdict, 'B_CAUSES_A');
  const within = (a: string, b: string): PairQuestion => ({ interaction: 'within', a: view('geo', a), b: view('geo', b), relation: '' }) as PairQuestion;
  assert.equal((await j.judge(within('memory', 'up'))).verdict, 'A_CAUSES_B', 'a leak ends in the process being killed');
  assert.equal((await j.judge(q('latency', 'up'))).verdict, 'NONE');
  assert.equal((await j.judge(q('errors', 'errors'))).verdict, 'B_CAUSES_A');
});

test('attribution on a node flat in normal data scores its change against its level, not the 1e6 cap', async () => {
  const { fitMechanism, residualScore } = await import('../../../pipelines/rca/rank/attribution.ts');
  const n = 50;
  const normal = { timestamps: Array.from({ length: n }, (_, i) => i), series: new Map([['search:errors', new Array<number>(n).fill(0)], ['geo:up', new Array<number>(n).fill(1)]]) };
  const failure = { timestamps: [n], series: new Map([['search:errors', [0.5]], ['geo:up', [0]]]) };
  const errs = fitMechanism(normal, 'search:errors', ['geo:up'])!;
  assert.equal(Math.round(residualScore(errs, failure, 'search:errors', 0)), 500);
  const up = fitMechanism(normal, 'geo:up', [])!;
  assert.equal(Math.round(residualScore(up, failure, 'geo:up', 0)), 1000, 'up 1 → 0 is 1000 thousandths of its level');
});

/**
 * The offline provider: answers the agents' three-way question from how requests, latency,
 * errors and load travel in a call graph, with no model. Deterministic.
 *
 * Between a caller A and its callee B: the callee's latency adds to the caller's, the callee's
 * errors surface as the caller's (and so does its unavailability), and the caller's traffic is the callee's load. Inside one
 * component: load drives saturation, and saturation raises latency and errors.
 */
import type { CausalJudge, JudgeAnswer, PairQuestion } from './judge.ts';

type Family = 'latency' | 'availability' | 'errors' | 'requests' | 'saturation' | 'liveness' | 'other';

export function metricFamily(metric: string): Family {
  const m = metric.toLowerCase();
  if (/(latency|duration|response_time|rt$)/.test(m)) return 'latency';
  // `up` (Prometheus's scrape health, 1/0): whether the process is there at all. Not a success
  // ratio: a caller stays up when its callee is down, it only fails its calls.
  if (/^up$/.test(m)) return 'liveness';
  if (/(availability|success)/.test(m)) return 'availability';
  if (/(error|fail|5xx|fault)/.test(m)) return 'errors';
  if (/(requests|throughput|rps|qps|traffic|invocations|calls)/.test(m)) return 'requests';
  if (/(saturation|utili[sz]ation|cpu|memory|connections|queue|capacity)/.test(m)) return 'saturation';
  return 'other';
}

function ans(verdict: JudgeAnswer['verdict'], reason: string): JudgeAnswer {
  return { verdict, confidence: 1, reason };
}

export class OfflineJudge implements CausalJudge {
  readonly name = 'offline';

  async judge(q: PairQuestion): Promise<JudgeAnswer> {
    const fa = metricFamily(q.a.metric);
    const fb = metricFamily(q.b.metric);
    if (q.interaction === 'within') {
      if (fa === 'requests' && fb === 'saturation') return ans('A_CAUSES_B', `more requests to ${q.a.component} use more of its capacity`);
      if (fa === 'saturation' && fb === 'requests') return ans('B_CAUSES_A', `more requests to ${q.a.component} use more of its capacity`);
      if (fa === 'saturation' && (fb === 'latency' || fb === 'availability' || fb === 'errors')) return ans('A_CAUSES_B', `a saturated ${q.a.component} queues work (slower) and sheds it (errors)`);
      if (fb === 'saturation' && (fa === 'latency' || fa === 'availability' || fa === 'errors')) return ans('B_CAUSES_A', `a saturated ${q.a.component} queues work (slower) and sheds it (errors)`);
      if (fa === 'saturation' && fb === 'liveness') return ans('A_CAUSES_B', `an exhausted ${q.a.component} (memory, CPU) stops answering or is killed`);
      if (fb === 'saturation' && fa === 'liveness') return ans('B_CAUSES_A', `an exhausted ${q.a.component} (memory, CPU) stops answering or is killed`);
      return ans('NONE', 'no direct mechanism between these metrics of one component');
    }
    const via = q.relation ? ` (${q.relation})` : '';
    if (fa === 'latency' && fb === 'latency') return ans('B_CAUSES_A', `${q.a.component} waits for ${q.b.component}${via}: the callee's latency adds to the caller's`);
    if ((fa === 'availability' || fa === 'errors') && fa === fb) return ans('B_CAUSES_A', `failed calls to ${q.b.component}${via} surface as failures of ${q.a.component}`);
    // A callee that is down fails every call to it: the caller's errors rise, its success falls.
    if (fb === 'liveness' && (fa === 'errors' || fa === 'availability')) return ans('B_CAUSES_A', `calls to ${q.b.component}${via} fail while its process is down, so ${q.a.component} answers with errors`);
    if (fa === 'errors' && fb === 'availability') return ans('B_CAUSES_A', `calls to ${q.b.component}${via} fail while it is unavailable, so ${q.a.component} answers with errors`);
    if (fa === 'requests' && fb === 'requests') return ans('A_CAUSES_B', `every request ${q.a.component} sends is load on ${q.b.component}${via}`);
    if (fa === 'requests' && fb === 'saturation') return ans('A_CAUSES_B', `traffic from ${q.a.component} uses capacity of ${q.b.component}${via}`);
    return ans('NONE', 'influence, if any, is indirect (through the callee\'s own load or saturation)');
  }
}

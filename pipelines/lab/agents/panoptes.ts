/**
 * The Panoptes pipeline as an AIOpsLab agent. It watches what the pipeline publishes (anomalies,
 * incidents, ranked root causes) through the interface and answers:
 *   detection     yes once series are flagged repeatedly by the rules that were quiet before the
 *                 call (agents/detection.ts); no if none by the deadline;
 *   localization  the components of the newest rca ranking (anomaly-based order as a fallback);
 *   rca           the top component and the fault kind its evidence points to (diagnose.ts);
 *   mitigation    the allow-listed action for that component and kind, then submit.
 * For localization/rca it waits for an rca result until a few seconds before the deadline.
 */
import type { AgentCloud } from '../interface/cloud.ts';
import { formatExec } from '../interface/exec.ts';
import { sleep, type LabAgent } from './agent.ts';
import { DETECTION_SETTINGS, detectionVerdict, markOf } from './detection.ts';
import { blameOrder, componentsFromAnomalies, componentsFromRca, evidenceFor, faultKindOf, mitigationFor } from './diagnose.ts';

const POLL_MS = 500;
/** Before the deadline, answer from the anomalies alone if no rca result came. */
const FALLBACK_MARGIN_MS = 4000;
/** How long after the first ranking the agent waits for the incident to settle. */
const SETTLE_MS = 6000;

export class PanoptesAgent implements LabAgent {
  readonly name = 'panoptes';

  async solve(cloud: AgentCloud, deadlineMs: number, signal: AbortSignal): Promise<void> {
    const task = cloud.task;
    let firstRankingAt: number | null = null;
    cloud.subscribe(task === 'detection' ? ['anomalies'] : ['anomalies', 'incidents', 'rca']);
    if (task === 'detection') cloud.getAnomalyHistory(DETECTION_SETTINGS.lookbackMs); // one recorded step: the baseline
    while (!signal.aborted && !cloud.submission) {
      const late = Date.now() >= deadlineMs - FALLBACK_MARGIN_MS;
      const anomalies = cloud.getAnomalies(true);
      if (task === 'detection') {
        const v = detectionVerdict(anomalies.map(markOf), cloud.getAnomalyHistory(DETECTION_SETTINGS.lookbackMs, true).map(markOf));
        if (v.fault) cloud.submit({ detected: true, note: v.why });
        else if (late) cloud.submit({ detected: false, note: v.why });
      } else {
        // Only rankings made after the first anomaly of this fault: an incident left over from
        // the warm-up's noise must not decide the answer (nor the action).
        const since = anomalies.length > 0 ? Math.min(...anomalies.map((a) => a.detectedAtMs || a.timestampMs)) : Infinity;
        const results = cloud.getRca(true).filter((r) => r.causes.length > 0 && r.producedAtMs >= since);
        // The first ranking comes from the first anomalies; give the incident a few seconds to
        // gather the rest before answering from the newest ranking.
        firstRankingAt ??= results.length > 0 ? Date.now() : null;
        const settled = firstRankingAt !== null && (Date.now() - firstRankingAt >= SETTLE_MS || late);
        const ranked = settled ? componentsFromRca(results) : [];
        if (ranked.length > 0 || late) {
          const downNow = await this.downNow(cloud);
          const components = ranked.length > 0 ? blameOrder(ranked, anomalies, 3, downNow) : blameOrder(componentsFromAnomalies(anomalies), anomalies, 3, downNow);
          const via = ranked.length > 0 ? (components[0] !== ranked[0] ? 'rca ranking, with the component that is down first' : 'rca ranking') : 'anomalies (no rca result in time)';
          if (components.length > 0) await this.answer(cloud, components, via, downNow);
          else if (late) cloud.submit(task === 'localization' ? { components: [], note: 'nothing anomalous' } : task === 'rca' ? { note: 'nothing anomalous' } : { note: 'nothing to mitigate' });
        }
      }
      if (!cloud.submission) await sleep(POLL_MS, signal);
      if (Date.now() >= deadlineMs) break;
    }
  }

  /** Components whose scrape target is down right now (lab:up == 0), or undefined if Prometheus does not answer. */
  private async downNow(cloud: AgentCloud): Promise<Set<string> | undefined> {
    try {
      const up = await cloud.getMetrics('lab:up');
      return new Set(up.filter((s) => s.value === 0).map((s) => s.labels.component ?? ''));
    } catch {
      return undefined;
    }
  }

  private async answer(cloud: AgentCloud, components: string[], via: string, downNow?: Set<string>): Promise<void> {
    const task = cloud.task;
    if (task === 'localization') {
      cloud.submit({ components, note: `from the ${via}` });
      return;
    }
    const top = components[0]!;
    const logs = cloud.serviceNames().includes(top) ? cloud.getLogs(top, 200) : [];
    const kind = faultKindOf(evidenceFor(top, cloud.getAnomalies(), logs, downNow));
    if (task === 'rca') {
      cloud.submit({ component: top, faultKind: kind, note: `top of the ${via}; kind from its anomalous signals and logs` });
      return;
    }
    const action = mitigationFor(top, kind);
    if (!action) {
      cloud.submit({ note: `${top}/${kind}: no allow-listed action fixes a shared resource; waiting for its owners` });
      return;
    }
    try {
      await cloud.exec(formatExec(action));
      cloud.submit({ note: `${formatExec(action)} (diagnosed ${top}/${kind} from the ${via})` });
    } catch (err) {
      cloud.submit({ note: `${formatExec(action)} failed: ${(err as Error).message}` });
    }
  }
}

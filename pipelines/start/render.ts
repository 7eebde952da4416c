/** The human summary `npm start` prints for its lab problem. */
import type { ProblemReport } from '../lab/index.ts';

export function renderStart(p: ProblemReport): string[] {
  const out: string[] = [];
  out.push('', `Injected   ${p.fault.kind} on ${p.fault.target}: ${p.fault.text}${p.injectedAt ? ` (at ${p.injectedAt})` : ''}`);
  out.push(`Detected   ${p.observed.anomalies} anomalies after the injection${p.ttdMs !== null ? `, the first ${(p.ttdMs / 1000).toFixed(1)} s after it` : ''}`);
  for (const a of p.observed.firstAnomalies ?? []) out.push(`             ${a}`);
  if (p.observed.incidents.length === 0) out.push('Incident   none opened');
  for (const i of p.observed.incidents.slice(0, 3)) out.push(`Incident   ${i.id} ${i.status} [${i.components.join(', ')}]: ${i.summary}`);
  if (p.observed.rootCauses.length === 0) out.push(`Root cause no ranking${p.observed.rcaNote ? ` (${p.observed.rcaNote})` : ''}`);
  else {
    out.push('Root causes (ranked by the RCA stage):');
    p.observed.rootCauses.slice(0, 5).forEach((c, i) => out.push(`  ${i + 1}. ${c.node.padEnd(22)} score ${c.score}`));
    if (p.observed.rcaNote) out.push(`  note: ${p.observed.rcaNote}`);
  }
  out.push(`Answer     ${JSON.stringify(p.answer)}`);
  if (p.score) {
    out.push(`Score      ${p.task}: ${p.score.score.toFixed(2)} — ${p.score.success ? 'correct' : 'wrong'} (${p.score.reason})`);
    if (p.score.localization) out.push(`           top-1 ${p.score.localization.top1 ? 'yes' : 'no'}, top-3 ${p.score.localization.top3 ? 'yes' : 'no'}, AIOpsLab accuracy ${p.score.localization.accuracy.toFixed(2)}`);
    out.push(`           ${p.steps.length} steps, ${p.tokens.input + p.tokens.output} tokens; time to ${p.task === 'detection' ? 'detect' : p.task === 'mitigation' ? 'mitigate' : 'localize'} ${((p.task === 'detection' ? p.ttdMs : p.task === 'mitigation' ? p.ttmMs : p.ttlMs) ?? NaN) / 1000 >= 0 ? `${(((p.task === 'detection' ? p.ttdMs : p.task === 'mitigation' ? p.ttmMs : p.ttlMs) ?? 0) / 1000).toFixed(1)} s` : '—'}`);
  } else out.push(`Score      not scored: ${p.error}`);
  out.push(`Recovered  ${p.recovered ? 'yes: fault undone, services, Prometheus and pipeline stopped' : 'NO — run `panoptes lab run` again to clean up leftovers'}`);
  return out;
}

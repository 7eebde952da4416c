/**
 * The rule file a training run writes: the YAML `rules:` format that `panoptes rules check` and
 * `rules publish` read (pipelines/detect/rule-file.ts), each rule's training score in its
 * description and in a comment above it. Only rules that passed the accuracy guarantee are given
 * here; a run whose rules failed it writes a file with an empty list and the reason. Range rules
 * (trainer option `rangeRules`) are vetted on their own and say so in their comment.
 */
import { stringify } from 'yaml';
import type { CheckedRule } from '../../detect/index.ts';
import type { SeriesTrainingReport } from './report.ts';

export function renderRuleFile(published: Array<{ rules: CheckedRule[]; report: SeriesTrainingReport }>, header: string[]): string {
  const lines = header.map((h) => `# ${h}`);
  const all = published.flatMap((p) => p.rules.map((r) => ({ r, rep: p.report })));
  const isRange = (rep: SeriesTrainingReport, id: string) => rep.rangeRules.some((x) => x.id === id);
  for (const p of published) {
    if (p.rules.length === 0) lines.push(`# ${p.report.series}: no rule published (${p.report.validation.reason})`);
    else if (p.rules.every((r) => isRange(p.report, r.spec.id))) lines.push(`# ${p.report.series}: range rules only; the loop's rules were not published (${p.report.validation.reason})`);
  }
  if (all.length === 0) return lines.join('\n') + '\nrules: []\n';
  lines.push('rules:');
  for (const { r, rep } of all) {
    const rec = rep.rules.find((x) => x.id === r.spec.id);
    const range = rep.rangeRules.find((x) => x.id === r.spec.id);
    const fmt = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
    lines.push(
      range
        ? `  # ${rep.series}: range rule, just beyond the fit split's normal ${range.side === 'above' ? 'maximum' : 'minimum'} ${range.extreme}; ${range.reason}`
        : `  # ${rep.series}: fit event F1 ${fmt(rec?.fitBefore.eventF1)} -> ${fmt(rec?.fitAfter.eventF1)}; validation ${fmt(rep.validation.base.eventF1)} (base) -> ${fmt(rep.validation.withRules.eventF1)} (base+rules)`,
    );
    const item = stringify([{ id: r.spec.id, kind: r.spec.kind, severity: r.spec.severity, description: r.spec.description, expr: r.spec.expr }], { lineWidth: 0 });
    for (const l of item.trimEnd().split('\n')) lines.push(`  ${l}`);
  }
  return lines.join('\n') + '\n';
}

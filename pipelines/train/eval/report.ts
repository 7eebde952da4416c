/** Terminal table and Markdown renderings of evaluation results. */
import { NAB_PROFILE_NAMES } from '../metrics/nab.ts';
import type { ArgosEvalResult } from './argos.ts';
import { ARGOS_VARIANTS } from './argos.ts';
import type { NabEvalResult } from './nab.ts';

export type EvalResult = (NabEvalResult | ArgosEvalResult) & { runtimeMs?: number; data?: string; labels?: string };

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined ? '—' : x.toFixed(d));

function table(header: string[], rows: string[][]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function summaryRows(r: EvalResult): { header: string[]; rows: string[][] } {
  if (r.protocol === 'nab') {
    return {
      header: ['profile', 'score', 'raw', 'threshold', 'null raw', 'perfect raw'],
      rows: NAB_PROFILE_NAMES.map((p) => {
        const x = r.profiles[p];
        return [p, f(x.score, 1), f(x.raw, 2), f(x.threshold, 4), f(x.nullRaw, 2), f(x.perfectRaw, 2)];
      }),
    };
  }
  return {
    header: ['variant', 'point F1', 'PA F1', 'event F1', 'series', 'clean series with alarms'],
    rows: ARGOS_VARIANTS.map((v) => {
      const s = r.summary[v];
      return [v, f(s.pointF1), f(s.pointAdjustedF1), f(s.eventF1), String(s.seriesCounted), String(s.cleanSeriesWithAlarms)];
    }),
  };
}

export function renderTerminal(r: EvalResult): string[] {
  const { header, rows } = summaryRows(r);
  const out = [`protocol ${r.protocol}, detector ${r.detector}, ${r.series.length} series`, '', ...table(header, rows)];
  if (r.protocol === 'nab') out.push('', `rows ${r.rows}, windows ${r.windows}, detect ${r.detectMs} ms, score ${r.scoreMs} ms`);
  else out.push('', ...r.notes);
  if (r.runtimeMs !== undefined) out.push(`total ${(r.runtimeMs / 1000).toFixed(1)} s`);
  return out;
}

export function renderMarkdown(r: EvalResult): string {
  const { header, rows } = summaryRows(r);
  const out = [`# Evaluation: ${r.protocol} protocol, detector \`${r.detector}\``, ''];
  if (r.data) out.push(`Data: \`${r.data}\`, labels: \`${r.labels}\`${r.runtimeMs !== undefined ? `, total runtime ${(r.runtimeMs / 1000).toFixed(1)} s` : ''}.`, '');
  out.push('## Summary', '', ...mdTable(header, rows), '');
  if (r.protocol === 'nab') {
    out.push(`${r.series.length} series, ${r.rows} rows, ${r.windows} windows. Scores normalized to 0 (null detector) .. 100 (perfect).`, '');
    out.push('## Per series (standard profile, at the corpus threshold)', '');
    out.push(
      ...mdTable(
        ['series', 'rows', 'windows', 'detected', 'detections', 'raw'],
        r.series.map((s) => {
          const p = s.profiles.standard;
          return [s.name, String(s.rows), String(s.windows), String(p.windowsDetected), String(p.detections), f(p.score, 3)];
        }),
      ),
    );
  } else {
    out.push(...r.notes.map((n) => `- ${n}`), '', '## Per series (test split)', '');
    out.push(
      ...mdTable(
        ['series', 'test pts', 'events', 'base point F1', 'base event F1', 'rules event F1', 'base+rules event F1'],
        r.series.map((s) => [
          s.name,
          String(s.testLength),
          String(s.testEvents),
          f(s.variants.base?.point.f1),
          f(s.variants.base?.event.f1),
          f(s.variants.rules?.event.f1),
          f(s.variants['base+rules']?.event.f1),
        ]),
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** A progress line like `[#####-----] 29/58 name`, for stderr. */
export function progressLine(done: number, total: number, name: string, width = 20): string {
  const k = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(k)}${'-'.repeat(width - k)}] ${done}/${total} ${name}`;
}

/** Terminal table and Markdown renderings of evaluation results. */
import { NAB_PROFILE_NAMES } from '../metrics/nab.ts';
import type { ArgosEvalResult } from './argos.ts';
import { ARGOS_VARIANTS } from './argos.ts';
import type { NabEvalResult } from './nab.ts';
import type { HoldoutSummary } from './holdout.ts';

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

/** `eval --loco`: the LOCO figure per profile beside the default's whole-corpus one, and each category's choice. */
function locoTables(r: NabEvalResult): Array<{ header: string[]; rows: string[][] }> {
  const l = r.loco;
  if (!l) return [];
  const opt = (i: number) => Object.entries(l.grid[i]!.options).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    {
      header: ['profile', `${r.detector} defaults, whole corpus`, 'leave-one-category-out', 'best grid point, whole corpus (tuned on it)'],
      rows: NAB_PROFILE_NAMES.map((p) => [p, f(r.summary[p], 1), f(l.summary[p], 1), `${f(l.tunedBest[p].score, 1)} (${opt(l.tunedBest[p].index)})`]),
    },
    {
      header: ['left-out category', 'series', 'windows', 'standard: chosen on the others', 'raw'],
      rows: l.categories.map((c) => [c.category, String(c.series), String(c.windows), opt(c.chosen.standard), f(c.raw.standard, 2)]),
    },
  ];
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

const signed = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

/** `eval --holdout`: base and base+rules per half, and the grid the tuning half chose from. */
function holdoutTables(h: HoldoutSummary): { halves: { header: string[]; rows: string[][] }; grids: Array<{ header: string[]; rows: string[][] }> } {
  const row = (name: string, n: number, s: HoldoutSummary['summaries']['whole'], d: { eventF1: number | null; pointAdjustedF1: number | null }) => [
    name,
    String(n),
    String(s.base.seriesCounted),
    f(s.base.eventF1),
    f(s['base+rules'].eventF1),
    signed(d.eventF1),
    f(s.base.pointAdjustedF1),
    f(s['base+rules'].pointAdjustedF1),
    signed(d.pointAdjustedF1),
  ];
  const nT = h.tuningSeries.length;
  const nR = h.reportingSeries.length;
  const halves = {
    header: ['half', 'series', 'counted', 'base event F1', 'base+rules event F1', 'Δ event F1', 'base PA F1', 'base+rules PA F1', 'Δ PA F1'],
    rows: [row('reporting', nR, h.summaries.reporting, h.delta.reporting), row('tuning', nT, h.summaries.tuning, h.delta.tuning), row('whole', nT + nR, h.summaries.whole, h.delta.whole)],
  };
  if (h.cross) {
    halves.rows.push(row('tuning, chosen on reporting', nT, h.cross.summaries.tuning, h.cross.delta.tuning));
    halves.rows.push(row('two-fold', nT + nR, h.cross.summaries.twoFold, h.cross.delta.twoFold));
  }
  const gridTable = (title: string, grid: NonNullable<HoldoutSummary['grid']>, chosen: string | undefined) => ({
    header: [title, 'Δ event F1', 'Δ PA F1', 'series publishing', 'chosen'],
    rows: grid.map((g) => [g.label, signed(g.deltaEventF1), signed(g.deltaPointAdjustedF1), g.seriesPublishing === undefined ? '—' : String(g.seriesPublishing), g.label === chosen ? '*' : '']),
  });
  const grids = h.grid ? [gridTable('training options (tuning half)', h.grid, h.chosen?.label)] : [];
  if (h.cross) grids.push(gridTable('training options (reporting half, 2-fold)', h.cross.grid, h.cross.chosen.label));
  return { halves, grids };
}

function holdoutOf(r: EvalResult): HoldoutSummary | undefined {
  return (r as { holdout?: HoldoutSummary }).holdout;
}

export function renderTerminal(r: EvalResult): string[] {
  const { header, rows } = summaryRows(r);
  const out = [`protocol ${r.protocol}, detector ${r.detector}, ${r.series.length} series`, '', ...table(header, rows)];
  if (r.protocol === 'nab') {
    out.push('', `rows ${r.rows}, windows ${r.windows}, detect ${r.detectMs} ms, score ${r.scoreMs} ms`);
    for (const t of locoTables(r)) out.push('', ...table(t.header, t.rows));
  } else out.push('', ...r.notes);
  const h = holdoutOf(r);
  if (h) {
    const t = holdoutTables(h);
    out.push('', ...table(t.halves.header, t.halves.rows));
    for (const g of t.grids) out.push('', ...table(g.header, g.rows));
  }
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
    const lt = locoTables(r);
    if (lt.length > 0) {
      out.push('## Leave-one-category-out', '', 'Each category scored with the grid point chosen on the other categories; normalized over the whole corpus.', '');
      for (const t of lt) out.push(...mdTable(t.header, t.rows), '');
    }
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
    out.push(...r.notes.map((n) => `- ${n}`), '');
    const h = holdoutOf(r);
    if (h) {
      const t = holdoutTables(h);
      out.push('## Held-out protocol', '', `Split: ${h.split}. The summary above is the ${h.cross ? 'two-fold one' : "reporting half's"}.`, '', ...mdTable(t.halves.header, t.halves.rows), '');
      for (const g of t.grids) out.push(...mdTable(g.header, g.rows), '');
    }
    out.push('## Per series (test split)', '');
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

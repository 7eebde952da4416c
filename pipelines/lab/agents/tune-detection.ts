/**
 * Chooses the detection thresholds (agents/detection.ts) on the TRAINING half only, by replaying
 * the anomaly streams that lab runs recorded (`observed.anomalyLog` of report.json):
 *
 *   node --import tsx pipelines/lab/agents/tune-detection.ts runs/<run id>/report.json …
 *
 * Every problem of the reports that is in the training half of the shipped set is a case: with a
 * fault (any task: the stream after the injection is what a detector sees) or fault-free. For each
 * candidate setting the agent's decision is replayed every 0.5 s from the call to 4 s before the
 * 35 s budget ends, as the agent makes it; the chosen setting has the best accuracy among those
 * with a false-alarm rate ≤ 5 %, then the shortest mean time to detect. Problems of the held-out
 * half are skipped (and counted), so the held-out figures stay untouched by the choice.
 */
import { readFileSync } from 'node:fs';
import { selectSplit, shippedProblems } from '../problems/index.ts';
import type { RunReport } from '../report/report.ts';
import { detectionVerdict, type AnomalyMark, type DetectionSettings } from './detection.ts';

interface Case {
  id: string;
  fault: boolean;
  marks: AnomalyMark[];
}

export function casesOf(reports: readonly RunReport[]): { cases: Case[]; skipped: number } {
  const train = new Set(selectSplit(shippedProblems(), 'train').map((p) => p.id));
  const cases: Case[] = [];
  let skipped = 0;
  for (const r of reports) {
    for (const p of r.problems) {
      if (!train.has(p.id)) {
        skipped++;
        continue;
      }
      const log = p.observed.anomalyLog;
      if (p.status !== 'scored' || !log) continue;
      cases.push({ id: `${p.id}#${p.repeat ?? 1}`, fault: p.fault.kind !== 'none', marks: log.map(([ts, series, rule, value]) => ({ ts, series, rule, value })) });
    }
  }
  return { cases, skipped };
}

/** The agent's answer on a recorded stream (times relative to the call): [fault?, ms to decide]. */
export function replay(c: Case, s: DetectionSettings, budgetMs = 35_000, marginMs = 4_000): [boolean, number | null] {
  const before = c.marks.filter((m) => m.ts < 0 && m.ts >= -s.lookbackMs);
  for (let t = 0; t <= budgetMs - marginMs; t += 500) {
    // A sample stamped t reaches the agent about a second later (scrape, remote-write, detector).
    const after = c.marks.filter((m) => m.ts >= 0 && m.ts <= t - 1000);
    if (detectionVerdict(after, before, s).fault) return [true, t];
  }
  return [false, null];
}

export function grid(): DetectionSettings[] {
  const out: DetectionSettings[] = [];
  for (const minHits of [1, 2, 3, 4, 5, 6, 8])
    for (const noiseHits of [1, 2, 3, 5, 1e9])
      for (const lookbackMs of [30_000, 60_000]) for (const minSeries of [1, 2]) for (const trendHits of [3, 4, 5, 6, 8, 10, 1e9]) out.push({ minHits, noiseHits, lookbackMs, minSeries, trendHits });
  return out;
}

export function evaluate(cases: readonly Case[], s: DetectionSettings) {
  let correct = 0;
  let fa = 0;
  let quiet = 0;
  const ttd: number[] = [];
  for (const c of cases) {
    const [yes, t] = replay(c, s);
    if (yes === c.fault) correct++;
    if (!c.fault) {
      quiet++;
      if (yes) fa++;
    } else if (yes && t !== null) ttd.push(t);
  }
  return { accuracy: cases.length ? correct / cases.length : 0, far: quiet ? fa / quiet : 0, falseAlarms: fa, quiet, faulty: cases.length - quiet, meanTtdS: ttd.length ? ttd.reduce((a, b) => a + b, 0) / ttd.length / 1000 : null };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/pipelines\//, 'pipelines/'))) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node --import tsx pipelines/lab/agents/tune-detection.ts REPORT.json …\n');
    process.exit(2);
  }
  const { cases, skipped } = casesOf(files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunReport));
  if (!cases.some((c) => !c.fault) || !cases.some((c) => c.fault)) {
    process.stderr.write(`tune-detection: ${cases.length} training cases, but a choice needs both fault-free and faulty ones (false alarms and misses); run the training half first: panoptes lab run --all --split train\n`);
    process.exit(1);
  }
  const rows = grid().map((s) => ({ s, ...evaluate(cases, s) }));
  rows.sort((a, b) => Number(b.far <= 0.05) - Number(a.far <= 0.05) || b.accuracy - a.accuracy || (a.meanTtdS ?? 1e9) - (b.meanTtdS ?? 1e9));
  process.stdout.write(`${cases.length} training cases (${cases.filter((c) => c.fault).length} with a fault, ${cases.filter((c) => !c.fault).length} fault-free); ${skipped} held-out problem runs skipped\n`);
  for (const r of rows.slice(0, 12)) {
    process.stdout.write(`${JSON.stringify(r.s)}  accuracy ${(100 * r.accuracy).toFixed(1)}%  false alarms ${r.falseAlarms}/${r.quiet}  ttd ${r.meanTtdS?.toFixed(1) ?? '—'} s\n`);
  }
}

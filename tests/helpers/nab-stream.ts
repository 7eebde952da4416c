/**
 * NAB series as a metrics stream: each CSV becomes one series (labels from its file name) cut into
 * MetricBatch records, and the offline answer for the same series from SeriesDetector, for tests
 * that compare the online detector with the offline run.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { MetricBatch } from '../../pipelines/core/records.ts';
import { parseSeriesCsv } from '../../pipelines/core/csv.ts';
import { createBaseDetector } from '../../pipelines/detect/base/index.ts';
import { SeriesDetector } from '../../pipelines/detect/engine/series-detector.ts';
import type { CheckedRule } from '../../pipelines/detect/rules/rule.ts';
import { ROOT } from './infra.ts';

export const DATASETS = process.env.PANOPTES_DATASETS ?? join(ROOT, '..', 'shared', 'datasets');

export interface StreamSeries {
  fingerprint: string;
  labels: Record<string, string>;
  t: number[];
  v: number[];
}

export function nabSeries(relPaths: string[], maxRows = Infinity): StreamSeries[] {
  return relPaths.map((rel) => {
    const file = join(DATASETS, 'nab', 'data', rel);
    const s = parseSeriesCsv(readFileSync(file, 'utf8'), file);
    const name = basename(rel, '.csv');
    const labels = { __name__: 'nab_value', series: name, category: rel.split('/')[0] };
    const n = Math.min(s.timestamps.length, maxRows);
    return { fingerprint: createHash('sha1').update(JSON.stringify(labels)).digest('hex').slice(0, 16), labels, t: [...s.timestamps.subarray(0, n)], v: [...s.values.subarray(0, n)] };
  });
}

/** Records in stream order: series interleaved chunk by chunk, as a scraper would send them. */
export function toBatches(series: StreamSeries[], chunk = 50): MetricBatch[] {
  const out: MetricBatch[] = [];
  const longest = Math.max(...series.map((s) => s.t.length));
  for (let i = 0; i < longest; i += chunk) {
    for (const s of series) {
      if (i >= s.t.length) continue;
      const end = Math.min(i + chunk, s.t.length);
      out.push({
        fingerprint: s.fingerprint,
        labels: s.labels,
        samples: s.t.slice(i, end).map((t, k) => ({ timestampMs: t, value: s.v[i + k], stale: false })),
        source: 'test',
        receivedAtMs: Date.now(),
        exemplarsDropped: 0,
        histogramsDropped: 0,
      });
    }
  }
  return out;
}

/** The offline answer: `fingerprint@timestamp rule` for every anomalous sample. */
export function offlineAnomalies(series: StreamSeries[], rules: CheckedRule[], base: string | null): string[] {
  const out: string[] = [];
  for (const s of series) {
    const d = new SeriesDetector({ rules, ...(base ? { base: createBaseDetector(base) } : {}) });
    for (let i = 0; i < s.t.length; i++) {
      const r = d.update(s.t[i], s.v[i]);
      if (r.isAnomaly) out.push(`${s.fingerprint}@${s.t[i]} ${r.fn[0]?.ruleId ?? 'base'}`);
    }
  }
  return out.sort();
}

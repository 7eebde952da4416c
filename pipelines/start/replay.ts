/**
 * Replays labelled `timestamp,value` series as a metrics stream: each series becomes MetricBatch
 * records of `chunk` samples, interleaved across series as a scraper would send them.
 */
import type { MetricBatch } from '../core/records.ts';
import { fingerprintOf } from '../core/series-key.ts';
import type { LabelledSeries } from '../train/index.ts';

export function seriesLabels(s: LabelledSeries): Record<string, string> {
  const [category, file] = s.name.includes('/') ? s.name.split('/') : ['series', s.name];
  return { __name__: 'nab_value', series: file.replace(/\.csv$/, ''), category };
}

export function* replayBatches(series: LabelledSeries[], chunk: number, now: () => number = Date.now): Generator<MetricBatch> {
  const longest = Math.max(...series.map((s) => s.values.length));
  const labels = series.map(seriesLabels);
  const fps = labels.map(fingerprintOf);
  for (let i = 0; i < longest; i += chunk) {
    for (let k = 0; k < series.length; k++) {
      const s = series[k];
      if (i >= s.values.length) continue;
      const end = Math.min(i + chunk, s.values.length);
      const samples = [];
      for (let j = i; j < end; j++) samples.push({ timestampMs: s.timestamps[j], value: s.values[j], stale: false });
      yield { fingerprint: fps[k], labels: labels[k], samples, source: 'replay', receivedAtMs: now(), exemplarsDropped: 0, histogramsDropped: 0 };
    }
  }
}

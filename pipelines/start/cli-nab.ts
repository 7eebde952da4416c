/**
 * `panoptes start --nab`: the earlier main job, kept reachable. It stands the pipeline up
 * in-process (topics, schemas, the exactly-once detector with the base detector and the demo
 * rules), replays real NAB series through the `metrics` topic, and prints each anomaly with its
 * explanation and, per series, how many of NAB's labelled anomaly windows were caught. With
 * PANOPTES_BROKERS set it runs the same job on real Kafka.
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../core/cli-types.ts';
import { loadConfig } from '../core/config.ts';
import type { Anomaly } from '../core/records.ts';
import { topicName } from '../core/topics.ts';
import { fmt, loadRules, toRuleRecord } from '../detect/index.ts';
import { defaultNabPaths, loadCorpus } from '../train/index.ts';
import { fingerprintOf } from '../core/series-key.ts';
import { replayBatches, seriesLabels } from './replay.ts';
import type { StartOptions } from './spec.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export async function runNab(o: StartOptions, io: CliIo): Promise<number> {
  const nab = defaultNabPaths();
  const wanted = o.series;
  const series = await loadCorpus(nab.data, nab.labels, { filter: wanted });
  if (series.length === 0) throw new Error(`none of ${wanted.join(', ')} found under ${nab.data}`);
  const rulesFile = o.rules;
  const rules = await loadRules(rulesFile.startsWith('/') ? rulesFile : join(HERE, '..', '..', rulesFile));
  // Loaded on use: the Kafka client and the stages are not needed for --help.
  const { createRuntime } = await import('../core/runtime.ts');
  const { startDetector } = await import('../detect/index.ts');
  const config = loadConfig(o.transport ? { overrides: { transport: o.transport } } : {});
  // The job's own output is the point here: stage logs only for warnings unless asked for.
  if (!process.env.PANOPTES_LOG_LEVEL) config.logLevel = 'warn';
  const started = Date.now();
  const rt = await createRuntime(config, { stage: 'start' });
  try {
    const prefix = rt.config.topicPrefix;
    io.err(`panoptes: ${rt.config.transport} transport, registry ${rt.config.registryUrl}; topics ready, schemas registered`);
    const p = await rt.transport.producer();
    const rulesTopic = topicName('rules', prefix);
    await p.send(rules.map((r) => ({ topic: rulesTopic, key: r.spec.id, value: rt.serde.encode(rulesTopic, toRuleRecord(r, { source: 'demo' })) })));
    io.err(`deployed ${rules.length} rule(s): ${rules.map((r) => `${r.spec.id}@${r.version}`).join(', ')}`);

    const group = `panoptes-start-${started}`;
    const found: Anomaly[] = [];
    let committedRecords = 0;
    const det = await startDetector(rt, {
      groupId: group,
      instanceId: 'start',
      base: o.base,
      onCommitted: ({ records, anomalies }) => {
        committedRecords += records;
        found.push(...anomalies);
      },
    });
    const metricsTopic = topicName('metrics', prefix);
    let produced = 0;
    let samples = 0;
    let pending: { topic: string; key: string; value: Buffer }[] = [];
    for (const b of replayBatches(series, o.chunk)) {
      pending.push({ topic: metricsTopic, key: b.fingerprint, value: rt.serde.encode(metricsTopic, b) });
      samples += b.samples.length;
      if (pending.length >= 200) {
        await p.send(pending);
        produced += pending.length;
        pending = [];
      }
    }
    if (pending.length) await p.send(pending);
    produced += pending.length;
    await p.close();
    io.err(`replaying ${series.length} NAB series: ${samples} samples in ${produced} records`);
    let lastShown = -1;
    while (committedRecords < produced) {
      if (io.signal.aborted) break;
      const pct = Math.floor((100 * committedRecords) / produced);
      if (pct !== lastShown && pct % 10 === 0) {
        io.err(`  detected through ${pct}% of the stream, ${found.length} anomalies so far`);
        lastShown = pct;
      }
      const failed = await Promise.race([det.failed, new Promise((r) => setTimeout(() => r(null), 50))]);
      if (failed) throw failed;
    }
    await det.stop();
    const seconds = (Date.now() - started) / 1000;

    const show = o.show;
    const summary = series.map((s) => {
      const fp = fingerprintOf(seriesLabels(s));
      const mine = found.filter((a) => a.fingerprint === fp).sort((a, b) => a.timestampMs - b.timestampMs);
      const caught = s.windows.filter((w) => mine.some((a) => a.timestampMs >= s.timestamps[w.start] && a.timestampMs <= s.timestamps[w.end])).length;
      const outside = mine.filter((a) => !s.windows.some((w) => a.timestampMs >= s.timestamps[w.start] && a.timestampMs <= s.timestamps[w.end])).length;
      return { series: s.name, samples: s.values.length, anomalies: mine.length, labelledWindows: s.windows.length, windowsCaught: caught, anomaliesOutsideWindows: outside, list: mine };
    });
    if (io.json) {
      for (const a of found) io.out(JSON.stringify({ type: 'anomaly', ...a }));
      for (const { list: _l, ...row } of summary) io.out(JSON.stringify({ type: 'series', ...row }));
      io.out(JSON.stringify({ type: 'summary', transport: rt.config.transport, series: series.length, samples, records: produced, anomalies: found.length, seconds }));
      return 0;
    }
    for (const row of summary) {
      io.out(`\n${row.series}: ${row.anomalies} anomalies in ${row.samples} samples; NAB labelled windows caught: ${row.windowsCaught}/${row.labelledWindows}`);
      const pick = row.list.filter((a, i, all) => i === 0 || a.timestampMs - all[i - 1].timestampMs > 3_600_000).slice(0, show);
      for (const a of pick) {
        const who = a.ruleId ? `rule ${a.ruleId}@${a.ruleVersion} [${a.severity}]` : `base detector ${a.detector}`;
        io.out(`  ${new Date(a.timestampMs).toISOString().replace('.000Z', 'Z')}  value ${fmt(a.value)}  ${who}`);
        io.out(`      ${a.explanation}`);
      }
      if (row.list.length > pick.length) io.out(`  … ${row.list.length - pick.length} more (consecutive samples of the same episodes and later ones; --json lists all)`);
    }
    io.out(`\n${samples} samples → ${found.length} anomalies through metrics → detect → anomalies on the ${rt.config.transport} transport in ${seconds.toFixed(1)} s.`);
    io.out('Next: `npm test` runs the tests; `panoptes --help` lists every command.');
    return 0;
  } finally {
    await rt.close();
  }
}

/**
 * Two lab problems end to end on REAL Kafka (own topic prefix): the hotel-reservation services,
 * Debian's Prometheus remote-writing into the Panoptes receiver, the pipeline (detector →
 * incidents → rca) on Kafka topics, the Panoptes agent, the AIOpsLab scoring and the report.
 * A detection problem must be detected; a localization problem must be scored with its fields.
 * About 2 minutes (two problems of ~50 s each).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PanoptesAgent } from '../../pipelines/lab/agents/panoptes.ts';
import { activeFaults } from '../../pipelines/lab/faults/index.ts';
import { runLab } from '../../pipelines/lab/orchestrator/index.ts';
import { parseProblems } from '../../pipelines/lab/problems/index.ts';
import type { RunReport } from '../../pipelines/lab/report/report.ts';
import { ensureInfra, kafkaConfig, uniquePrefix } from '../helpers/infra.ts';

// Its own state file: "no fault left behind" must speak of this run only, not of another lab run
// on the same machine (the default file is shared).
process.env.PANOPTES_LAB_STATE = join(mkdtempSync(join(tmpdir(), 'panoptes-lab-kafka-state-')), 'state.json');

describe('lab on real Kafka with the Panoptes agent', { timeout: 240_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'panoptes-lab-kafka-'));
  const ctrl = new AbortController();
  let report: RunReport;
  let files: { json: string; markdown: string };
  const lines: string[] = [];

  before(async () => {
    ensureInfra();
    const config = kafkaConfig(uniquePrefix('lab'));
    const problems = parseProblems(`problems:
  - {id: crash-geo-detection, task: detection, fault: {kind: crash, target: geo}, workload: {shape: poisson, rps: 12, seed: 9}}
  - {id: latency-search-localization, task: localization, fault: {kind: latency, target: search, params: {latencyMs: 400}}, workload: {shape: poisson, rps: 12, seed: 10}}
`);
    ({ report, files } = await runLab(problems, {
      config,
      agent: new PanoptesAgent(),
      outDir: out,
      basePort: 18850,
      command: 'tests/e2e/lab-kafka.test.ts',
      signal: ctrl.signal,
      err: (l) => lines.push(l),
      timings: { warmupMs: 25_000 },
      budgetMs: 30_000,
    }));
  });
  after(() => ctrl.abort());

  it('ran on Kafka and wrote the JSON and Markdown reports', () => {
    assert.equal(report.transport, 'kafka', lines.join('\n'));
    assert.ok(existsSync(files.json) && existsSync(files.markdown));
    const parsed = JSON.parse(readFileSync(files.json, 'utf8')) as RunReport;
    assert.equal(parsed.problems.length, 2);
    assert.match(readFileSync(files.markdown, 'utf8'), /\| detection \(accuracy\) \| 1 \| 100\.0% \| 1 \|/);
    assert.ok(lines.some((l) => /\[1\/2 crash-geo-detection\] injecting crash into geo/.test(l)), 'progress lines on stderr');
  });

  it('detected the crash, through metrics → anomalies on Kafka, and recovered', () => {
    const p = report.problems[0]!;
    assert.equal(p.status, 'scored', p.error);
    assert.equal(p.score?.detection?.correct, true, JSON.stringify(p.observed));
    assert.equal(p.score?.score, 1);
    assert.ok(p.observed.anomalies >= 1);
    assert.ok(p.ttdMs !== null && p.ttdMs >= 0 && p.ttdMs <= 30_000);
    assert.ok(p.steps.some((s) => s.action === 'submit' && s.ok));
    assert.equal(p.recovered, true);
    assert.ok(p.workload && p.workload.sent > 100);
  });

  it('scored the localization problem with AIOpsLab fields, the incident and the ranking', () => {
    const p = report.problems[1]!;
    assert.equal(p.status, 'scored', p.error);
    assert.equal(p.score?.task, 'localization');
    assert.equal(p.score?.expected.component, 'search');
    const l = p.score!.localization!;
    assert.equal(typeof l.top1, 'boolean');
    assert.equal(typeof l.top3, 'boolean');
    assert.ok(l.accuracy >= 0 && l.accuracy <= 1);
    assert.ok(Array.isArray(p.answer?.components) && p.answer!.components!.length >= 1, JSON.stringify(p.answer));
    assert.ok(p.observed.anomalies >= 1, 'the latency fault was detected');
    assert.ok(p.observed.incidents.length >= 1, 'an incident was opened');
    assert.equal(p.recovered, true);
    assert.equal(report.summary.byTask.localization.problems, 1);
  });

  it('left no fault behind', () => {
    assert.deepEqual(activeFaults(), []);
  });
});

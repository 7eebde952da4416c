/**
 * The LLM ReAct agent completes a lab problem's loop against the replay server (a recorded
 * transcript; no model endpoint): thought → action → observation over the real interface on a
 * live app, Prometheus and pipeline (embedded transport), then submit, with steps and tokens
 * recorded and the answer scored. About 50 s.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { loadConfig } from '../../pipelines/core/config.ts';
import { replayClient } from '../../pipelines/llm/replay/client.ts';
import { startReplayServer, type ReplayServer } from '../../pipelines/llm/replay/server.ts';
import { ReactAgent } from '../../pipelines/lab/agents/react.ts';
import { runLab } from '../../pipelines/lab/orchestrator/index.ts';
import { problemById } from '../../pipelines/lab/problems/index.ts';
import type { RunReport } from '../../pipelines/lab/report/report.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

describe('LLM ReAct agent on a lab problem (replay server)', { timeout: 180_000 }, () => {
  let server: ReplayServer;
  let report: RunReport;
  const ctrl = new AbortController();

  before(async () => {
    server = await startReplayServer(join(HERE, 'fixtures', 'lab-react-crash-geo.yaml'));
    const client = replayClient(server, { registry: new Registry() });
    ({ report } = await runLab([problemById('crash-geo-localization')], {
      config: loadConfig({ env: { PANOPTES_TOPIC_PREFIX: `lab-llm-${Date.now()}.`, PANOPTES_LOG_LEVEL: 'error' } }),
      agent: new ReactAgent(client),
      outDir: mkdtempSync(join(tmpdir(), 'panoptes-lab-llm-')),
      basePort: 18900,
      command: 'tests/e2e/lab-llm.test.ts',
      signal: ctrl.signal,
      err: () => undefined,
      timings: { warmupMs: 20_000 },
      budgetMs: 20_000,
    }));
  });
  after(async () => {
    ctrl.abort();
    await server?.close();
  });

  it('ran thought → action → observation until submit, over the real interface', () => {
    const p = report.problems[0]!;
    assert.equal(p.status, 'scored', p.error);
    assert.equal(p.agent, 'llm-react');
    assert.deepEqual(p.steps.map((s) => s.action), ['get_anomalies', 'get_metrics', 'submit']);
    assert.ok(p.steps.every((s) => s.ok));
    assert.equal(server.requests.length, 3);
    assert.deepEqual(server.unusedSteps(), []);
    // Each observation went back to the model: the real anomalies and the real up series.
    assert.match(server.requests[1]!.lastUser ?? '', /Observation \(get_anomalies\): \[/);
    assert.match(server.requests[2]!.lastUser ?? '', /Observation \(get_metrics\): \[.*"component":"geo"/s);
  });

  it('recorded the tokens and scored the answer as AIOpsLab does', () => {
    const p = report.problems[0]!;
    assert.deepEqual(p.tokens, { input: 610 + 905 + 1270, output: 28 + 31 + 34 });
    assert.deepEqual(p.answer, { components: ['geo'] });
    assert.deepEqual(p.score?.localization, { accuracy: 1, top1: true, top3: true });
    assert.ok(p.ttlMs !== null && p.ttlMs >= 0);
    assert.equal(report.summary.tokens, 610 + 905 + 1270 + 28 + 31 + 34);
    assert.equal(p.recovered, true);
  });
});

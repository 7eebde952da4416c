/**
 * Incidents and RCA on real Kafka (scenario in tests/unit/rca/pipeline-scenario.ts). Checks:
 * incidents open and resolve (by record time and by the timer), the rca record's top cause is the
 * root and its path is a real graph path, a bad graph is rejected and the good one stays, the
 * unknown-node incident is ranked with the note, and neither a restart nor a replay from a fresh
 * group publishes a lifecycle record twice; an rca consumer stopped before its analyses
 * ran analyses them on its next start.
 */
import { test, before, after } from 'node:test';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { ensureInfra, kafkaConfig, uniquePrefix } from '../../helpers/infra.ts';
import { checkPipeline, checkRcaAtLeastOnce, checkRestartAndReplay } from '../../unit/rca/pipeline-scenario.ts';

let rt: Runtime;

before(async () => {
  ensureInfra();
  rt = await createRuntime(kafkaConfig(uniquePrefix('rca-pipeline')), { stage: 'test' });
});

after(async () => {
  await rt?.close().catch(() => undefined);
});

test('graph, metrics and anomalies on Kafka: incidents open and resolve, rca names the root with a graph path', () => checkPipeline(rt));

test('restart and replay from a fresh group publish no lifecycle record twice', () => checkRestartAndReplay(rt));

test('rca: analyses not produced before a stop are done after the restart (offsets committed only once analysed)', () => checkRcaAtLeastOnce(rt));

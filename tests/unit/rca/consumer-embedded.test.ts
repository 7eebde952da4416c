/**
 * The online incident and RCA consumers on the embedded transport (what `npm start` and the lab use without Kafka; same scenario as tests/integration/rca/kafka-pipeline.test.ts). Checks:
 * incidents open and resolve (by record time and by the timer), the rca record's top cause is the
 * root and its path is a real graph path, a bad graph is rejected and the good one stays, the
 * unknown-node incident is ranked with the note, and neither a restart nor a replay from a fresh
 * group publishes a lifecycle record twice; an rca consumer stopped before its analyses
 * ran analyses them on its next start.
 */
import { test, before, after } from 'node:test';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import { embeddedConfig, uniquePrefix } from '../../helpers/infra.ts';
import { checkPipeline, checkRcaAtLeastOnce, checkRestartAndReplay } from './pipeline-scenario.ts';

let rt: Runtime;

before(async () => {
  rt = await createRuntime(embeddedConfig(uniquePrefix('rca-embedded')), { stage: 'test' });
});

after(async () => {
  await rt?.close().catch(() => undefined);
});

test('graph, metrics and anomalies on the embedded transport: incidents open and resolve, rca names the root with a graph path', () => checkPipeline(rt));

test('restart and replay from a fresh group publish no lifecycle record twice', () => checkRestartAndReplay(rt));

test('rca: analyses not produced before a stop are done after the restart (offsets committed only once analysed)', () => checkRcaAtLeastOnce(rt));

/**
 * A detector in its own process, for tests that kill -9 it. Config from PANOPTES_* env; the
 * instance id from DETECTOR_INSTANCE. Prints `committed <records> <anomalies>` after each batch.
 */
import { loadConfig } from '../../pipelines/core/config.ts';
import { createRuntime } from '../../pipelines/core/runtime.ts';
import { startDetector } from '../../pipelines/detect/consumer.ts';

const rt = await createRuntime(loadConfig(), { stage: 'detect' });
const det = await startDetector(rt, {
  groupId: process.env.DETECTOR_GROUP ?? 'panoptes-detect',
  instanceId: process.env.DETECTOR_INSTANCE ?? 'child',
  base: process.env.DETECTOR_BASE ?? 'robust-z',
  maxBatchSize: Number(process.env.DETECTOR_MAX_BATCH ?? 20),
  onCommitted: ({ records, anomalies }) => process.stdout.write(`committed ${records} ${anomalies.length}\n`),
});
process.stdout.write('ready\n');
const stop = async () => {
  await det.stop();
  await rt.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
void det.failed.then((err) => {
  process.stderr.write(`detector failed: ${String(err)}\n`);
  process.exit(1);
});

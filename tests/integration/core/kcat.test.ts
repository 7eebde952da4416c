/**
 * Interoperability with a client that is not ours: kcat (librdkafka, Debian's package) lists the
 * topics `panoptes topics create` made, with their partitions, and reads a record back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TOPICS } from '../../../pipelines/core/topics.ts';
import { BROKER, childEnv, ensureInfra, kafkaConfig, ROOT, uniquePrefix } from '../../helpers/infra.ts';

test('kcat lists the topics the pipeline created, with their partitions', () => {
  ensureInfra();
  const prefix = uniquePrefix('kcat');
  const cfg = kafkaConfig(prefix);
  const env = childEnv({ PANOPTES_BROKERS: cfg.brokers.join(','), PANOPTES_REGISTRY_URL: cfg.registryUrl, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'error' });
  const created = execFileSync(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'topics', 'create', '--json'], { env, encoding: 'utf8', timeout: 120000 });
  assert.equal(created.trim().split('\n').length, Object.keys(TOPICS).length);
  const meta = JSON.parse(execFileSync('kcat', ['-b', BROKER, '-L', '-J'], { encoding: 'utf8', timeout: 30000 })) as { topics: { topic: string; partitions: unknown[] }[] };
  for (const t of Object.values(TOPICS)) {
    const found = meta.topics.find((x) => x.topic === `${prefix}${t.name}`);
    assert.ok(found, `kcat sees ${prefix}${t.name}`);
    assert.equal(found.partitions.length, t.partitions, `${t.name} has ${t.partitions} partitions`);
  }
  // And a record produced by kcat is readable as raw bytes by our transport's tooling (topics list counts it).
  execFileSync('kcat', ['-b', BROKER, '-P', '-t', `${prefix}dead-letters`, '-k', 'k'], { input: 'hello from kcat\n', timeout: 30000 });
  const listed = execFileSync(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'topics', 'list', '--json'], { env, encoding: 'utf8', timeout: 120000 });
  const dlq = listed.trim().split('\n').map((l) => JSON.parse(l) as { topic: string; records: number }).find((r) => r.topic === `${prefix}dead-letters`);
  assert.equal(dlq?.records, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../pipelines/core/config.ts';
import { ConfigError } from '../../../pipelines/core/errors.ts';
import { replicationFor, topicSpecs } from '../../../pipelines/core/topics.ts';

test('auto replication: 3 replicas and min.insync.replicas 2 from three brokers, one per broker below', () => {
  const auto = { replicationFactor: 'auto', minInsyncReplicas: 'auto' } as const;
  assert.deepEqual(replicationFor(auto, 1), { replicationFactor: 1, minInsyncReplicas: 1 });
  assert.deepEqual(replicationFor(auto, 2), { replicationFactor: 2, minInsyncReplicas: 1 });
  assert.deepEqual(replicationFor(auto, 3), { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.deepEqual(replicationFor(auto, 7), { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.deepEqual(replicationFor({ replicationFactor: 5, minInsyncReplicas: 'auto' }, 5), { replicationFactor: 5, minInsyncReplicas: 3 });
  assert.deepEqual(replicationFor({ replicationFactor: 'auto', minInsyncReplicas: 3 }, 3), { replicationFactor: 3, minInsyncReplicas: 3 });
});

test('a replication the cluster cannot hold is a config error naming the key', () => {
  assert.throws(() => replicationFor({ replicationFactor: 3, minInsyncReplicas: 'auto' }, 1), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === 'replicationFactor' && /1 live broker\b/.test(e.issues[0]!.message));
  assert.throws(() => replicationFor({ replicationFactor: 'auto', minInsyncReplicas: 2 }, 1), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === 'minInsyncReplicas');
});

test('topic specs carry the replication only when asked', () => {
  const plain = topicSpecs('p.');
  assert.ok(plain.every((s) => s.replicationFactor === undefined && s.configs === undefined));
  const rep = topicSpecs('p.', { replicationFactor: 3, minInsyncReplicas: 2 });
  assert.ok(rep.every((s) => s.replicationFactor === 3 && s.configs!['min.insync.replicas'] === '2'));
  assert.deepEqual(rep.map((s) => [s.name, s.partitions, s.cleanupPolicy]), plain.map((s) => [s.name, s.partitions, s.cleanupPolicy]));
});

test('config: replicationFactor and minInsyncReplicas take auto or a positive integer', () => {
  const d = loadConfig({ env: {} });
  assert.equal(d.replicationFactor, 'auto');
  assert.equal(d.minInsyncReplicas, 'auto');
  const c = loadConfig({ env: { PANOPTES_REPLICATION_FACTOR: '3', PANOPTES_MIN_INSYNC_REPLICAS: '2' } });
  assert.equal(c.replicationFactor, 3);
  assert.equal(c.minInsyncReplicas, 2);
  try {
    loadConfig({ env: { PANOPTES_REPLICATION_FACTOR: '0', PANOPTES_MIN_INSYNC_REPLICAS: 'most' } });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ['minInsyncReplicas (env PANOPTES_MIN_INSYNC_REPLICAS)', 'replicationFactor (env PANOPTES_REPLICATION_FACTOR)']);
  }
  assert.throws(() => loadConfig({ env: { PANOPTES_REPLICATION_FACTOR: '2', PANOPTES_MIN_INSYNC_REPLICAS: '3' } }), (e: unknown) => e instanceof ConfigError && e.issues[0]!.path === 'minInsyncReplicas');
});

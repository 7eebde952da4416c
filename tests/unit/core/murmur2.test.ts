import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { partitionForKey } from '../../../pipelines/core/transport/murmur2.ts';

test('embedded partitioner places keys where kafkajs (and the Java client) do', () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  for (const n of [1, 3, 6, 7]) {
    const partitionMetadata = Array.from({ length: n }, (_, j) => ({ partitionId: j, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    for (let i = 0; i < 500; i++) {
      const key = Buffer.from(`series-${i * 7919}${'x'.repeat(i % 7)}`);
      assert.equal(partitionForKey(key, n), kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }), `key ${key} over ${n}`);
    }
  }
});

/**
 * Kafka's default partitioner hash (murmur2 as in the Java client and kafkajs's
 * DefaultPartitioner), so a key lands on the same partition in the embedded transport as on a
 * real cluster.
 */
export function murmur2(key: Buffer): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = key.length;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = (key[i4] & 0xff) + ((key[i4 + 1] & 0xff) << 8) + ((key[i4 + 2] & 0xff) << 16) + ((key[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const idx = length4 << 2;
  // The Java client's switch falls through from 3 to 1; written out here for strict mode.
  const rest = length & 3;
  if (rest === 3) h ^= (key[idx + 2] & 0xff) << 16;
  if (rest >= 2) h ^= (key[idx + 1] & 0xff) << 8;
  if (rest >= 1) {
    h ^= key[idx] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Partition for a keyed record; keyless records are spread round-robin by the caller. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

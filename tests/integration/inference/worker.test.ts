import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { buildMlp } from '../../../pipelines/inference/models/mlp.ts';
import { spawnWorker } from '../../../pipelines/inference/pool.ts';
import { nowMs } from '../../../pipelines/inference/protocol.ts';
import type { FromWorker, ToWorker, WireAction } from '../../../pipelines/inference/protocol.ts';

test('a worker runs one action at a time inside its window and refuses one it cannot start in time', async () => {
  const worker = spawnWorker({});
  const inbox: FromWorker[] = [];
  const waiters: (() => void)[] = [];
  worker.on('message', (m: FromWorker) => {
    inbox.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (): Promise<FromWorker> => {
    while (inbox.length === 0) await new Promise<void>((r) => waiters.push(r));
    return inbox.shift()!;
  };
  const send = (action: WireAction) => worker.postMessage({ type: 'action', action } satisfies ToWorker);
  try {
    assert.equal((await next()).type, 'ready');
    const { bytes } = buildMlp({ name: 'w', layers: [4, 8, 2], seed: 3 });
    const earliest = nowMs() + 30;
    send({ kind: 'LOAD', id: 1, model: 'w', earliest, latest: Infinity, bytes, inputs: [{ name: 'input', featureShape: [4] }], profileBatches: [1, 2], profileRuns: 2 });
    // Queued behind the LOAD; its window closes before the LOAD can possibly end.
    send({ kind: 'INFER', id: 2, model: 'w', earliest: 0, latest: earliest - 10, inputs: [{ name: 'input', featureShape: [4], parts: [new Float32Array(4)] }], rows: [1], outputs: ['output'] });
    send({ kind: 'INFER', id: 3, model: 'w', earliest: 0, latest: Infinity, inputs: [{ name: 'input', featureShape: [4], parts: [new Float32Array([1, 2, 3, 4]), new Float32Array([0, 0, 0, 0, 1, 1, 1, 1])] }], rows: [1, 2], outputs: ['output'] });
    const load = await next();
    assert.ok(load.type === 'result' && load.id === 1 && load.status === 'done');
    if (load.type === 'result' && load.status === 'done') {
      assert.ok(load.startedAt >= earliest, 'never starts before its earliest start');
      assert.deepEqual(load.profile!.map((p) => p.batch), [1, 1, 2, 2]);
    }
    const refused = await next();
    assert.ok(refused.type === 'result' && refused.id === 2);
    assert.equal(refused.type === 'result' && refused.status, 'window');
    const ran = await next();
    assert.ok(ran.type === 'result' && ran.id === 3 && ran.status === 'done');
    if (ran.type === 'result' && ran.status === 'done') {
      const out = ran.outputs![0]!;
      assert.deepEqual(out.featureShape, [2]);
      assert.deepEqual(out.parts.map((p) => p.length), [2, 4], 'outputs split back per request');
      assert.ok(ran.startedAt >= (load.type === 'result' ? load.startedAt : 0), 'one action at a time, in order');
    }
    send({ kind: 'UNLOAD', id: 4, model: 'w', earliest: 0, latest: Infinity });
    assert.equal(((await next()) as { status: string }).status, 'done');
    send({ kind: 'INFER', id: 5, model: 'w', earliest: 0, latest: Infinity, inputs: [{ name: 'input', featureShape: [4], parts: [new Float32Array(4)] }], rows: [1], outputs: ['output'] });
    const gone = await next();
    assert.ok(gone.type === 'result' && gone.status === 'failed' && /not loaded/.test(gone.message));
  } finally {
    const exited = once(worker, 'exit');
    await worker.terminate();
    await exited;
  }
});

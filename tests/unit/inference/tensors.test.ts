import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../../pipelines/core/errors.ts';
import { checkInputs } from '../../../pipelines/inference/tensors.ts';
import type { Signature } from '../../../pipelines/inference/models/signature.ts';

const sig: Signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] };

test('accepts a batch and reports its rows', () => {
  const c = checkInputs('m', sig, [{ name: 'x', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }]);
  assert.equal(c.rows, 2);
  assert.deepEqual(Array.from(c.tensors.get('x')!), [1, 2, 3, 4, 5, 6]);
});

test('rejects bad shapes, datatypes and names, naming the expected signature', () => {
  const cases: [unknown, RegExp][] = [
    [[{ name: 'x', shape: [1, 4], data: [1, 2, 3, 4] }], /input x has shape \[1,4\]/],
    [[{ name: 'x', shape: [1, 3], datatype: 'INT64', data: [1, 2, 3] }], /datatype "INT64"/],
    [[{ name: 'z', shape: [1, 3], data: [1, 2, 3] }], /unknown input "z"/],
    [[{ name: 'x', shape: [1, 3], data: [1, 2] }], /2 values for shape \[1,3\]/],
    [[{ name: 'x', shape: [1, 3], data: [1, 'a', 3] }], /non-number at index 1/],
    [[], /non-empty array/],
  ];
  for (const [inputs, re] of cases) {
    assert.throws(() => checkInputs('m', sig, inputs), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, re);
      assert.match(e.message, /expected inputs: x FP32 \[-1,3\]; outputs: y FP32 \[-1,1\]/);
      return true;
    });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSchema } from '../../../pipelines/llm/validate-schema.ts';

const schema = {
  type: 'object',
  required: ['rules'],
  properties: {
    rules: {
      type: 'array',
      minItems: 1,
      items: { $ref: '#/$defs/rule' },
    },
    note: { type: ['string', 'null'], maxLength: 5 },
  },
  $defs: {
    rule: {
      type: 'object',
      required: ['expr', 'kind'],
      additionalProperties: false,
      properties: {
        expr: { type: 'string', pattern: '^value' },
        kind: { enum: ['FN', 'FP'] },
        weight: { type: 'number', minimum: 0, maximum: 1 },
        n: { type: 'integer', exclusiveMinimum: 0 },
      },
    },
  },
};

test('a valid value has no problems', () => {
  assert.deepEqual(validateSchema(schema, { rules: [{ expr: 'value > 1', kind: 'FN', weight: 0.5, n: 3 }], note: null }), []);
});

test('every problem is reported with its path', () => {
  assert.deepEqual(
    validateSchema(schema, { rules: [{ expr: 'x > 1', kind: 'XX', weight: 2, n: 1.5, extra: true }, 'nope'], note: 'too long' }),
    [
      '$.rules[0].expr: expected to match /^value/, got "x > 1"',
      '$.rules[0].kind: expected one of "FN", "FP", got "XX"',
      '$.rules[0].weight: expected <= 1, got 2',
      '$.rules[0].n: expected integer, got number',
      '$.rules[0].extra: unexpected property',
      '$.rules[1]: expected object, got string',
      '$.note: expected at most 5 characters, got 8',
    ],
  );
  assert.deepEqual(validateSchema(schema, { rules: [] }), ['$.rules: expected at least 1 items, got 0']);
  assert.deepEqual(validateSchema(schema, []), ['$: expected object, got array']);
  assert.deepEqual(validateSchema(schema, {}), ["$: missing required property 'rules'"]);
});

test('anyOf, oneOf, allOf and const', () => {
  const s = { oneOf: [{ type: 'string' }, { type: 'number' }, { const: 7 }] };
  assert.deepEqual(validateSchema(s, 'x'), []);
  assert.deepEqual(validateSchema(s, 7), ['$: matches 2 branches of oneOf, expected exactly 1']);
  assert.match(validateSchema(s, true)[0]!, /matches none of oneOf/);
  assert.deepEqual(validateSchema({ anyOf: [{ type: 'string' }, { type: 'number' }] }, 3), []);
  assert.deepEqual(validateSchema({ allOf: [{ type: 'number' }, { minimum: 5 }] }, 3), ['$: expected >= 5, got 3']);
  assert.deepEqual(validateSchema({ $ref: '#/nope' }, 1), ["$: schema $ref '#/nope' cannot be resolved"]);
});

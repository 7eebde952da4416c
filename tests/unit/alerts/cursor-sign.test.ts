import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, tpKey } from '../../../connectors/alerts/cursor.ts';
import { signature, verifySignature } from '../../../connectors/alerts/sign.ts';

test('cursors round-trip and are stable', () => {
  const c = new Map([[tpKey('rca', 2), '7'], [tpKey('anomalies', 0), '13'], [tpKey('incidents', 0), '4'], [tpKey('anomalies', 1), '18446744073709551615']]);
  const text = encodeCursor(c);
  assert.equal(text, '1:a0=13,a1=18446744073709551615,i0=4,r2=7');
  assert.deepEqual(decodeCursor(text), c);
  assert.deepEqual(decodeCursor('1:'), new Map());
});

test('a bad Last-Event-ID is an input error naming it', () => {
  for (const bad of ['x', '2:a0=1', '1:a0', '1:z0=1', '1:a0=-1', '1:a0=1;a1=2']) assert.throws(() => decodeCursor(bad), /invalid Last-Event-ID/, bad);
});

test('signatures: t=<s>,v1=<hex hmac of "t.body">, verified in a time window', () => {
  const body = '{"id":"a1"}';
  const sig = signature('s3cret-s3cret-s3cret', 1764288000, body);
  assert.match(sig, /^t=1764288000,v1=[0-9a-f]{64}$/);
  // Known answer: HMAC-SHA256("s3cret-s3cret-s3cret", '1764288000.{"id":"a1"}'), from openssl dgst -sha256 -hmac.
  assert.equal(sig, 't=1764288000,v1=5c25ffcaf9e56f1e69b9e9c06d9bc3e5c0e213890ffa4f6aa77268274378c0a5');
  assert.ok(verifySignature('s3cret-s3cret-s3cret', sig, body, 1764288100));
  assert.ok(!verifySignature('s3cret-s3cret-s3cret', sig, body, 1764288000 + 301), 'too old');
  assert.ok(!verifySignature('other-secret-other', sig, body, 1764288000));
  assert.ok(!verifySignature('s3cret-s3cret-s3cret', sig, body + ' ', 1764288000));
  assert.ok(!verifySignature('s3cret-s3cret-s3cret', sig.replace('t=1764288000', 't=1764288001'), body, 1764288000), 'the timestamp is signed');
  assert.ok(!verifySignature('s3cret-s3cret-s3cret', undefined, body, 1764288000));
  assert.ok(!verifySignature('s3cret-s3cret-s3cret', 't=abc,v1=00', body, 1764288000));
});

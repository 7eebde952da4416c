/**
 * The subscription API on real Kafka: create, list, get, delete over HTTP with clear 400s for bad
 * requests, and the subscriptions (deleted ones staying deleted) survive a restart of the alerts
 * server because they live on the compacted alert-subscriptions topic.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, json, type Harness } from './helpers.ts';

let h: Harness;

before(async () => {
  h = await harness('alerts-subs');
});

after(async () => {
  await h?.close();
});

test('subscriptions are validated, listed, deleted, and survive a restart', async () => {
  let server = await h.server();
  const post = (body: unknown) => json(`${server.url}/v1/subscriptions`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

  const bad = await post({ match: ['{service=~"(x"}', '{job="a",}', 'up{job!~"a.*"} extra'], severities: ['fatal'], kinds: ['metric'], webhook: { url: 'ftp://example.invalid/x', maxRetries: -1 }, colour: 'red' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'invalid_request');
  assert.deepEqual(bad.body.issues.map((i: { path: string }) => i.path).sort(), ['colour', 'kinds[0]', 'match[0]', 'match[2]', 'severities[0]', 'webhook.maxRetries', 'webhook.url'].sort());
  assert.match(bad.body.issues.find((i: { path: string }) => i.path === 'match[0]').message, /invalid regular expression/);
  const notJson = await post('{"match": [');
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error, 'invalid_json');
  const notObject = await post([1, 2]);
  assert.equal(notObject.status, 400);
  assert.equal((await json(`${server.url}/v1/subscriptions`, { method: 'PUT' })).status, 405);

  const a = await post({ name: 'checkout critical', match: ['{service="checkout"}'], severities: ['critical'] });
  const b = await post({ name: 'incidents', kinds: ['incident', 'rca'], webhook: { url: 'http://127.0.0.1:18399/hook' } });
  const c = await post({ name: 'to delete', match: ['latency'] });
  for (const r of [a, b, c]) assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(typeof b.body.webhook.secret, 'string', 'a secret is generated when none is given');
  assert.ok(b.body.webhook.secret.length >= 32);

  const one = await json(`${server.url}/v1/subscriptions/${a.body.id}`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body.match, ['{service="checkout"}']);
  assert.equal((await json(`${server.url}/v1/subscriptions/sub_nope`)).status, 404);

  const del = await fetch(`${server.url}/v1/subscriptions/${c.body.id}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal((await fetch(`${server.url}/v1/subscriptions/${c.body.id}`, { method: 'DELETE' })).status, 404);
  const before = (await json(`${server.url}/v1/subscriptions`)).body.subscriptions;
  assert.deepEqual(before.map((s: { id: string }) => s.id), [a.body.id, b.body.id]);
  assert.equal(before[1].webhook.secret, undefined, 'listings never show secrets');

  await server.close();
  server = await h.server();
  const after = (await json(`${server.url}/v1/subscriptions`)).body.subscriptions;
  assert.deepEqual(after, before, 'the same subscriptions after a restart');
  assert.equal((await json(`${server.url}/v1/subscriptions/${c.body.id}`)).status, 404, 'deleted stays deleted');
  await server.close();
});

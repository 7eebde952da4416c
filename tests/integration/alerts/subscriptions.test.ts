/**
 * The subscription API on real Kafka: create, list, get, delete over HTTP with clear 400s for bad
 * requests, and the subscriptions (deleted ones staying deleted) survive a restart of the alerts
 * server because they live on the compacted alert-subscriptions topic: once in process, once as
 * the `panoptes alerts` command stopped with SIGTERM and started again.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BROKER, REGISTRY, ROOT, childEnv, waitFor } from '../../helpers/infra.ts';
import { harness, json, type Harness } from './helpers.ts';
import { topicName } from '../../../pipelines/core/topics.ts';

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
  assert.ok(!bad.body.message.includes('\n'), 'one line');
  const notJson = await post('{"match": [');
  assert.equal(notJson.status, 400);
  assert.match(notJson.body.message, /JSON/);
  const notObject = await post([1, 2]);
  assert.equal(notObject.status, 400);
  assert.equal((await json(`${server.url}/v1/subscriptions`, { method: 'PUT', body: '{}' })).status, 405);

  const a = await post({ name: 'checkout critical', match: ['{service="checkout"}'], severities: ['critical'] });
  const b = await post({ name: 'incidents', kinds: ['incident', 'rca'], webhook: { url: 'http://127.0.0.1:18399/hook' } });
  const c = await post({ name: 'to delete', match: ['latency'] });
  for (const r of [a, b, c]) assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(typeof b.body.webhook.secret, 'string', 'a secret is generated when none is given');
  assert.ok(b.body.webhook.secret.length >= 32);
  const stored = await h.rt.transport.readToEnd(topicName('alertSubscriptions', h.prefix));
  assert.ok(stored.length > 0);
  assert.ok(stored.every((r) => !r.value?.toString().includes(b.body.webhook.secret)), 'the secret is not on the topic in clear');

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

function cliEnv(prefix: string): NodeJS.ProcessEnv {
  return childEnv({ PANOPTES_TRANSPORT: 'kafka', PANOPTES_BROKERS: BROKER, PANOPTES_REGISTRY_URL: REGISTRY, PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'error' });
}

async function startCli(prefix: string, listen: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'alerts', '--listen', listen, '--json'], { env: cliEnv(prefix), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await waitFor(() => out.includes('"url"') || child.exitCode !== null, 'panoptes alerts to listen', 30000);
  } catch (e) {
    child.kill('SIGKILL'); // a child left running would keep the test run alive
    throw e;
  }
  assert.equal(child.exitCode, null, `panoptes alerts exited: ${err}`);
  assert.equal(JSON.parse(out.trim().split('\n')[0]).url, `http://${listen}`);
  return child;
}

async function stopCli(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

test('the panoptes alerts command keeps subscriptions across a process restart', async () => {
  const listen = '127.0.0.1:18311';
  const url = `http://${listen}`;
  let child = await startCli(h.prefix, listen);
  try {
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    const created = await json(`${url}/v1/subscriptions`, { method: 'POST', body: JSON.stringify({ name: 'cli', match: ['{job="api"}'] }) });
    assert.equal(created.status, 201);
    const before = (await json(`${url}/v1/subscriptions`)).body.subscriptions;
    assert.equal(await stopCli(child), 0, 'clean exit on SIGTERM');
    child = await startCli(h.prefix, listen);
    const after = (await json(`${url}/v1/subscriptions`)).body.subscriptions;
    assert.deepEqual(after, before);
    assert.ok(after.some((s: { id: string }) => s.id === created.body.id));
  } finally {
    if (child.exitCode === null) await stopCli(child);
  }
});

test('bad options fail before connecting, with exit code 2', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'alerts', '--listen', 'nowhere', '--alertmanager', 'not a url'], { env: cliEnv('unused.'), encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--listen: expected host:port/);
  assert.match(r.stderr, /--alertmanager: expected a list of http\(s\) URLs/);
  const noFile = spawnSync(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), 'alerts', '--bearer-token-file', '/nonexistent/token'], { env: cliEnv('unused.'), encoding: 'utf8', timeout: 30000 });
  assert.equal(noFile.status, 2, noFile.stderr);
  assert.match(noFile.stderr, /bearerTokenFile: cannot read \/nonexistent\/token/);
});

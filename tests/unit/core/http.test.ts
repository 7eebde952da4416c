import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createRegistry } from '../../../pipelines/core/metrics.ts';
import { createHttpServer, listenHttp } from '../../../pipelines/core/http.ts';
import { readBearerTokenFile } from '../../../pipelines/core/auth.ts';
import { ConfigError, InputError, NotFoundError } from '../../../pipelines/core/errors.ts';
import { SseHub } from '../../../pipelines/core/sse.ts';

test('errors are one-line JSON 4xx; bodies are capped and schema-checked; unknown routes 404', async () => {
  const app = createHttpServer({ name: 't', bodyLimit: 100 });
  app.post('/x', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async (req) => ({ got: (req.body as { n: number }).n }));
  app.get('/input', async () => {
    throw new InputError('bad thing\nwith a second line');
  });
  app.get('/missing', async () => {
    throw new NotFoundError('no model "x"');
  });
  app.get('/bug', async () => {
    throw new TypeError('x is undefined');
  });
  const r = async (method: string, url: string, payload?: string) => {
    const res = await app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload, headers: { 'content-type': 'application/json' } } : {}) });
    return { status: res.statusCode, body: res.json() as { error: string; message: string } };
  };
  assert.deepEqual((await r('POST', '/x', '{"n":1}')).body, { got: 1 });
  const bad = await r('POST', '/x', '{"n":"one"}');
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /body\.n: must be integer/);
  assert.equal((await r('POST', '/x', JSON.stringify({ n: 1, pad: 'x'.repeat(200) }))).status, 413);
  assert.equal((await r('POST', '/x', '{not json')).status, 400);
  const input = await r('GET', '/input');
  assert.deepEqual([input.status, input.body.message], [400, 'bad thing; with a second line']);
  assert.equal((await r('GET', '/missing')).status, 404);
  const bug = await r('GET', '/bug');
  assert.equal(bug.status, 500);
  assert.ok(!bug.body.message.includes('\n'));
  assert.equal((await r('GET', '/nope')).status, 404);
  await app.close();
});

test('bearer auth guards every route but /metrics and /healthz', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'http-'));
  writeFileSync(join(dir, 'token'), 's3cret\n');
  const app = createHttpServer({ name: 't', auth: { bearerToken: readBearerTokenFile(join(dir, 'token')) }, metrics: { registry: createRegistry() } });
  app.get('/v1/things', async () => ({ ok: true }));
  const get = (url: string, authorization?: string) => app.inject({ method: 'GET', url, ...(authorization ? { headers: { authorization } } : {}) });
  assert.equal((await get('/v1/things')).statusCode, 401);
  assert.match(String((await get('/v1/things')).headers['www-authenticate']), /^Bearer/);
  assert.equal((await get('/v1/things', 'Bearer nope')).statusCode, 401);
  assert.equal((await get('/v1/things', 'Bearer s3cret')).statusCode, 200);
  assert.equal((await get('/metrics')).statusCode, 200);
  assert.equal((await get('/healthz')).statusCode, 200);
  await app.close();
});

test('a taken port is a ConfigError naming the option', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const app = createHttpServer({ name: 't' });
  await assert.rejects(listenHttp(app, `127.0.0.1:${port}`, { path: 'alerts.listen' }), (e: unknown) => e instanceof ConfigError && /alerts\.listen: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/.test(e.message));
  blocker.close();
  await app.close();
});

test('SSE hub: events framed, a slow client dropped at the byte cap, the cap on streams answers 503', async () => {
  const hub = new SseHub(1);
  const app = createHttpServer({ name: 't' });
  app.get('/s', (req, reply) => {
    reply.hijack();
    const s = hub.accept(req.raw, reply.raw, { retryMs: 500, maxQueuedBytes: 1 << 20 });
    s?.send({ id: '1', event: 'hello', data: 'a\nb' });
  });
  const l = await listenHttp(app, '127.0.0.1:0');
  const ac = new AbortController();
  const first = await fetch(`${l.url}/s`, { signal: ac.signal });
  assert.equal(first.status, 200);
  const reader = first.body!.getReader();
  let text = '';
  while (!text.includes('data: b\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  assert.match(text, /retry: 500\n\nid: 1\nevent: hello\ndata: a\ndata: b\n\n/);
  const second = await fetch(`${l.url}/s`);
  assert.equal(second.status, 503);
  assert.equal(second.headers.get('retry-after'), '5');
  ac.abort();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(hub.size, 0);
  await l.close();
});

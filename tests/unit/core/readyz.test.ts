import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { serveMetrics } from '../../../pipelines/core/metrics.ts';

test('/readyz is 200 only when healthy and ready; /healthz stays liveness', async () => {
  let h: { ok: boolean; detail?: Record<string, unknown> } = { ok: true, detail: { ready: false } };
  const s = await serveMetrics('127.0.0.1:0', new Registry(), () => h);
  const get = async (p: string) => {
    const r = await fetch(`${s.url}${p}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await get('/readyz'), { status: 503, body: { status: 'not ready', ready: false } });
    assert.equal((await get('/healthz')).status, 200, 'rebuilding is alive');
    h = { ok: true, detail: { ready: true, partitions: [0, 1] } };
    assert.deepEqual(await get('/readyz'), { status: 200, body: { status: 'ready', ready: true, partitions: [0, 1] } });
    h = { ok: true };
    assert.equal((await get('/readyz')).status, 200, 'a check without readiness is ready when healthy');
    h = { ok: false, detail: { ready: true } };
    assert.deepEqual(await get('/readyz'), { status: 503, body: { status: 'unhealthy', ready: true } });
    assert.equal((await get('/healthz')).status, 503);
  } finally {
    await s.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createInferenceServer } from '../../../pipelines/inference/http/server.ts';
import { decodeResponse, encodeBinaryRequest } from '../../../pipelines/inference/http/binary.ts';
import { startPool, rowOf } from './helpers.ts';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Writes `bytes` on one connection and splits what comes back into responses (Content-Length framed). */
function exchange(port: number, bytes: Buffer, expect: number): Promise<{ answers: Answer[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const answers: Answer[] = [];
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const len = Number(headers['content-length']);
        if (buf.length < end + 4 + len) return;
        answers.push({ status: Number(lines[0]!.split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + len) });
        buf = buf.subarray(end + 4 + len);
      }
    };
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${answers.length} of ${expect} answers: ${JSON.stringify(answers.map((a) => a.status))}`));
    }, 10_000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse();
      if (answers.length === expect) {
        clearTimeout(timer);
        // Give a close a moment to arrive.
        setTimeout(() => {
          s.destroy();
          resolve({ answers, ended });
        }, 50);
      }
    });
    let ended = false;
    s.on('end', () => (ended = true));
    s.on('error', reject);
    s.write(bytes);
  });
}

const post = (path: string, body: Buffer | string, headers: Record<string, string | number> = {}) =>
  Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: t\r\n${Object.entries({ ...headers, 'content-length': Buffer.byteLength(body) }).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`), Buffer.from(body)]);

test('fast door: pipelined requests on one connection are answered in order, refusals skip their body, other routes hand the connection to node:http', async () => {
  const { pool, registry } = await startPool();
  const server = createInferenceServer(pool, registry, { bodyLimit: 64 * 1024 });
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    // Warm mlp-s (a cold model's first request is refused while it loads).
    const json = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32, 1) }], parameters: { deadline_ms: 1000 } });
    for (let i = 0, status = 0; i < 100 && status !== 200; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/v2/models/mlp-s/infer`, { method: 'POST', body: json });
      status = r.status;
      await r.arrayBuffer();
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    const bin = encodeBinaryRequest([{ name: 'input', shape: [1, 32], data: Float32Array.from(rowOf(32, 1)) }], { binaryOutputs: true, deadlineMs: 1000 });
    const binPost = post('/v2/models/mlp-s/infer', bin.body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': bin.headerLength });
    const { answers, ended } = await exchange(
      port,
      Buffer.concat([
        binPost,
        post('/v2/models/nope/infer', json),
        post('/v2/models/mlp-s/infer', '{bad'),
        post('/v2/models/mlp-s/infer', json, { 'inference-header-content-length': 'x' }),
        Buffer.from('GET /v2/models/mlp-s HTTP/1.1\r\nHost: t\r\n\r\n'),
        // After the hand-off, node:http serves infer on this connection: the same door, the same answer.
        binPost,
        post('/v2/models/mlp-s/infer', json, { connection: 'close' }),
      ]),
      7,
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 404, 400, 400, 200, 200, 200],
    );
    const first = decodeResponse(answers[0]!.body, Number(answers[0]!.headers['inference-header-content-length']));
    const again = decodeResponse(answers[5]!.body, Number(answers[5]!.headers['inference-header-content-length']));
    assert.deepEqual([...first.outputs[0]!.data], [...again.outputs[0]!.data]);
    assert.equal(answers[0]!.headers['x-panoptes-status'], 'ok');
    assert.equal(answers[0]!.headers['connection'], 'keep-alive');
    assert.match((JSON.parse(answers[1]!.body.toString()) as { error: string }).error, /model "nope" is not served/);
    assert.equal(answers[4]!.headers['content-type']?.startsWith('application/json'), true);
    assert.equal(ended, true, 'Connection: close ends the connection');

    // Over the body limit: 413 before the body is read, and the connection closes.
    const big = await exchange(port, post('/v2/models/mlp-s/infer', Buffer.alloc(100 * 1024)), 1);
    assert.equal(big.answers[0]!.status, 413);
    assert.equal(big.ended, true);
  } finally {
    await server.close();
    await pool.close();
  }
});

test('fast door: a request refused at the door has its body skipped unread, and the next one on the connection is read', async () => {
  // An SLO no request can meet: every request is refused at the door, before its body.
  const { pool, registry } = await startPool({ sloMs: 0.5 });
  const server = createInferenceServer(pool, registry);
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    const big = post('/v2/models/mlp-l/infer', Buffer.alloc(16 * 1024 + 100, 7), { 'inference-header-content-length': 100 });
    const small = post('/v2/models/mlp-s/infer', JSON.stringify({ inputs: [{ name: 'input', shape: [1, 32], datatype: 'FP32', data: rowOf(32) }] }));
    const { answers } = await exchange(port, Buffer.concat([big, small, big]), 3);
    for (const a of answers) {
      assert.equal(a.status, 429, a.body.toString());
      assert.equal(a.headers['x-panoptes-status'], 'rejected');
      const body = JSON.parse(a.body.toString()) as { error: string; parameters: Record<string, unknown> };
      assert.match(body.error, /^rejected at the door: /);
      assert.equal(body.parameters['panoptes_stage'], 'door');
    }
    // The refusals of cold models started their loads: let them finish before the pool closes.
    for (let i = 0; i < 200 && !(pool.isResident('mlp-l') && pool.isResident('mlp-s')); i++) await new Promise((r) => setTimeout(r, 25));
  } finally {
    await server.close();
    await pool.close();
  }
});

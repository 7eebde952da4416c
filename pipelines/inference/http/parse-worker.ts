/**
 * A parse worker thread: takes a JSON request body (its bytes transferred, not copied), parses and
 * checks it against the request schema, converts every tensor's data to a Float32Array and sends
 * them back transferred. It moves the JSON parse of large bodies (40 KB for 8 rows of mlp-l) off
 * the thread that runs the HTTP door and the scheduler.
 */
import { parentPort } from 'node:worker_threads';
import { BodyError, decodeJsonBody } from './binary.ts';
import type { ParseReply, ParseRequest } from './parse-pool.ts';

const port = parentPort;
if (!port) throw new Error('parse-worker.ts must run in a worker thread');

port.on('message', (m: ParseRequest) => {
  const t0 = performance.now();
  let reply: ParseReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const d = decodeJsonBody(Buffer.from(m.body));
    for (const t of d.inputs) {
      const src = t.data as ArrayLike<unknown>;
      if (!src || typeof src.length !== 'number') continue;
      const arr = new Float32Array(src.length);
      let ok = true;
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (typeof v !== 'number') {
          ok = false;
          break;
        }
        arr[i] = v;
      }
      // A non-number stays as it was: the pool's tensor check names its index.
      if (ok) {
        t.data = arr;
        transfer.push(arr.buffer);
      }
    }
    reply = { id: m.id, ok: true, decoded: d, ms: performance.now() - t0 };
  } catch (err) {
    reply = { id: m.id, ok: false, bodyError: err instanceof BodyError, message: err instanceof Error ? err.message : String(err), ms: performance.now() - t0 };
  }
  port.postMessage(reply, transfer);
});
port.postMessage({ id: 0, ok: true, ready: true });

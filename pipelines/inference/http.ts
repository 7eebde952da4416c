/**
 * The KServe v2 inference protocol over HTTP/JSON (what Triton clients speak), plus /metrics:
 *   GET  /v2/health/live, /v2/health/ready, /v2
 *   GET  /v2/models/{name}[/versions/{v}]          model metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready
 *   POST /v2/models/{name}[/versions/{v}]/infer    {"inputs":[{"name","shape","datatype","data"}]}
 * Statuses: 200 ok, 400 bad request (names the expected signature), 404 unknown model, 429
 * refused by admission control, 504 ran past its deadline, 500 error. Every infer response carries
 * `parameters` with the Panoptes status and the latency breakdown.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { listenOn } from '../core/listen.ts';
import { PLATFORM } from './models/registry.ts';
import type { InferencePool, InferResult } from './pool.ts';

export interface HttpOptions {
  host: string;
  port: number;
  /** Largest request body accepted, bytes. */
  maxBodyBytes?: number;
}

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function statusCode(r: InferResult): number {
  switch (r.status) {
    case 'ok':
      return 200;
    case 'late':
      return 504;
    case 'rejected':
      return 429;
    case 'error':
      return r.error.code === 'PANOPTES_NOT_FOUND' ? 404 : r.error.code === 'PANOPTES_INPUT' ? 400 : 500;
  }
}

function parameters(r: InferResult): Record<string, string | number> {
  const l = r.latency;
  return { panoptes_status: r.status, queue_ms: l.queueMs, batch_wait_ms: l.batchWaitMs, exec_ms: l.execMs, total_ms: l.totalMs, batch_size: l.batchSize };
}

export function createInferenceServer(pool: InferencePool, registry: Registry, maxBodyBytes = 8 * 1024 * 1024): Server {
  const modelRoute = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
  return createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      if (method === 'GET' && path === '/v2/health/live') return send(res, 200, { live: true });
      if (method === 'GET' && path === '/v2/health/ready') return send(res, pool.ready ? 200 : 503, { ready: pool.ready });
      if (method === 'GET' && path === '/v2') return send(res, 200, { name: 'panoptes-inference', version: '0.1.0', extensions: [] });
      if (method === 'GET' && path === '/metrics') {
        const text = await registry.metrics();
        res.writeHead(200, { 'content-type': registry.contentType });
        return res.end(text);
      }
      const m = modelRoute.exec(path);
      if (!m) return send(res, 404, { error: `no route for ${method} ${path}` });
      const name = decodeURIComponent(m[1]!);
      const version = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
      const model = pool.model(name);
      const found = model !== undefined && (version === undefined || version === model.version);
      const action = m[3];
      if (action === undefined || action === '/ready') {
        if (method !== 'GET') return send(res, 405, { error: `use GET for ${path}` });
        if (!found) return send(res, 404, { error: `model ${JSON.stringify(name)}${version ? ` version ${version}` : ''} is not served` });
        if (action === '/ready') return send(res, pool.ready ? 200 : 503, { name, ready: pool.ready });
        return send(res, 200, {
          name: model.name,
          versions: [model.version],
          platform: PLATFORM,
          inputs: model.signature.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
          outputs: model.signature.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
        });
      }
      if (method !== 'POST') return send(res, 405, { error: `use POST for ${path}` });
      const raw = await readBody(req, maxBodyBytes);
      if (raw === 'too-large') return send(res, 413, { error: `request body over ${maxBodyBytes} bytes` });
      let body: { id?: unknown; inputs?: unknown; parameters?: { deadline_ms?: unknown } };
      try {
        body = JSON.parse(raw.toString('utf8'));
        if (typeof body !== 'object' || body === null) throw new TypeError('not an object');
      } catch {
        return send(res, 400, { error: 'request body must be a JSON object {"inputs": [...]}' });
      }
      const deadline = body.parameters?.deadline_ms;
      if (deadline !== undefined && (typeof deadline !== 'number' || !(deadline > 0)))
        return send(res, 400, { error: 'parameters.deadline_ms must be a positive number of milliseconds' });
      const result = await pool.infer({
        model: name,
        ...(version !== undefined ? { version } : {}),
        inputs: flattenNested(body.inputs) as never,
        ...(typeof deadline === 'number' ? { deadlineMs: deadline } : {}),
      });
      const id = typeof body.id === 'string' ? { id: body.id } : {};
      const headers = { 'x-panoptes-status': result.status };
      if (result.status === 'ok')
        return send(res, 200, {
          model_name: name,
          model_version: result.version,
          ...id,
          outputs: result.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: Array.from(o.data) })),
          parameters: parameters(result),
        }, headers);
      const error =
        result.status === 'rejected' ? `rejected: ${result.reason}` : result.status === 'error' ? result.error.message : 'deadline exceeded: the result came after the deadline';
      return send(res, statusCode(result), { error, ...id, parameters: parameters(result) }, headers);
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
}

/** Starts the server and resolves with the bound address (port 0 picks a free port). */
export function listen(server: Server, opts: HttpOptions): Promise<AddressInfo> {
  return listenOn(server, opts.host, opts.port);
}

/**
 * KServe v2 lets a client send tensor data nested by dimension (`[[1, 2], [3, 4]]`) as well as
 * flat; curl examples written for Triton often nest. Row-major nesting flattens to the same order.
 */
function flattenNested(inputs: unknown): unknown {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.map((t: unknown) => {
    const d = (t as { data?: unknown } | null)?.data;
    return Array.isArray(d) && d.some((x) => Array.isArray(x)) ? { ...(t as object), data: d.flat(Infinity) } : t;
  });
}

/** HTTP between lab services: keep-alive, a per-call timeout, and errors that carry a status. */
import { Agent, request } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Calls http://<address><path>; a non-2xx answer or a timeout becomes an HttpError(502/504). */
export function callJson(address: string, method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host, port: Number(port), method, path, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) return reject(new HttpError(502, `${address}${path} answered ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            resolve(text ? JSON.parse(text) : null);
          } catch {
            reject(new HttpError(502, `${address}${path}: bad json`));
          }
        });
        res.on('error', (e) => reject(new HttpError(502, `${address}${path}: ${e.message}`)));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new HttpError(504, `${address}${path}: timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof HttpError ? e : new HttpError(502, `${address}${path}: ${e.message}`)));
    req.end(payload);
  });
}

/** Shared by the remote-write tests: build WriteRequests and post them like Prometheus does. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { encodeBody, sortedLabels, type PbTimeSeries } from './proto.ts';

export const STALE_NAN = Buffer.from('020000000000f07f', 'hex').readDoubleLE(0);

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export const PROM_HEADERS = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'Prometheus/2.42.0',
};

export function post(url: string, body: Buffer, headers: Record<string, string> = PROM_HEADERS, opts: { ca?: Buffer; method?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      { method: opts.method ?? 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, ...(opts.ca ? { ca: opts.ca } : {}), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function get(url: string): Promise<Reply> {
  return post(url, Buffer.alloc(0), {}, { method: 'GET' });
}

/** A series with the given labels (sorted for you) and samples. */
export function series(labels: Record<string, string>, samples: [number, number][]): PbTimeSeries {
  return { labels: sortedLabels(labels), samples: samples.map(([timestamp, value]) => ({ timestamp, value })) };
}

export function body(timeseries: PbTimeSeries[]): Buffer {
  return encodeBody({ timeseries });
}

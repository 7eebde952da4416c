/**
 * A pass-through HTTP proxy between Prometheus and `panoptes ingest` that keeps every request
 * body the receiver answered 204: the samples Prometheus was told are stored. They are decoded
 * here with protobufjs and snappyjs (not the receiver's own decoder), so the check does not
 * share code with what it checks.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SnappyJS from 'snappyjs';
import { WriteRequestType } from '../../../connectors/remote-write/proto.ts';

export interface AckedSample {
  /** Sorted labels as JSON: the series' identity independent of any fingerprint function. */
  series: string;
  timestampMs: number;
  value: number;
}

export class RecordingProxy {
  private server: Server | null = null;
  readonly acked: Buffer[] = [];
  readonly statuses = new Map<number, number>();
  url = '';

  constructor(private readonly upstream: () => string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'content-encoding', 'x-prometheus-remote-write-version', 'user-agent']) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        fetch(this.upstream(), { method: 'POST', headers, body, signal: AbortSignal.timeout(60_000) })
          .then(async (r) => {
            const text = await r.text();
            this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
            if (r.status === 204) this.acked.push(body);
            const out: Record<string, string> = {};
            const ra = r.headers.get('retry-after');
            if (ra) out['retry-after'] = ra;
            res.writeHead(r.status, out).end(text);
          })
          .catch(() => {
            this.statuses.set(-1, (this.statuses.get(-1) ?? 0) + 1);
            res.writeHead(503, { 'retry-after': '1' }).end('receiver unreachable');
          });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v1/write`;
    return this.url;
  }

  /** Every sample of every acknowledged request (staleness markers included, value NaN). */
  ackedSamples(): AckedSample[] {
    const out: AckedSample[] = [];
    for (const body of this.acked) {
      const raw = Buffer.from(SnappyJS.uncompress(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)));
      const req = WriteRequestType.toObject(WriteRequestType.decode(raw), { longs: Number }) as {
        timeseries?: { labels?: { name: string; value: string }[]; samples?: { value?: number; timestamp?: number }[] }[];
      };
      for (const ts of req.timeseries ?? []) {
        const labels = [...(ts.labels ?? [])].sort((a, b) => a.name.localeCompare(b.name)).map((l) => [l.name, l.value]);
        const series = JSON.stringify(labels);
        for (const s of ts.samples ?? []) out.push({ series, timestampMs: Number(s.timestamp ?? 0), value: s.value ?? 0 });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
    this.server = null;
  }
}

/** The same identity for a MetricBatch read back from Kafka. */
export function seriesOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort((a, b) => a.localeCompare(b)).map((k) => [k, labels[k]]));
}

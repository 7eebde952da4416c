/**
 * Shared pieces of the alerts integration tests: a runtime on the shared Kafka and registry under
 * a unique topic prefix, an alerts server over it, record producers, and a small SSE client.
 * Servers get a master secret file (webhook secrets are sealed with it) and
 * `webhookAllowPrivate`, since the tests' webhook receivers listen on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { AlertsServer } from '../../../connectors/alerts/server.ts';
import type { AlertsOptions } from '../../../connectors/alerts/spec.ts';
import { createRuntime, type Runtime } from '../../../pipelines/core/runtime.ts';
import type { Anomaly, Incident, RcaResult } from '../../../pipelines/core/records.ts';
import { topicName } from '../../../pipelines/core/topics.ts';
import type { Producer } from '../../../pipelines/core/transport/types.ts';
import { ensureInfra, kafkaConfig, uniquePrefix } from '../../helpers/infra.ts';

export interface Harness {
  prefix: string;
  /** A master secret file (mode 600) the servers use unless told otherwise. */
  secretFile: string;
  rt: Runtime;
  producer: Producer;
  registry: Registry;
  /** Starts a fresh alerts server (a new process would do the same: nothing shared but Kafka). */
  server(opts?: Partial<AlertsOptions>, fetchImpl?: typeof fetch): Promise<AlertsServer>;
  anomaly(a: Partial<Anomaly> & { id: string; labels: Record<string, string> }): Promise<void>;
  incident(i: Partial<Incident> & { id: string; status: Incident['status'] }): Promise<void>;
  rca(r: Partial<RcaResult> & { incidentId: string }): Promise<void>;
  close(): Promise<void>;
}

export async function harness(name: string): Promise<Harness> {
  ensureInfra();
  const prefix = uniquePrefix(name);
  const rt = await createRuntime(kafkaConfig(prefix), { stage: 'alerts-test', metrics: new Registry() });
  const producer = await rt.transport.producer();
  const servers: AlertsServer[] = [];
  const secretDir = mkdtempSync(join(tmpdir(), 'panoptes-alerts-'));
  const secretFile = join(secretDir, 'master.key');
  writeFileSync(secretFile, 'integration-test-master-secret-0123456789abcdef\n', { mode: 0o600 });
  let registry = new Registry();
  const send = async (key: 'anomalies' | 'incidents' | 'rca', k: string, v: unknown) => {
    const topic = topicName(key, prefix);
    await producer.send([{ topic, key: k, value: rt.serde.encode(topic, v) }]);
  };
  return {
    prefix,
    secretFile,
    rt,
    producer,
    get registry() {
      return registry;
    },
    async server(opts = {}, fetchImpl) {
      registry = new Registry();
      const s = new AlertsServer({ listen: '127.0.0.1:0', heartbeatMs: 500, webhookSecretFile: secretFile, webhookAllowPrivate: true, ...opts }, { transport: rt.transport, serde: rt.serde, prefix, registry, fetch: fetchImpl });
      servers.push(s);
      await s.start();
      return s;
    },
    async anomaly(a) {
      const now = Date.now();
      const rec: Anomaly = { fingerprint: JSON.stringify(a.labels), timestampMs: now, value: 42, ruleId: 'latency-spike', ruleVersion: 'abc123', ruleKind: 'FN', severity: 'warning', detector: 'robust-z', baseScore: 5, explanation: 'value 42 is 5 sd above its 1h mean', clauses: [{ text: 'value > mean(1h) + 4 * std(1h)', value: 1 }], detectedAtMs: now, ...a };
      await send('anomalies', rec.fingerprint, rec);
    },
    async incident(i) {
      const now = Date.now();
      const rec: Incident = { openedAtMs: now, updatedAtMs: now, resolvedAtMs: i.status === 'RESOLVED' ? now : null, severity: 'critical', components: ['checkout'], anomalyIds: [], anomalyCount: 0, summary: `incident ${i.id}`, ...i };
      await send('incidents', rec.id, rec);
    },
    async rca(r) {
      const rec: RcaResult = { graphVersion: null, method: 'traversal', causes: [], note: '', producedAtMs: Date.now(), ...r };
      await send('rca', rec.incidentId, rec);
    },
    async close() {
      for (const s of servers) await s.close().catch(() => undefined);
      await producer.close();
      await rt.close();
      rmSync(secretDir, { recursive: true, force: true });
    },
  };
}

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A minimal SSE client: collects events and comment lines until closed. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  private res: IncomingMessage | null = null;
  private req: ReturnType<typeof request> | null = null;
  body = '';

  static async open(url: string, lastEventId?: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    await new Promise<void>((resolve, reject) => {
      c.req = request(url, { headers: { accept: 'text/event-stream', ...headers, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } }, (res) => {
        c.res = res;
        c.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          if (c.status !== 200) {
            c.body += chunk;
            return;
          }
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: SseEvent = { event: 'message', data: '' };
            let isEvent = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) c.comments.push(line.slice(1).trim());
              else if (line.startsWith('id: ')) ev.id = line.slice(4);
              else if (line.startsWith('event: ')) ((ev.event = line.slice(7)), (isEvent = true));
              else if (line.startsWith('data: ')) ev.data += line.slice(6);
            }
            if (isEvent) c.events.push(ev);
          }
        });
        res.on('end', resolve);
        resolve();
      });
      c.req.on('error', reject);
      c.req.end();
    });
    return c;
  }

  /** Events other than the initial hello and gap notices. */
  get alerts(): SseEvent[] {
    return this.events.filter((e) => e.event !== 'hello' && e.event !== 'gap');
  }

  /** The id the client would resume from: the last id it saw. */
  get lastId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].id) return this.events[i].id;
    return undefined;
  }

  close(): void {
    this.req?.destroy();
    this.res?.destroy();
  }
}

export async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

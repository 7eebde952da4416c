/**
 * The lab's TCP proxies in front of the shared PostgreSQL and Redis (entry point; one process for
 * both). Faults act here, never on the shared servers: `delayMs` holds every forwarded chunk (slow
 * database), `cut` resets existing connections and refuses new ones (server down). An admin port
 * takes the settings and serves Prometheus metrics, including whether each upstream is reachable
 * through the proxy (the resources' `up` signal).
 */
import { createHttpServer } from '../../core/http.ts';
import { connect, createServer, type Socket } from 'node:net';

interface Route {
  resource: string;
  port: number;
  upstream: string;
}
const conf = JSON.parse(process.env.LAB_PROXY ?? '{}') as { admin: number; routes: Route[] };

interface State {
  delayMs: number;
  cut: boolean;
  conns: Set<Socket>;
  accepted: number;
  refused: number;
  bytes: number;
  upstreamOk: boolean;
}
const states = new Map<string, State>();

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ ts: Date.now(), level: 'info', service: 'proxy', msg, ...fields }) + '\n');
}

/** Forwards src -> dst, holding each chunk `delayMs` (src paused meanwhile, so order is kept). */
function pipeDelayed(src: Socket, dst: Socket, st: State): void {
  src.on('data', (chunk: Buffer) => {
    st.bytes += chunk.length;
    if (st.delayMs <= 0) {
      if (!dst.write(chunk)) {
        src.pause();
        dst.once('drain', () => src.resume());
      }
      return;
    }
    src.pause();
    setTimeout(() => {
      if (!dst.destroyed) dst.write(chunk);
      src.resume();
    }, st.delayMs);
  });
  src.on('end', () => dst.end());
}

for (const r of conf.routes) {
  const st: State = { delayMs: 0, cut: false, conns: new Set(), accepted: 0, refused: 0, bytes: 0, upstreamOk: true };
  states.set(r.resource, st);
  const [uh, up] = r.upstream.split(':');
  const server = createServer((client) => {
    if (st.cut) {
      st.refused++;
      client.resetAndDestroy();
      return;
    }
    st.accepted++;
    const upstream = connect({ host: uh, port: Number(up) });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    st.conns.add(client);
    st.conns.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      st.conns.delete(client);
      st.conns.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    pipeDelayed(client, upstream, st);
    pipeDelayed(upstream, client, st);
  });
  server.listen(r.port, '127.0.0.1', () => log('proxy listening', { resource: r.resource, port: r.port, upstream: r.upstream }));
  // Reachability through the proxy: what the services would see when they connect now.
  setInterval(() => {
    if (st.cut) {
      st.upstreamOk = false;
      return;
    }
    const s = connect({ host: uh, port: Number(up) });
    const t = setTimeout(() => s.destroy(), 1000);
    s.once('connect', () => {
      st.upstreamOk = true;
      clearTimeout(t);
      s.destroy();
    });
    s.once('error', () => {
      st.upstreamOk = false;
      clearTimeout(t);
    });
  }, 1000);
}

function metrics(): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, get: (s: State) => number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [res, s] of states) lines.push(`${name}{resource="${res}"} ${get(s)}`);
  };
  family('lab_proxy_up', 'gauge', 'The resource is reachable through the proxy (0 while cut)', (s) => (s.cut ? 0 : s.upstreamOk ? 1 : 0));
  family('lab_proxy_delay_ms', 'gauge', 'Delay added per forwarded chunk', (s) => s.delayMs);
  family('lab_proxy_connections', 'gauge', 'Open proxied sockets', (s) => s.conns.size);
  family('lab_proxy_accepted_total', 'counter', 'Connections accepted', (s) => s.accepted);
  family('lab_proxy_refused_total', 'counter', 'Connections refused while cut', (s) => s.refused);
  family('lab_proxy_bytes_total', 'counter', 'Bytes forwarded', (s) => s.bytes);
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
  lines.push('# TYPE process_cpu_seconds_total counter', `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
  return lines.join('\n') + '\n';
}

const admin = createHttpServer({ name: 'lab proxy', bodyLimit: 4096 });
admin.get('/health', async () => 'ok');
admin.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics()));
admin.post('/admin/:resource', {
  schema: {
    params: { type: 'object', properties: { resource: { type: 'string' } } },
    body: { type: 'object', additionalProperties: false, properties: { delayMs: { type: 'number', minimum: 0, maximum: 60_000 }, cut: { type: 'boolean' } } },
  },
  handler: async (req, reply) => {
    const resource = (req.params as { resource: string }).resource;
    const st = states.get(resource);
    if (!st) return reply.code(404).send({ error: 'not_found', message: `no proxied resource ${resource}` });
    const b = req.body as { delayMs?: number; cut?: boolean };
    if (typeof b.delayMs === 'number') st.delayMs = b.delayMs;
    if (typeof b.cut === 'boolean') {
      st.cut = b.cut;
      // Cutting also breaks the connections pools hold, or they would keep working.
      if (b.cut) for (const sock of st.conns) sock.resetAndDestroy();
    }
    log('proxy settings changed', { resource, delayMs: st.delayMs, cut: st.cut });
    return { delayMs: st.delayMs, cut: st.cut };
  },
});
await admin.listen({ host: '127.0.0.1', port: conf.admin });
log('proxy admin listening', { port: conf.admin });
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));

/**
 * An open-loop KServe v2 load generator that runs in its own process, so the inference benchmark
 * measures `panoptes serve` from outside, over HTTP, the way its clients load it. Like kload
 * (../shared/tools/kload), and with what kload lacks: the binary tensor data extension.
 *
 * - Poisson arrivals at --rate R/s in total (mulberry32, --seed), each request's model drawn
 *   uniformly from --models; a request is sent at its scheduled time however many are
 *   outstanding (open loop), on an idle keep-alive connection or a new one (at most --conns;
 *   beyond that it is skipped and counted).
 * - Latency runs from the scheduled send time to the last byte of the response, so the client's
 *   own lag is charged to latency, never hidden; the send lag (actual − scheduled) is reported.
 * - Only requests scheduled in [--warmup-s, --seconds) count; rates divide by that window.
 * - --encoding binary sends Triton's binary tensor data (`Inference-Header-Content-Length`) and
 *   asks for binary outputs; json sends JSON tensors (what any KServe v2 server accepts).
 *
 * HTTP/1.1 over raw sockets with one request per connection at a time: node:http's client costs
 * 65–90 µs of CPU per request on this machine (kload's measurement), which the server would lose
 * on two shared cores. The responses carry Content-Length (both servers measured set it).
 *
 * Prints one JSON object (LoadResult) on stdout. Loopback targets only.
 *
 *   node --import tsx tests/bench/inference-load.ts --url http://127.0.0.1:8000 --models mlp-l \
 *     --batch-rows 8 --rate 1000 --seconds 6 --warmup-s 1 --slo-ms 25 --encoding binary
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';

export interface LoadResult {
  url: string;
  encoding: 'json' | 'binary';
  models: string[];
  rateRps: number;
  windowS: number;
  sloMs: number;
  offeredRps: number;
  scheduled: number;
  skipped: number;
  unfinished: number;
  netErrors: number;
  ok: number;
  okInSlo: number;
  /** 200s past the SLO plus 504s: admitted and answered late. */
  late: number;
  rejected: number;
  status: Record<string, number>;
  goodputRps: number;
  /** okInSlo / (ok + 504s): what share of the admitted requests met the SLO. */
  admittedInSlo: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** How long a 429 took to arrive, from the scheduled send time. */
  rejectMs: { p50: number; p99: number; max: number };
  sendLagMs: { p50: number; p99: number; max: number };
  clientCpuPct: number;
  errorSamples: Record<string, string>;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (v: number, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

interface Meta {
  name: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string }[];
}

async function getJson(url: string, init?: RequestInit): Promise<unknown> {
  const r = await fetch(url, init);
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

/** One request body per model, in the chosen encoding, with its prebuilt HTTP/1.1 head. */
function buildRequest(host: string, meta: Meta, rows: number, encoding: 'json' | 'binary', rnd: () => number): Buffer {
  const tensors = meta.inputs.map((t) => {
    const shape = t.shape.map((d, i) => (d === -1 ? (i === 0 ? rows : 1) : d));
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.round((rnd() * 2 - 1) * 1e4) / 1e4;
    return { name: t.name, datatype: t.datatype, shape, data };
  });
  let body: Buffer;
  const headers = [`POST /v2/models/${encodeURIComponent(meta.name)}/infer HTTP/1.1`, `Host: ${host}`, 'Connection: keep-alive'];
  if (encoding === 'json') {
    body = Buffer.from(JSON.stringify({ inputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: Array.from(t.data) })) }));
    headers.push('Content-Type: application/json');
  } else {
    const header = Buffer.from(
      JSON.stringify({
        inputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: t.data.byteLength } })),
        outputs: meta.outputs.map((o) => ({ name: o.name, parameters: { binary_data: true } })),
      }),
    );
    body = Buffer.concat([header, ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
    headers.push('Content-Type: application/octet-stream', `Inference-Header-Content-Length: ${header.length}`);
  }
  headers.push(`Content-Length: ${body.length}`, '', '');
  return Buffer.concat([Buffer.from(headers.join('\r\n')), body]);
}

interface Outstanding {
  index: number;
  scheduled: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

class Conn {
  busy: Outstanding | null = null;
  private buf: Buffer | null = null;
  private need = -1;
  private status = 0;
  private bodyStart = 0;
  readonly sock: Socket;
  dead = false;
  constructor(host: string, port: number, private readonly done: (c: Conn, o: Outstanding, status: number, body: Buffer | null) => void, private readonly failed: (c: Conn, o: Outstanding | null, code: string) => void) {
    this.sock = connect({ host, port, noDelay: true });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', (e: NodeJS.ErrnoException) => this.die(e.code ?? 'ERR'));
    this.sock.on('close', () => this.die('ECONNRESET'));
  }
  private die(code: string): void {
    if (this.dead) return;
    this.dead = true;
    const o = this.busy;
    this.busy = null;
    this.failed(this, o, code);
  }
  send(o: Outstanding, bytes: Buffer): void {
    this.busy = o;
    this.buf = null;
    this.need = -1;
    this.sock.write(bytes);
  }
  private onData(d: Buffer): void {
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    if (this.need < 0) {
      const end = this.buf.indexOf(HEAD_END);
      if (end < 0) return;
      this.status = Number(this.buf.toString('latin1', 9, 12));
      const head = this.buf.toString('latin1', 0, end).toLowerCase();
      const m = /\r\ncontent-length:\s*(\d+)/.exec(head);
      if (!m) return this.die('NO_CONTENT_LENGTH');
      this.bodyStart = end + 4;
      this.need = this.bodyStart + Number(m[1]);
    }
    if (this.buf.length < this.need) return;
    const o = this.busy;
    const body = this.status === 200 ? null : this.buf.subarray(this.bodyStart, this.need);
    this.buf = null;
    this.need = -1;
    this.busy = null;
    if (o) this.done(this, o, this.status, body);
  }
}

export async function runLoad(opts: {
  url: string;
  models: string[];
  rows: number;
  rate: number;
  seconds: number;
  warmupS: number;
  sloMs: number;
  encoding: 'json' | 'binary';
  seed: number;
  conns: number;
  drainMs: number;
}): Promise<LoadResult> {
  const u = new URL(opts.url);
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname)) throw new Error(`loopback URLs only, got ${opts.url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const ready = await fetch(new URL('/v2/health/ready', u));
  if (!ready.ok) throw new Error(`${opts.url} is not ready (${ready.status})`);
  const rnd = mulberry32(opts.seed);
  const requests: Buffer[] = [];
  for (const m of opts.models) {
    const meta = (await getJson(new URL(`/v2/models/${encodeURIComponent(m)}`, u).href)) as Meta;
    requests.push(buildRequest(u.host, meta, opts.rows, opts.encoding, mulberry32(opts.seed * 7919 + requests.length)));
  }

  // The schedule: absolute offsets (ms) from the start and a model index per request.
  const times: number[] = [];
  const which: number[] = [];
  for (let t = 0; ; ) {
    t += (-Math.log(1 - rnd()) / opts.rate) * 1000;
    if (t >= opts.seconds * 1000) break;
    times.push(t);
    which.push(Math.floor(rnd() * opts.models.length));
  }
  const n = times.length;
  const latency = new Float64Array(n).fill(NaN);
  const status = new Uint16Array(n);
  const lag = new Float64Array(n).fill(NaN);
  const netErr = new Uint8Array(n);
  const skipped = new Uint8Array(n);
  const samples: Record<string, string> = {};
  let outstanding = 0;
  let conns = 0;
  const idle: Conn[] = [];

  const done = (c: Conn, o: Outstanding, st: number, body: Buffer | null) => {
    latency[o.index] = performance.now() - o.scheduled;
    status[o.index] = st;
    outstanding--;
    if (body && samples[st] === undefined) samples[st] = body.toString('utf8').slice(0, 400);
    idle.push(c);
  };
  const failed = (c: Conn, o: Outstanding | null, code: string) => {
    conns--;
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
    if (o) {
      netErr[o.index] = 1;
      outstanding--;
      samples[code] ??= code;
    }
    c.sock.destroy();
  };

  const cpu0 = process.cpuUsage();
  const start = performance.now() + 20;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < n && start + times[next]! <= now) {
        const i = next++;
        const scheduled = start + times[i]!;
        let c = idle.pop();
        if (!c) {
          if (conns >= opts.conns) {
            skipped[i] = 1;
            continue;
          }
          conns++;
          c = new Conn(host, port, done, failed);
        }
        outstanding++;
        lag[i] = performance.now() - scheduled;
        c.send({ index: i, scheduled }, requests[which[i]!]!);
      }
      if (next >= n) return resolve();
      setTimeout(tick, Math.max(0, start + times[next]! - performance.now()));
    };
    setTimeout(tick, 20);
  });
  const sendEnd = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const drainEnd = performance.now() + opts.drainMs;
  while (outstanding > 0 && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 5));
  for (const c of idle) c.sock.destroy();

  // Only the measured window counts.
  const w0 = opts.warmupS * 1000;
  const windowS = opts.seconds - opts.warmupS;
  const lat: number[] = [];
  const rej: number[] = [];
  const lags: number[] = [];
  const codes: Record<string, number> = {};
  let scheduled = 0;
  let skip = 0;
  let unfinished = 0;
  let net = 0;
  let ok = 0;
  let okIn = 0;
  let late = 0;
  let rejected = 0;
  for (let i = 0; i < n; i++) {
    if (times[i]! < w0) continue;
    scheduled++;
    if (skipped[i]) {
      skip++;
      continue;
    }
    lags.push(lag[i]!);
    if (netErr[i]) {
      net++;
      continue;
    }
    if (Number.isNaN(latency[i]!)) {
      unfinished++;
      continue;
    }
    const st = status[i]!;
    codes[st] = (codes[st] ?? 0) + 1;
    if (st === 200) {
      ok++;
      lat.push(latency[i]!);
      if (latency[i]! <= opts.sloMs) okIn++;
      else late++;
    } else if (st === 504) late++;
    else {
      rejected++;
      if (st === 429) rej.push(latency[i]!);
    }
  }
  lat.sort((a, b) => a - b);
  rej.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const sendS = (sendEnd - start) / 1000;
  return {
    url: opts.url,
    encoding: opts.encoding,
    models: opts.models,
    rateRps: opts.rate,
    windowS,
    sloMs: opts.sloMs,
    offeredRps: round(scheduled / windowS, 1),
    scheduled,
    skipped: skip,
    unfinished,
    netErrors: net,
    ok,
    okInSlo: okIn,
    late,
    rejected,
    status: codes,
    goodputRps: round(okIn / windowS, 1),
    admittedInSlo: ok + (codes['504'] ?? 0) > 0 ? round(okIn / (ok + (codes['504'] ?? 0)), 5) : NaN,
    latencyMs: { p50: round(quantile(lat, 0.5)), p90: round(quantile(lat, 0.9)), p99: round(quantile(lat, 0.99)), p999: round(quantile(lat, 0.999)), max: round(lat[lat.length - 1] ?? NaN) },
    rejectMs: { p50: round(quantile(rej, 0.5)), p99: round(quantile(rej, 0.99)), max: round(rej[rej.length - 1] ?? NaN) },
    sendLagMs: { p50: round(quantile(lags, 0.5)), p99: round(quantile(lags, 0.99)), max: round(lags[lags.length - 1] ?? NaN) },
    clientCpuPct: round(((cpu.user + cpu.system) / 1000 / (sendS * 1000)) * 100, 1),
    errorSamples: samples,
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      models: { type: 'string' },
      'batch-rows': { type: 'string', default: '1' },
      rate: { type: 'string' },
      seconds: { type: 'string', default: '5' },
      'warmup-s': { type: 'string', default: '1' },
      'slo-ms': { type: 'string', default: '25' },
      encoding: { type: 'string', default: 'binary' },
      seed: { type: 'string', default: '1' },
      conns: { type: 'string', default: '1024' },
      'drain-ms': { type: 'string', default: '2000' },
      help: { type: 'boolean', default: false },
    },
  });
  const usage = 'usage: inference-load.ts --url http://127.0.0.1:8000 --models a,b --rate R [--batch-rows K=1] [--seconds T=5] [--warmup-s W=1] [--slo-ms S=25] [--encoding binary|json] [--seed N=1] [--conns N=1024] [--drain-ms D=2000]';
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const num = (k: keyof typeof values, min: number): number => {
    const v = Number(values[k]);
    if (!Number.isFinite(v) || v < min) {
      console.error(`--${k} expects a number ≥ ${min}, got ${JSON.stringify(values[k])}\n${usage}`);
      process.exit(2);
    }
    return v;
  };
  if (!values.models || values.rate === undefined || (values.encoding !== 'json' && values.encoding !== 'binary')) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const r = await runLoad({
      url: values.url!,
      models: values.models.split(',').filter(Boolean),
      rows: num('batch-rows', 1),
      rate: num('rate', 0.001),
      seconds: num('seconds', 0.1),
      warmupS: num('warmup-s', 0),
      sloMs: num('slo-ms', 0.001),
      encoding: values.encoding,
      seed: num('seed', 0),
      conns: num('conns', 1),
      drainMs: num('drain-ms', 0),
    });
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  } catch (err) {
    console.error(`inference-load: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
}

/**
 * What fastify costs the door: the same trivial KServe v2 infer handler (read a binary 1-row body,
 * answer a small JSON) served by node:http and by a fastify route, each in its own process, driven
 * from a separate load process (inference-load.ts) at a fixed open-loop rate; the server's CPU
 * (utime + stime from /proc) per answered request. Pairs alternate, so drift on a shared machine
 * hits both. This is the figure behind keeping node:http for the hot infer route
 * (pipelines/inference/README.md: The door). Figures only.
 *
 *   npm run bench -- inference-door       (PANOPTES_BENCH_DOOR_RATE=4000, _PAIRS=3)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { LoadResult } from './inference-load.ts';

const SELF = fileURLToPath(import.meta.url);
const LOAD = fileURLToPath(new URL('./inference-load.ts', import.meta.url));
const META = { name: 'm', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 32] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 8] }] };

function answer(body: Buffer): string {
  const n = Number(body.length);
  return JSON.stringify({ model_name: 'm', model_version: '1', outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 8], data: [n, 0, 0, 0, 0, 0, 0, 0] }] });
}

/** Child mode: serve with `kind` on an ephemeral port, print it. */
async function serve(kind: string): Promise<void> {
  if (kind === 'http') {
    const server = createServer((req, res) => {
      if (req.method === 'GET') {
        const t = JSON.stringify(req.url?.includes('ready') ? { ready: true } : META);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
        return res.end(t);
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const t = answer(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
        res.end(t);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    console.log((server.address() as AddressInfo).port);
  } else {
    const app = Fastify({ bodyLimit: 8 << 20 });
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.get('/v2/health/ready', async () => ({ ready: true }));
    app.get('/v2/models/:name', async () => META);
    app.post('/v2/models/:name/infer', (req, reply) => void reply.type('application/json').send(answer(req.body as Buffer)));
    await app.listen({ port: 0, host: '127.0.0.1' });
    console.log((app.server.address() as AddressInfo).port);
  }
}

function cpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}

async function measure(kind: string, rate: number): Promise<{ usPerReq: number; r: LoadResult }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const url = `http://127.0.0.1:${port}`;
    await run(['--import', 'tsx', LOAD, '--url', url, '--models', 'm', '--rate', '500', '--seconds', '1', '--warmup-s', '0', '--encoding', 'binary']);
    const c0 = cpu(child.pid!);
    const r = JSON.parse(await run(['--import', 'tsx', LOAD, '--url', url, '--models', 'm', '--rate', String(rate), '--seconds', '4', '--warmup-s', '0', '--encoding', 'binary'])) as LoadResult;
    const used = cpu(child.pid!) - c0;
    const answered = Object.values(r.status).reduce((a, b) => a + b, 0);
    return { usPerReq: (used / Math.max(1, answered)) * 1e6, r };
  } finally {
    child.kill('SIGTERM');
  }
}

export async function run_(): Promise<void> {
  const rate = Number(process.env['PANOPTES_BENCH_DOOR_RATE'] ?? 4000);
  const pairs = Number(process.env['PANOPTES_BENCH_DOOR_PAIRS'] ?? 3);
  const rows: string[] = ['| pair | node:http µs/request | fastify µs/request | fastify / node:http | client lag p99 ms (http, fastify) |', '|---:|---:|---:|---:|---:|'];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? ['http', 'fastify'] : ['fastify', 'http'];
    const got: Record<string, { usPerReq: number; r: LoadResult }> = {};
    for (const k of order) got[k] = await measure(k, rate);
    rows.push(`| ${i + 1} | ${got['http']!.usPerReq.toFixed(1)} | ${got['fastify']!.usPerReq.toFixed(1)} | ${(got['fastify']!.usPerReq / got['http']!.usPerReq).toFixed(2)} | ${got['http']!.r.sendLagMs.p99}, ${got['fastify']!.r.sendLagMs.p99} |`);
  }
  console.log(`server CPU per 1-row binary request at ${rate}/s, 4 s per run, trivial handler, load process on the same cores:`);
  for (const l of rows) console.log(l);
}

export { run_ as run };

if (process.argv[1] === SELF) {
  const i = process.argv.indexOf('--serve');
  if (i >= 0) await serve(process.argv[i + 1]!);
  else await run_();
}

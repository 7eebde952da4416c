/**
 * The remote-write receiver against its peer, from outside (issue 21): Debian's Prometheus as a
 * remote-write receiver (`--web.enable-remote-write-receiver`, writing to a TSDB in a temp dir)
 * and `panoptes ingest` with its defaults (on the real Kafka at PANOPTES_BROKERS or
 * 127.0.0.1:9092: acks=all, idempotent producer, 204 only once every record is acknowledged), both
 * driven by the same load generator in a separate process (../shared/tools/rwload: 1,000 series ×
 * 10 samples per snappy request, 2 lanes, closed loop, 10 s), alternated round by round (the order
 * flips every round so a drift in machine load favours neither).
 *
 * Printed: each round's accepted samples/s, latency and CPU per 100,000 samples of each receiver
 * (user+system of the process tree, from /proc: Prometheus; the `panoptes ingest` primary and its
 * workers, librdkafka's threads included), the broker's CPU per 100,000 samples during the
 * Panoptes runs (the shared broker serves other clients too, so an upper bound), the ratio
 * Panoptes/Prometheus per round and its median.
 *
 * Env: PANOPTES_BENCH_RW_SECONDS (10), PANOPTES_BENCH_RW_ROUNDS (3), PANOPTES_BENCH_RW_LANES (2),
 * PANOPTES_BENCH_RW_VARIANTS: `;`-separated Panoptes variants to alternate with Prometheus, each
 * `label=ARGS` with ingest arguments, VAR=value environment words and `@COMMIT` to run that
 * commit's code instead of this tree's (extracted with `git archive` into a temp dir, sharing this
 * node_modules), for before/after figures in one run (default `defaults=`), e.g.
 * `before=@73f2cfe PANOPTES_KAFKA_CLIENT=librdkafka --workers 2;after=`.
 * The second table, `remote-write.inprocess.bench.ts`, runs with the same `npm run bench -- remote-write`
 * (PANOPTES_BENCH_RW_INPROCESS=0 skips it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROKER, REGISTRY, ROOT, uniquePrefix } from '../helpers/infra.ts';

const SECONDS = Number(process.env.PANOPTES_BENCH_RW_SECONDS ?? 10);
const ROUNDS = Number(process.env.PANOPTES_BENCH_RW_ROUNDS ?? 3);
const LANES = Number(process.env.PANOPTES_BENCH_RW_LANES ?? 2);
const SERIES = 1000;
const SAMPLES = 10;
const HERE = dirname(fileURLToPath(import.meta.url));
const RWLOAD_DIR = process.env.PANOPTES_RWLOAD_DIR ?? join(ROOT, '..', 'shared', 'tools', 'rwload');
const PROMETHEUS = '/usr/bin/prometheus';
const CLK_TCK = 100;

interface Variant {
  label: string;
  args: string[];
  env: Record<string, string>;
  /** A commit whose code runs instead of this tree's. */
  commit?: string;
}

function variants(): Variant[] {
  const spec = process.env.PANOPTES_BENCH_RW_VARIANTS ?? 'defaults=';
  return spec.split(';').filter((s) => s.trim()).map((v) => {
    const eq = v.indexOf('=');
    const label = v.slice(0, eq).trim();
    const words = v.slice(eq + 1).trim().split(/\s+/).filter(Boolean);
    const env: Record<string, string> = {};
    const args: string[] = [];
    let commit: string | undefined;
    for (const w of words) {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(w);
      if (m) env[m[1]!] = m[2]!;
      else if (w.startsWith('@')) commit = w.slice(1);
      else args.push(w);
    }
    return { label, args, env, ...(commit ? { commit } : {}) };
  });
}

/** What rwload prints with --json (the fields used here). */
interface Load {
  seconds: number;
  requests: number;
  status: Record<string, number>;
  acceptedSamples: number;
  acceptedSamplesPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  errorSamples: string[];
  clientCpuPct: number;
}

interface Target {
  name: string;
  url: string;
  /** CPU seconds of the receiver's process tree so far. */
  cpuS(): number;
  /** Whether the broker's CPU counts for it. */
  usesBroker: boolean;
  close(): Promise<void>;
}

interface Row {
  round: number;
  receiver: string;
  samplesPerS: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  cpuPer100k: number;
  brokerCpuPer100k: number | null;
  loadAvg: number;
  errors: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function procCpuS(pid: number | null | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const task of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)) out.push(task, ...childrenOf(task));
    return out;
  } catch {
    return [];
  }
}

function treeCpuS(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((a, p) => a + procCpuS(p), 0);
}

/** The pid listening on the broker's port, when the broker runs on this machine. */
function brokerPid(): number | null {
  const port = BROKER.slice(BROKER.lastIndexOf(':') + 1);
  const r = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : null;
}

function stop(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, child: ChildProcess, ms: number, log: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${log()}`);
    if (await ok().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what} not ready after ${ms / 1000} s: ${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startPrometheus(): Promise<Target> {
  if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is not installed (bash infra/debian.sh installs Debian's prometheus)`);
  const dir = mkdtempSync(join(tmpdir(), 'panoptes-bench-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  const port = await freePort();
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--web.enable-remote-write-receiver', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  try {
    await waitUntil('prometheus', async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, child, 60_000, () => err);
  } catch (e) {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    name: 'prometheus',
    url: `http://127.0.0.1:${port}/api/v1/write`,
    cpuS: () => treeCpuS(child.pid!),
    usesBroker: false,
    close: async () => {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A commit's tree in a temp dir, with this project's node_modules; removed at exit. */
function checkout(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), `panoptes-bench-${commit.slice(0, 12)}-`));
  const archive = spawnSync('git', ['-C', ROOT, 'archive', '--format=tar', commit], { maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive ${commit}: ${archive.stderr.toString().trim()}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr.toString().trim()}`);
  spawnSync('ln', ['-s', join(ROOT, 'node_modules'), join(dir, 'node_modules')]);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `panoptes ingest` as a user starts it: only the Kafka address and a topic prefix of its own. */
async function startIngest(v: Variant): Promise<Target & { plan: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PANOPTES_TRANSPORT: 'kafka',
    PANOPTES_BROKERS: process.env.PANOPTES_BROKERS ?? BROKER,
    PANOPTES_REGISTRY_URL: process.env.PANOPTES_REGISTRY_URL ?? REGISTRY,
    PANOPTES_TOPIC_PREFIX: uniquePrefix('benchrwpeer'),
    PANOPTES_LOG_LEVEL: 'info',
  };
  // The defaults are what is measured: nothing inherited may choose for them.
  delete env.PANOPTES_KAFKA_CLIENT;
  delete env.PANOPTES_CONFIG;
  delete env.NODE_TEST_CONTEXT;
  Object.assign(env, v.env);
  const root = v.commit ? checkout(v.commit) : ROOT;
  const child = spawn(process.execPath, [join(root, 'bin', 'panoptes.js'), 'ingest', '--json', '--listen', '127.0.0.1:0', ...v.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-20_000)));
  let url = '';
  await waitUntil(
    'panoptes ingest',
    async () => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) url = (JSON.parse(line) as { url: string }).url;
      return url !== '';
    },
    child,
    90_000,
    () => err.slice(-2000),
  );
  const planLine = err.split('\n').find((l) => l.includes('remote-write: '));
  let plan = planLine ?? `(no plan logged${v.commit ? `; code of ${v.commit}` : ''}: ${[...v.args, ...Object.entries(v.env).map(([k, x]) => `${k}=${x}`)].join(' ') || 'defaults'})`;
  try {
    plan = (JSON.parse(planLine ?? '') as { msg?: string; message?: string }).msg ?? plan;
  } catch {
    /* not JSON */
  }
  return {
    name: `panoptes ${v.label}`,
    url,
    plan,
    cpuS: () => treeCpuS(child.pid!),
    usesBroker: true,
    close: () => stop(child),
  };
}

function rwloadCommand(): string[] {
  const script = join(RWLOAD_DIR, 'rwload.mjs');
  if (!existsSync(script)) throw new Error(`rwload not found at ${script} (set PANOPTES_RWLOAD_DIR)`);
  // Without its own `npm ci`, rwload's one dependency (snappyjs) is resolved from this project.
  const own = existsSync(join(RWLOAD_DIR, 'node_modules', 'snappyjs'));
  return [...(own ? [] : ['--import', join(HERE, 'rwload-deps.mjs')]), script];
}

function drive(url: string, seconds: number): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...rwloadCommand(), '--url', url, '--series', String(SERIES), '--samples', String(SAMPLES), '--concurrency', String(LANES), '--seconds', String(seconds), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Load);
      } catch {
        reject(new Error(`rwload exited with ${code}: ${err.trim().slice(-500)}`));
      }
    });
  });
}

async function measure(t: Target, round: number): Promise<Row> {
  const bpid = t.usesBroker ? brokerPid() : null;
  const b0 = bpid ? procCpuS(bpid) : 0;
  const c0 = t.cpuS();
  const load = await drive(t.url, SECONDS);
  const cpu = t.cpuS() - c0;
  const b1 = bpid ? procCpuS(bpid) : 0;
  const per100k = load.acceptedSamples > 0 ? 1e5 / load.acceptedSamples : NaN;
  const row: Row = {
    round,
    receiver: t.name,
    samplesPerS: load.acceptedSamplesPerSec,
    p50: load.latencyMs.p50,
    p99: load.latencyMs.p99,
    statuses: load.status,
    cpuPer100k: cpu * per100k,
    brokerCpuPer100k: bpid ? (b1 - b0) * per100k : null,
    loadAvg: loadavg()[0]!,
    errors: load.errorSamples,
  };
  const broker = row.brokerCpuPer100k === null ? '' : `, broker ${row.brokerCpuPer100k.toFixed(3)} s`;
  console.log(
    `round ${round}  ${t.name.padEnd(20)} ${row.samplesPerS.toLocaleString('en-US').padStart(10)} samples/s | p50 ${row.p50} ms p99 ${row.p99} ms | ${JSON.stringify(row.statuses)} | CPU per 100k samples: receiver ${row.cpuPer100k.toFixed(3)} s${broker} | load avg ${row.loadAvg.toFixed(1)}` +
      (row.errors.length > 0 ? ` | e.g. ${row.errors[0]}` : ''),
  );
  return row;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(): Promise<void> {
  const vs = variants();
  console.log(`remote-write against Prometheus: rwload (separate process), ${SERIES} series × ${SAMPLES} samples per request, ${LANES} lanes, closed loop, ${SECONDS} s per run, ${ROUNDS} alternated rounds; ${cpus().length} cores, load avg ${loadavg()[0]!.toFixed(1)} at start`);
  const prom = await startPrometheus();
  const ingests: (Target & { plan: string })[] = [];
  try {
    for (const v of vs) {
      const t = await startIngest(v);
      ingests.push(t);
      console.log(`${t.name}: ${t.plan}`);
    }
    // Warm-up (JIT, connections, topic metadata), not counted.
    for (const t of [prom, ...ingests]) await drive(t.url, 3);
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? [prom, ...ingests] : [...ingests, prom];
      for (const t of order) rows.push(await measure(t, round));
    }
    const promRows = rows.filter((r) => r.receiver === prom.name);
    console.log('');
    console.log('| receiver | samples/s per round | median | ratio to Prometheus per round | median ratio | receiver CPU s per 100k samples (median) | broker CPU s per 100k (median) |');
    console.log('|---|---|---:|---|---:|---:|---:|');
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`| Prometheus ${'2.42'} receiver (TSDB) | ${promRows.map((r) => fmt(r.samplesPerS)).join(', ')} | ${fmt(median(promRows.map((r) => r.samplesPerS)))} | 1 | 1 | ${median(promRows.map((r) => r.cpuPer100k)).toFixed(3)} | — |`);
    const summary: Record<string, unknown>[] = [];
    for (const t of ingests) {
      const mine = rows.filter((r) => r.receiver === t.name);
      const ratios = mine.map((r) => r.samplesPerS / promRows.find((p) => p.round === r.round)!.samplesPerS);
      const brokers = mine.map((r) => r.brokerCpuPer100k).filter((x): x is number => x !== null);
      console.log(`| \`${t.name}\` | ${mine.map((r) => fmt(r.samplesPerS)).join(', ')} | ${fmt(median(mine.map((r) => r.samplesPerS)))} | ${ratios.map((x) => x.toFixed(2)).join(', ')} | **${median(ratios).toFixed(2)}** | ${median(mine.map((r) => r.cpuPer100k)).toFixed(3)} | ${brokers.length ? median(brokers).toFixed(3) : '—'} |`);
      summary.push({ variant: t.name, plan: t.plan, medianRatio: median(ratios), ratios });
    }
    console.log(`\nEvery 2xx counted; a receiver that refused or failed requests shows their statuses above. Load avg at the end ${loadavg()[0]!.toFixed(1)}.`);
    console.log('JSON:' + JSON.stringify({ bench: 'remote-write-peer', seconds: SECONDS, lanes: LANES, rounds: ROUNDS, rows, summary }));
  } finally {
    for (const t of ingests) await t.close();
    await prom.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await run();

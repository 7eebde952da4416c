/**
 * A real Prometheus (Debian's package) for the integration tests: scrapes a local target every
 * second and remote-writes to the receiver under test. Everything on loopback, its own temp
 * storage, killed by pid at the end. Fails (never skips) when Prometheus cannot be installed or
 * started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function infra(script: string, env: Record<string, string> = {}): void {
  execFileSync('bash', [join(REPO, 'infra', script)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000, env: { ...process.env, ...env } });
}

/**
 * The same without blocking the event loop: the receiver and the scrape target live in the test
 * process and must keep answering while a script stops or starts Kafka.
 */
export function infraAsync(script: string, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [join(REPO, 'infra', script)], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    const t = setTimeout(() => p.kill('SIGTERM'), 900_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve();
      else reject(new Error(`infra/${script} exited with ${code}`));
    });
  });
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function prometheusBinary(): string {
  const bin = '/usr/bin/prometheus';
  if (!existsSync(bin)) infra('debian.sh');
  if (!existsSync(bin)) throw new Error('prometheus is not installed and infra/debian.sh could not install it');
  return bin;
}

/** A scrape target whose counter goes up by one on every scrape: values are 1, 2, 3, ... */
export class CounterTarget {
  scrapes = 0;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.scrapes++;
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(
        [
          '# HELP rw_test_scrapes_total Scrapes served by the test target.',
          '# TYPE rw_test_scrapes_total counter',
          `rw_test_scrapes_total{kind="counter"} ${this.scrapes}`,
          '# TYPE rw_test_wave gauge',
          ...Array.from({ length: 20 }, (_, i) => `rw_test_wave{shard="${i}"} ${Math.sin(this.scrapes / 3 + i) * 100}`),
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
    this.server = null;
  }
}

export interface PrometheusOptions {
  writeUrl: string;
  targetPort: number;
  /** Extra lines under remote_write[0].queue_config. */
  queue?: Record<string, string | number | boolean>;
  /** Lines under remote_write[0] (authorization, tls_config, ...), indented by the caller. */
  extra?: string[];
}

export class PrometheusProcess {
  private proc: ChildProcess | null = null;
  private dir = '';
  port = 0;
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(o: PrometheusOptions): Promise<void> {
    const bin = prometheusBinary();
    this.dir = mkdtempSync(join(tmpdir(), 'rw-prom-'));
    this.port = await freePort();
    const queue = {
      batch_send_deadline: '500ms',
      max_samples_per_send: 200,
      min_backoff: '100ms',
      max_backoff: '1s',
      retry_on_http_429: true,
      ...(o.queue ?? {}),
    };
    writeFileSync(
      join(this.dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: rw-target',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${o.targetPort}']`,
        'remote_write:',
        `  - url: ${o.writeUrl}`,
        ...(o.extra ?? []),
        '    remote_timeout: 30s',
        '    queue_config:',
        ...Object.entries(queue).map(([k, v]) => `      ${k}: ${v}`),
        '',
      ].join('\n'),
    );
    const log = join(this.dir, 'prometheus.log');
    writeFileSync(log, '');
    this.proc = spawn(
      bin,
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        '--storage.tsdb.retention.time=1h',
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc.stderr!.on('data', (c: Buffer) => writeFileSync(log, c, { flag: 'a' }));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`prometheus exited with ${this.proc.exitCode}:\n${this.logTail()}`);
      try {
        const r = await fetch(`${this.url}/-/ready`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 60 s:\n${this.logTail()}`);
      await sleep(250);
    }
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'prometheus.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Samples of `selector[rangeS s]` at `atMs` from Prometheus's own query API. */
  async rangeSamples(selector: string, rangeS: number, atMs: number): Promise<{ labels: Record<string, string>; samples: [number, number][] }[]> {
    const q = new URLSearchParams({ query: `${selector}[${rangeS}s]`, time: (atMs / 1000).toFixed(3) });
    const r = await fetch(`${this.url}/api/v1/query?${q}`);
    const body = (await r.json()) as { status: string; data: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] } };
    if (body.status !== 'success' || body.data.resultType !== 'matrix') throw new Error(`query failed: ${JSON.stringify(body)}`);
    return body.data.result.map((s) => ({ labels: s.metric, samples: s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]) }));
  }

  /** Prometheus's own remote-storage metric value (sum over its series), from its /metrics. */
  async selfMetric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.pid !== undefined) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    this.proc = null;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 250 ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

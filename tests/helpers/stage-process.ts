/**
 * Pipeline stages as their users run them: `panoptes <command>` child processes configured by
 * PANOPTES_* environment variables, with /metrics and /healthz on their own port. Every child is
 * killed by the test that started it (stopAll), never left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { childEnv, ROOT } from './infra.ts';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export class StageProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<number | null>;
  readonly startedAt = Date.now();

  constructor(readonly name: string, args: string[], env: Record<string, string>, readonly metricsUrl: string | null) {
    this.proc = spawn(process.execPath, [join(ROOT, 'bin', 'panoptes.js'), ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (c: Buffer) => {
      for (const l of c.toString().split('\n')) {
        if (!l.trim()) continue;
        if (this.lines.length < 5000) this.lines.push(l);
        for (const w of [...this.waiters]) {
          const m = l.match(w.re);
          if (m) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    };
    this.proc.stdout!.on('data', take);
    this.proc.stderr!.on('data', take);
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  /** Resolves with the first output line matching `re`; rejects if the process exits first or after `timeoutMs`. */
  waitLine(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const seen = this.lines.map((l) => l.match(re)).find((m) => m);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no line matching ${re} after ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ re, resolve: (m) => (clearTimeout(t), resolve(m)) });
      void this.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`${this.name} exited (${code}) before printing ${re}:\n${this.tail()}`));
      });
    });
  }

  tail(n = 25): string {
    return this.lines.slice(-n).join('\n');
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGTERM (a clean stop: in-flight work finished, group left), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.running) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
      const code = await this.exited;
      clearTimeout(t);
      return code;
    }
    return this.exited;
  }

  /** A crash: kill -9. */
  async kill(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }

  async metrics(): Promise<string> {
    if (!this.metricsUrl) throw new Error(`${this.name} has no metrics endpoint`);
    return (await fetch(`${this.metricsUrl}/metrics`)).text();
  }

  async healthz(): Promise<{ status: number; body: string }> {
    if (!this.metricsUrl) throw new Error(`${this.name} has no metrics endpoint`);
    const r = await fetch(`${this.metricsUrl}/healthz`);
    return { status: r.status, body: await r.text() };
  }
}

/** Starts `panoptes <args>` with the pipeline's environment and its own metrics port. */
export async function startStage(name: string, args: string[], env: Record<string, string>, withMetrics = true): Promise<StageProcess> {
  const port = withMetrics ? await freePort() : 0;
  return new StageProcess(name, args, { ...env, ...(withMetrics ? { PANOPTES_METRICS_LISTEN: `127.0.0.1:${port}` } : {}) }, withMetrics ? `http://127.0.0.1:${port}` : null);
}

/** Sum of a metric's samples in a Prometheus text exposition, optionally filtered by labels. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}


/**
 * A stage under a supervisor, as systemd's Restart=on-failure or a Kubernetes Deployment would
 * run it: if the process exits on its own, it is started again (same arguments, same instance
 * id, so its transactional id fences the dead one and it rebuilds its state from the topics).
 */
export class Supervised {
  restarts = 0;
  readonly exits: string[] = [];
  private stopping = false;
  private restarting: Promise<void> = Promise.resolve();

  private constructor(public current: StageProcess, private readonly launch: () => Promise<StageProcess>) {
    this.watch(current);
  }

  static async start(launch: () => Promise<StageProcess>): Promise<Supervised> {
    return new Supervised(await launch(), launch);
  }

  private watch(p: StageProcess): void {
    void p.exited.then((code) => {
      if (this.stopping) return;
      this.restarts++;
      // The last lines that say why (the CLI's own message, errors, an uncaught exception's first lines).
      const why = p.lines.filter((l) => !/"level":"(info|debug)"/.test(l)).slice(-8).map((l) => l.slice(0, 300));
      this.exits.push(`${p.name} exited with ${code}:\n    ${why.join('\n    ')}`);
      this.restarting = this.launch().then((next) => {
        this.current = next;
        this.watch(next);
      });
    });
  }

  get running(): boolean {
    return !this.stopping && this.current.running;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.restarting.catch(() => undefined);
    await this.current.stop();
  }
}

/**
 * The three-broker cluster of the failure tests, started and stopped through the infra scripts
 * (infra/kafka/cluster-up.sh, stop-broker.sh, start-broker.sh, cluster-down.sh) on ports that do not
 * clash with the shared single broker (127.0.0.1:9092): 29092, 29192, 29292 unless
 * PANOPTES_TEST_CLUSTER_PORTS says otherwise, with a fresh run directory per test run. A lock
 * (flock on a file named after the ports) keeps two test runs on one machine from sharing or
 * stopping each other's cluster. The schema registry is the shared one (infra/up.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './infra.ts';

export const CLUSTER_PORTS = (process.env.PANOPTES_TEST_CLUSTER_PORTS ?? '29092,29192,29292').split(',').map(Number);
export const CLUSTER_BROKERS = CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`);

/** Runs an infra script without blocking the event loop (stages in this process keep running). */
export function infraScript(script: string, args: string[], env: Record<string, string>, log?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [join(ROOT, 'infra', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    const take = (c: Buffer) => {
      out += c.toString();
      for (const l of c.toString().split('\n')) if (l.trim()) log?.(l);
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    const t = setTimeout(() => p.kill('SIGTERM'), 900_000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve();
      else reject(new Error(`infra/${script} ${args.join(' ')} exited with ${code}:\n${out.slice(-3000)}`));
    });
  });
}

export class TestCluster {
  /** Fixed per port set: a run that died is cleaned up (stopped, wiped) by the next one. */
  readonly runDir = join(tmpdir(), `panoptes-cluster-test-${CLUSTER_PORTS.join('-')}`);
  readonly env: Record<string, string>;
  private holder: ChildProcess | null = null;
  readonly events: string[] = [];
  private readonly t0 = Date.now();

  constructor(opts: { sessionTimeoutMs?: number; heap?: string } = {}) {
    this.env = {
      PANOPTES_KAFKA_PORTS: CLUSTER_PORTS.join(','),
      PANOPTES_KAFKA_CLUSTER_RUN: this.runDir,
      PANOPTES_KAFKA_HEAP: opts.heap ?? '384m',
      // Fences a killed broker (and moves its leaders) after 6 s instead of Kafka's 9 s.
      PANOPTES_KAFKA_SESSION_TIMEOUT_MS: String(opts.sessionTimeoutMs ?? 6000),
      PANOPTES_KAFKA_HEARTBEAT_MS: '1500',
      // A graceful stop (rolling restart) or cluster-down.sh waits at most this long before KILL.
      PANOPTES_KAFKA_STOP_TIMEOUT: '15',
    };
  }

  note(what: string): void {
    this.events.push(`+${((Date.now() - this.t0) / 1000).toFixed(1)}s ${what}`);
  }

  /**
   * Takes the machine-wide lock for these ports (waits up to 15 min for another run), wipes what a
   * previous run may have left, and starts a fresh cluster. The lock is held by a detached holder
   * process that stops the cluster (cluster-down.sh) and releases the lock as soon as its stdin
   * closes: at down(), or when this process dies in any way, so no broker outlives the test.
   */
  async up(): Promise<void> {
    const lockFile = join(tmpdir(), `panoptes-cluster-test-${CLUSTER_PORTS.join('-')}.lock`);
    const down = `bash ${JSON.stringify(join(ROOT, 'infra', 'kafka', 'cluster-down.sh'))} >/dev/null 2>&1`;
    const holder = spawn('flock', ['-w', '900', lockFile, '-c', `echo locked; cat >/dev/null; ${down}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
      env: { ...process.env, ...this.env },
    });
    this.holder = holder;
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (c: Buffer) => {
        if (c.toString().includes('locked')) resolve();
      });
      holder.on('exit', (code) => reject(new Error(`could not take the cluster test lock ${lockFile} (flock exited with ${code})`)));
    });
    this.note('cluster-reset.sh (leftovers of an earlier run), cluster-up.sh');
    await infraScript('kafka/cluster-reset.sh', [], this.env);
    await infraScript('kafka/cluster-up.sh', [], this.env, (l) => this.events.push(`  ${l}`));
    this.note('cluster ready');
  }

  /** kill -9 of node n (1..3). */
  async kill(n: number): Promise<void> {
    this.note(`stop-broker.sh ${n} (kill -9)`);
    await infraScript('kafka/stop-broker.sh', [String(n)], this.env);
  }

  async stopGracefully(n: number): Promise<void> {
    this.note(`stop-broker.sh ${n} --graceful`);
    await infraScript('kafka/stop-broker.sh', [String(n), '--graceful'], this.env);
    this.note(`node ${n} stopped`);
  }

  /** Starts node n again and waits until it is in sync. */
  async start(n: number): Promise<void> {
    this.note(`start-broker.sh ${n}`);
    await infraScript('kafka/start-broker.sh', [String(n)], this.env);
    this.note(`node ${n} back in sync`);
  }

  /** Stops the cluster (through the lock holder) and releases the lock; waits up to 90 s. */
  async down(): Promise<void> {
    const h = this.holder;
    this.holder = null;
    if (!h || h.exitCode !== null) return;
    const exited = new Promise<void>((r) => h.once('exit', () => r()));
    h.stdin!.end();
    const t = setTimeout(() => h.kill('SIGKILL'), 90_000);
    await exited;
    clearTimeout(t);
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

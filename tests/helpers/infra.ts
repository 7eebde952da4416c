/**
 * Integration tests run against the real servers started by infra/up.sh (Kafka on 127.0.0.1:9092,
 * the registry on 127.0.0.1:8081). `npm test` starts them first; a test that finds them down
 * starts them itself and fails, never skips, when they cannot start.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../pipelines/core/config.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BROKER = process.env.PANOPTES_TEST_BROKER ?? '127.0.0.1:9092';
export const REGISTRY = process.env.PANOPTES_TEST_REGISTRY ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

let started = false;

/** Runs infra/up.sh once per test process (a no-op when the servers are already up). */
export function ensureInfra(): void {
  if (started) return;
  execFileSync('bash', [join(ROOT, 'infra', 'up.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
  started = true;
}

/** A fresh topic prefix so test runs never see each other's records. */
export function uniquePrefix(name: string): string {
  return `test.${name}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

export function kafkaConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      PANOPTES_TRANSPORT: 'kafka',
      PANOPTES_BROKERS: BROKER,
      PANOPTES_REGISTRY_URL: REGISTRY,
      PANOPTES_TOPIC_PREFIX: prefix,
      PANOPTES_LOG_LEVEL: 'error',
      PANOPTES_CONNECT_TIMEOUT_MS: '15000',
      ...extra,
    },
  });
}

export function embeddedConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig({ env: { PANOPTES_TOPIC_PREFIX: prefix, PANOPTES_LOG_LEVEL: 'error', ...extra } });
}

/** Polls until `check` returns a value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 30000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Environment for a child process a test spawns: Node's test runner marks its own children with
 * NODE_TEST_CONTEXT, and a Node child that inherits it reports to the runner instead of writing
 * its output normally.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

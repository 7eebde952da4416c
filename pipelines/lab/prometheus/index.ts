/**
 * startPrometheus: Debian's /usr/bin/prometheus on 127.0.0.1 with a generated config and log under
 * the run directory and its tsdb under the lab's own root (a marked folder beside the state file),
 * recorded in the lab state file (pid, start time, token) so a crashed run's Prometheus is stopped
 * and its tsdb removed by cleanupLeftovers(). query/queryRange go through its HTTP API.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, PanoptesError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { ensurePrivateDir, labRoot, markLabDir, newToken, procStart, TOKEN_ENV, updateState } from '../faults/state.ts';
import type { LabPrometheus, PromSample, PromSeries, PrometheusOptions } from '../types.ts';
import { prometheusConfig, rulesFileContent } from './config.ts';

export { recordingRules, prometheusConfig, WINDOW } from './config.ts';

export const PROMETHEUS_BIN = process.env.PANOPTES_PROMETHEUS_BIN ?? '/usr/bin/prometheus';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(o: PrometheusOptions): Promise<LabPrometheus> {
  const log = o.log ?? silentLogger;
  if (!existsSync(PROMETHEUS_BIN)) throw new PanoptesError('PANOPTES_CONFIG', `${PROMETHEUS_BIN} not found (Debian package prometheus; infra/debian.sh installs it)`);
  if (!Number.isInteger(o.port) || o.port < 1024 || o.port > 65535) throw new ConfigError([{ path: 'prometheus.port', message: 'an integer port >= 1024' }]);
  if (!o.targets.length) throw new ConfigError([{ path: 'prometheus.targets', message: 'at least one scrape target' }]);
  if (o.remoteWriteUrl && !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(o.remoteWriteUrl)) {
    throw new ConfigError([{ path: 'prometheus.remoteWriteUrl', message: 'an http URL on 127.0.0.1 (the lab stays on loopback)' }]);
  }
  const interval = o.scrapeIntervalS ?? 1;
  const dir = join(resolve(o.runDir), `prometheus-${o.port}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rulesFile = join(dir, 'rules.yml');
  writeFileSync(rulesFile, JSON.stringify(rulesFileContent(interval), null, 1));
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(prometheusConfig({ targets: o.targets, rulesFile, scrapeIntervalS: interval, ...(o.remoteWriteUrl ? { remoteWriteUrl: o.remoteWriteUrl } : {}) }), null, 1));
  const token = newToken();
  // The tsdb (the only thing cleanup deletes) under the lab's private root, marked as the lab's.
  ensurePrivateDir(join(labRoot(), 'prometheus'));
  const dataDir = join(labRoot(), 'prometheus', `tsdb-${o.port}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dataDir, { mode: 0o700 });
  markLabDir(dataDir, token);
  const logFile = join(dir, 'prometheus.log');
  const fd = openSync(logFile, 'a');
  const proc = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${dataDir}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=127.0.0.1:${o.port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', fd, fd], env: { ...process.env, [TOKEN_ENV]: token } },
  );
  closeSync(fd);
  const pid = proc.pid ?? 0;
  updateState((s) => {
    s.prometheus.push({ pid, start: procStart(pid) ?? -1, token, dataDir, ownerPid: process.pid });
  });
  const url = `http://127.0.0.1:${o.port}`;
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dataDir, { recursive: true, force: true });
    updateState((s) => {
      s.prometheus = s.prometheus.filter((p) => p.pid !== pid);
    });
  };

  const api = async (path: string, params: Record<string, string>): Promise<{ resultType: string; result: unknown }> => {
    const r = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await r.json()) as { status: string; error?: string; data: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new PanoptesError('PANOPTES_INPUT', `prometheus ${path} ${params.query}: ${body.error ?? r.status}`);
    return body.data;
  };

  const query = async (promql: string, atMs?: number): Promise<PromSample[]> => {
    const d = await api('/api/v1/query', { query: promql, ...(atMs !== undefined ? { time: (atMs / 1000).toFixed(3) } : {}) });
    if (d.resultType === 'scalar') return [{ labels: {}, value: Number((d.result as [number, string])[1]) }];
    if (d.resultType !== 'vector') throw new PanoptesError('PANOPTES_INPUT', `query ${promql} gave a ${d.resultType}, not an instant vector`);
    return (d.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => ({ labels: s.metric, value: Number(s.value[1]) }));
  };

  const queryRange = async (promql: string, startMs: number, endMs: number, stepS: number): Promise<PromSeries[]> => {
    const d = await api('/api/v1/query_range', { query: promql, start: (startMs / 1000).toFixed(3), end: (endMs / 1000).toFixed(3), step: String(stepS) });
    return (d.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map((s) => ({
      labels: s.metric,
      points: s.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]),
    }));
  };

  const expectComponents = new Set(o.targets.flatMap((t) => (t.name === 'proxy' ? ['postgres', 'redis'] : [t.name])));
  const ready = async (timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exitCode !== null) throw new PanoptesError('PANOPTES_CONNECT', `prometheus exited with ${proc.exitCode}:\n${tail()}`);
      try {
        const r = await fetch(`${url}/-/ready`);
        if (r.ok) {
          const up = await query('lab:up');
          const have = new Set(up.map((s) => s.labels.component));
          if ([...expectComponents].every((c) => have.has(c))) return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new PanoptesError('PANOPTES_TIMEOUT', `prometheus at ${url} not ready (lab:up for ${[...expectComponents].join(', ')}) after ${timeoutMs} ms:\n${tail()}`);
      await sleep(250);
    }
  };

  // Fail fast on a bad config: Prometheus exits within a moment.
  await sleep(100);
  if (proc.exitCode !== null) {
    await stop();
    throw new PanoptesError('PANOPTES_CONFIG', `prometheus exited at start (${proc.exitCode}):\n${tail()}`);
  }
  log.info('lab prometheus started', { url, targets: o.targets.length, remoteWrite: o.remoteWriteUrl ?? null });
  return { url, pid, query, queryRange, ready, stop };
}

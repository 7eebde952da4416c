/**
 * `incidents correlate`: replays anomalies from a file through the correlator and prints the
 * incident records it would publish (the same records, in the same order, as the consumer).
 */
import type { CliCommand } from '../core/cli-types.ts';
import { InputError } from '../core/errors.ts';
import type { Anomaly } from '../core/records.ts';
import { readTextFile as readText } from '../core/csv.ts';
import { correlateAll, dependencyGraphFromEdges } from './correlate.ts';
import { readDependencyEdges } from './graph-file.ts';
import { correlateSpec, correlatorOptionsOf, runSpec } from './spec.ts';

function parseAnomalies(text: string, path: string): Anomaly[] {
  const trimmed = text.trim();
  const items: unknown[] = [];
  if (trimmed.startsWith('[')) {
    try {
      items.push(...(JSON.parse(trimmed) as unknown[]));
    } catch (err) {
      throw new InputError(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else {
    trimmed.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try {
        items.push(JSON.parse(l));
      } catch (err) {
        throw new InputError(`${path}:${i + 1}: not valid JSON: ${(err as Error).message}`, { cause: err });
      }
    });
  }
  return items.map((x, i) => {
    const a = x as Partial<Anomaly>;
    if (typeof a !== 'object' || a === null || typeof a.timestampMs !== 'number' || typeof a.labels !== 'object' || a.labels === null) {
      throw new InputError(`${path}: anomaly ${i + 1} needs timestampMs (number) and labels (object)`);
    }
    return {
      id: a.id ?? `${a.fingerprint ?? JSON.stringify(a.labels)}@${a.timestampMs}`,
      fingerprint: a.fingerprint ?? JSON.stringify(a.labels),
      labels: a.labels as Record<string, string>,
      timestampMs: a.timestampMs,
      value: a.value ?? 0,
      ruleId: a.ruleId ?? null,
      ruleVersion: a.ruleVersion ?? null,
      ruleKind: a.ruleKind ?? null,
      severity: a.severity ?? 'warning',
      detector: a.detector ?? '',
      baseScore: a.baseScore ?? 0,
      explanation: a.explanation ?? '',
      clauses: a.clauses ?? [],
      detectedAtMs: a.detectedAtMs ?? 0,
    };
  });
}

const correlate: CliCommand = {
  name: 'incidents correlate',
  summary: correlateSpec.summary,
  usage: '--anomalies FILE [--graph FILE] [--window-ms N] [--quiet-ms N] [--max-hops N]',
  options: correlateSpec.cliOptions(),
  async run(args, io) {
    const o = correlateSpec.fromArgs(args);
    const anomalies = parseAnomalies(readText(o.anomalies, 'anomalies file'), o.anomalies);
    const edges = o.graph !== undefined ? readDependencyEdges(o.graph) : [];
    const incidents = correlateAll(dependencyGraphFromEdges(edges), anomalies, correlatorOptionsOf(o), Number.MAX_SAFE_INTEGER);
    for (const inc of incidents) io.out(io.json ? JSON.stringify(inc) : `${inc.status.padEnd(8)} ${inc.id} ${inc.summary}`);
    io.err(`incidents correlate: ${anomalies.length} anomalies, ${new Set(incidents.map((i) => i.id)).size} incidents`);
    return 0;
  },
};

const run: CliCommand = {
  name: 'incidents run',
  requiresBroker: true,
  summary: 'Run the online incident correlator: anomalies → incident lifecycle records (exactly-once)',
  usage: '[--graph FILE] [options below]',
  options: runSpec.cliOptions(),
  help: 'Runs until SIGINT/SIGTERM; run one active instance (others in the group are standbys). With --json prints each incident record.\nExample: panoptes incidents run --quiet-ms 60000 --max-hops 2',
  async run(args, io) {
    // Checked before connecting, so a bad value is a usage error rather than a consumer failure.
    const o = runSpec.fromArgs(args);
    const gpath = typeof o.graph === 'string' && o.graph !== '' ? o.graph : undefined;
    const fallbackGraph = gpath ? readDependencyEdges(gpath) : undefined;
    const [{ loadConfig }, { createRuntime }, { untilAborted }, { startIncidentsFromSpec }] = await Promise.all([
      import('../core/config.ts'),
      import('../core/runtime.ts'),
      import('../core/lifecycle.ts'),
      import('./consumer.ts'),
    ]);
    const rt = await createRuntime(loadConfig(), { stage: 'incidents' });
    try {
      let running: { health(): { ok: boolean; detail: Record<string, unknown> } } | undefined;
      await rt.serveMetrics(() => running?.health() ?? { ok: true, detail: { stage: 'incidents', ready: false } });
      const group = o.groupId;
      const c = (running = await startIncidentsFromSpec(rt, o, {
        fallbackGraph,
        onOutput: (i) => io.out(io.json ? JSON.stringify(i) : `${i.status.padEnd(8)} ${i.id} ${i.summary}`),
      }));
      io.err(`incident correlator running on ${rt.config.transport} (group ${group}, graph ${c.graphVersion() ?? (gpath ? `${gpath} until one arrives on causal-graphs` : 'none yet')}); Ctrl-C stops it`);
      const failed = await Promise.race([untilAborted(io.signal).then(() => null), c.failed]);
      await c.stop();
      if (failed !== null) {
        io.err(`incident correlator stopped on an error: ${(failed as Error)?.message ?? String(failed)}`);
        return 1;
      }
      return 0;
    } finally {
      await rt.close();
    }
  },
};

export const commands: CliCommand[] = [correlate, run];

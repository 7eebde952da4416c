/**
 * How the Panoptes agent turns the pipeline's output into answers: the components to blame (from
 * the rca ranking, else from the anomalies), the kind of fault on the top component (from which of
 * its signals are anomalous and what its error logs say), and the allow-listed action that undoes
 * that kind of fault. Pure: the agent gathers the inputs through the interface.
 */
import type { Anomaly, RcaResult } from '../../core/records.ts';
import type { ExecAction } from '../interface/exec.ts';

export const RESOURCES = ['postgres', 'redis'] as const;

function componentOf(a: Anomaly): string {
  return a.labels.component ?? a.labels.service ?? a.labels.job ?? 'unknown';
}

function signalOf(a: Anomaly): string {
  return a.labels.signal ?? a.labels.__name__?.replace(/^lab:/, '') ?? '';
}

/**
 * Components in blame order from the newest rca result with causes, at most `max`, keeping only
 * those scoring at least `keep` × the top score: AIOpsLab scores a list holding the answer 1/len,
 * so a clear winner is submitted alone.
 */
export function componentsFromRca(results: readonly RcaResult[], max = 3, keep = 0.5): string[] {
  const withCauses = results.filter((r) => r.causes.length > 0);
  const latest = withCauses[withCauses.length - 1];
  if (!latest) return [];
  const top = Math.max(...latest.causes.map((c) => c.score));
  return [...new Set(latest.causes.filter((c) => c.score >= keep * top).map((c) => c.component))].slice(0, max);
}

/** Components whose process went down (their `up` series dropped) since the injection. */
export function downComponents(anomalies: readonly Anomaly[]): string[] {
  return [...new Set(anomalies.filter((a) => signalOf(a) === 'up' && a.value < 0.5).map(componentOf))];
}

/**
 * The rca ranking with components that went down put first: a dead process explains its callers'
 * errors, and its own series stop (no scrape), so the ranking often sees only the callers.
 */
export function blameOrder(rcaComponents: readonly string[], anomalies: readonly Anomaly[], max = 3, downNow?: ReadonlySet<string>): string[] {
  return [...new Set([...(downNow ?? downComponents(anomalies)), ...rcaComponents])].slice(0, max);
}

const SIGNAL_WEIGHT: Record<string, number> = { up: 5, errors: 3, memory: 3, cpu: 3, latency: 2, traffic: 1 };

/**
 * Without an rca result: components by their anomalies, weighing a target that went down or
 * failing requests above slower ones, rule hits above base-detector outliers; ties by the earliest.
 */
export function componentsFromAnomalies(anomalies: readonly Anomaly[], max = 3): string[] {
  const score = new Map<string, { s: number; first: number }>();
  for (const a of anomalies) {
    const c = componentOf(a);
    if (c === 'proxy' || c === 'unknown') continue;
    const cur = score.get(c) ?? { s: 0, first: a.timestampMs };
    cur.s += (SIGNAL_WEIGHT[signalOf(a)] ?? 1) * (a.ruleId ? 2 : 1);
    cur.first = Math.min(cur.first, a.timestampMs);
    score.set(c, cur);
  }
  return [...score].sort((x, y) => y[1].s - x[1].s || x[1].first - y[1].first || x[0].localeCompare(y[0])).slice(0, max).map(([c]) => c);
}

export interface Evidence {
  component: string;
  /** Signals of the component with anomalies since the injection. */
  signals: Set<string>;
  /** Error texts from the component's log lines since the injection. */
  errors: string[];
  /** Components whose `up` went down. */
  down: Set<string>;
}

/**
 * `downNow`: components whose `up` is 0 right now (Prometheus); when not known, those whose `up`
 * dropped at some point since the injection (a restart blip then counts too).
 */
export function evidenceFor(component: string, anomalies: readonly Anomaly[], logs: ReadonlyArray<Record<string, unknown>>, downNow?: ReadonlySet<string>): Evidence {
  const signals = new Set<string>();
  const down = new Set<string>(downNow ?? []);
  for (const a of anomalies) {
    if (componentOf(a) === component) signals.add(signalOf(a));
    if (!downNow && signalOf(a) === 'up' && a.value < 0.5) down.add(componentOf(a));
  }
  const errors = logs.filter((l) => l.level === 'error' || l.level === 'warn').map((l) => `${String(l.msg ?? '')} ${String(l.error ?? '')}`.trim());
  return { component, signals, errors, down };
}

/** The kind of fault on the component, from its evidence (most specific evidence first). */
export function faultKindOf(e: Evidence): string {
  const c = e.component;
  const errs = e.errors.join('\n');
  if (c === 'postgres') return e.signals.has('up') || e.down.has(c) ? 'db-down' : e.signals.has('errors') && !e.signals.has('latency') ? 'db-down' : 'slow-db';
  if (c === 'redis') return 'redis-down';
  if (e.down.has(c)) return 'crash';
  // Its own refusals ("no workers (scaled to zero)"), not a dependency's relayed in an error it got.
  if (e.errors.some((x) => /^request (failed|rejected) no workers/i.test(x))) return 'scale-zero';
  // Connection refused towards a dependency that is itself up: the address is wrong.
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH/.test(errs) && e.down.size === 0) return 'misconfig';
  if (e.signals.has('memory')) return 'memory-leak';
  if (e.signals.has('cpu')) return 'cpu-hog';
  if (e.signals.has('errors') || /internal error/.test(errs)) return 'errors';
  return 'latency';
}

/** The allow-listed exec that undoes that kind of fault on that component, or null (a shared resource is not the agent's to fix). */
export function mitigationFor(component: string, kind: string): ExecAction | null {
  if ((RESOURCES as readonly string[]).includes(component)) return null;
  switch (kind) {
    case 'misconfig':
      return { op: 'rollback-config', service: component };
    case 'scale-zero':
      return { op: 'scale', service: component, workers: 4 };
    case 'crash':
    case 'memory-leak':
    case 'cpu-hog':
    case 'latency':
    case 'errors':
      // The faulty process state goes away with the process.
      return { op: 'restart', service: component };
    default:
      return null;
  }
}

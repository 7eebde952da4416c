/**
 * What a generated corpus holds and how it is split (pure). Every lab fault kind on every
 * component it applies to, per scenario (a traffic level and a seed); the split holds out whole
 * root-cause components: issues whose root cause is in TEST_COMPONENTS go to `test/`, the rest to
 * `train/`, so methods chosen on train are reported on root causes they were never tuned on.
 */
import type { FaultKind, FaultSpec } from '../../lab/index.ts';

export interface LabTopology {
  services: readonly string[];
  resources: readonly string[];
  calls: Readonly<Record<string, readonly string[]>>;
  stores: Readonly<Record<string, readonly string[]>>;
}

/** Held out for the test split: a mid-tier service, a leaf with both stores, a leaf with one, and a store. */
export const TEST_COMPONENTS: readonly string[] = ['search', 'rate', 'user', 'redis'];

export type Split = 'train' | 'test';

export function splitOf(rootCause: string, test: readonly string[] = TEST_COMPONENTS): Split {
  return test.includes(rootCause) ? 'test' : 'train';
}

export const SERVICE_FAULTS: readonly FaultKind[] = ['latency', 'errors', 'crash', 'misconfig', 'cpu-hog', 'memory-leak', 'scale-zero', 'hang'];
export const RESOURCE_FAULTS: Readonly<Partial<Record<FaultKind, string>>> = { 'slow-db': 'postgres', 'db-down': 'postgres', 'redis-down': 'redis' };

/** Every fault kind on every component it applies to (misconfig needs a dependency to break). */
export function faultMatrix(topo: LabTopology, kinds?: readonly FaultKind[]): FaultSpec[] {
  const want = (k: FaultKind) => !kinds || kinds.includes(k);
  const out: FaultSpec[] = [];
  for (const kind of SERVICE_FAULTS) {
    if (!want(kind)) continue;
    for (const s of topo.services) {
      if (kind === 'misconfig' && (topo.calls[s] ?? []).length + (topo.stores[s] ?? []).length === 0) continue;
      out.push({ kind, target: s as FaultSpec['target'] });
    }
  }
  for (const [kind, target] of Object.entries(RESOURCE_FAULTS) as [FaultKind, string][]) if (want(kind)) out.push({ kind, target: target as FaultSpec['target'] });
  return out;
}

/** Deterministic shuffle (mulberry32), so a scenario's fault order depends only on its seed. */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const TRAFFIC_RPS: Readonly<Record<string, number>> = { low: 8, high: 16 };

export interface Timings {
  /** Load before anything is recorded (s). */
  warmupS: number;
  /** No-incident history recorded per scenario (s): `noissue/metrics.csv`. */
  noissueS: number;
  /** Rows recorded before each injection (s). */
  preS: number;
  /** Fault duration (s). */
  faultS: number;
  /** Quiet time after recovery, once every service is healthy again (s). */
  settleS: number;
  /** After settleS, at most this long waiting for the user-facing signals to be back in their normal band (s). */
  maxQuietWaitS: number;
  /** Rate/quantile window of the signals (s). */
  windowS: number;
  /** Sampling step (ms). */
  stepMs: number;
}

export const DEFAULT_TIMINGS: Timings = { warmupS: 20, noissueS: 120, preS: 3, faultS: 6, settleS: 3, maxQuietWaitS: 20, windowS: 3, stepMs: 1000 };

/** Rough wall time of one scenario (s), for the progress line's estimate. */
export function scenarioSeconds(t: Timings, faults: number): number {
  return 6 + t.warmupS + t.windowS + t.noissueS + faults * (t.preS + t.faultS + t.settleS + 3);
}

// --- the PetShop layout ----------------------------------------------------------------------------

/** `graph.csv`: adjacency, row calls column (services' calls and stores). */
export function graphCsv(topo: LabTopology): string {
  const nodes = [...topo.services, ...topo.resources];
  const lines = [['', ...nodes].join(',')];
  for (const a of nodes) {
    const deps = new Set([...(topo.calls[a] ?? []), ...(topo.stores[a] ?? [])]);
    lines.push([a, ...nodes.map((b) => (deps.has(b) ? '1' : '0'))].join(','));
  }
  return lines.join('\n') + '\n';
}

export interface Row {
  /** epoch ms */
  ts: number;
  values: Map<string, number>;
}

/** Columns in a stable order: components as given, then signals in SIGNALS order. */
export function columnsOf(components: readonly string[], signalsOf: (c: string) => readonly string[]): string[] {
  return components.flatMap((c) => signalsOf(c).map((s) => `${c}:${s}`));
}

function cell(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  return Number.isInteger(v) ? String(v) : v.toPrecision(6);
}

/** `metrics.csv` in the PetShop layout: component, metric, statistic rows, then unix_timestamp. */
export function petshopCsv(rows: readonly Row[], columns: readonly string[]): string {
  const comp = columns.map((c) => c.slice(0, c.lastIndexOf(':')));
  const metric = columns.map((c) => c.slice(c.lastIndexOf(':') + 1));
  const lines = [
    ['microservice', ...comp].join(','),
    ['metric', ...metric].join(','),
    ['statistic', ...columns.map(() => 'Average')].join(','),
    ['unix_timestamp', ...columns.map(() => '')].join(','),
  ];
  for (const r of rows) lines.push([(r.ts / 1000).toFixed(3), ...columns.map((c) => cell(r.values.get(c)))].join(','));
  return lines.join('\n') + '\n';
}

export interface TargetJson {
  target: { node: string; metric: string; agg: 'Average'; timestamp: number };
  root_cause: { node: string; metric: null };
  metadata: { fault: FaultSpec; text: string; scenario: string; seed: number; traffic: string; split: Split; targetPeakScore: number };
}

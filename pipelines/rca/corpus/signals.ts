/**
 * The lab's per-component signals computed straight from the services' /metrics pages (no
 * Prometheus): the same definitions as the lab's recording rules (pipelines/lab/prometheus/config.ts)
 * over a shorter window, so a fault shows within a few seconds. Pure: scrapes come in as text.
 *
 * - traffic: HTTP requests served per second; for postgres/redis, calls to them per second (all callers)
 * - errors: share of 5xx answers (of failed calls for the resources); 0 without traffic
 * - latency: p95 of request durations (route != unknown) from the histogram's bucket deltas,
 *   interpolated as histogram_quantile does; 0 without traffic
 * - cpu: CPU seconds per second; memory: resident bytes
 * - up: 1 when the scrape answered (for the resources: the proxy's lab_proxy_up), else 0
 * A component whose process is down has up 0 and no other value (NaN).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (what prom-client writes); comments are skipped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const firstSpace = line.indexOf(' ');
    let name: string;
    let rest: string;
    const labels: Record<string, string> = {};
    if (brace >= 0 && (firstSpace < 0 || brace < firstSpace)) {
      name = line.slice(0, brace);
      const end = line.lastIndexOf('}');
      if (end < brace) continue;
      const body = line.slice(brace + 1, end);
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      for (let m = re.exec(body); m; m = re.exec(body)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = line.slice(end + 1);
    } else {
      if (firstSpace < 0) continue;
      name = line.slice(0, firstSpace);
      rest = line.slice(firstSpace);
    }
    const valueText = rest.trim().split(/\s+/)[0] ?? '';
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (name && !Number.isNaN(value)) out.push({ name, labels, value });
  }
  return out;
}

/** What one scrape round yields per scrape target (a service, or `proxy`): samples, or null when it did not answer. */
export type Scrape = Map<string, Sample[] | null>;

export const SIGNALS = ['latency', 'errors', 'traffic', 'cpu', 'memory', 'up'] as const;
export const RESOURCE_SIGNAL_NAMES = ['latency', 'errors', 'traffic', 'up'] as const;

function sum(samples: readonly Sample[], name: string, pred: (l: Record<string, string>) => boolean = () => true): number {
  let s = 0;
  for (const x of samples) if (x.name === name && pred(x.labels)) s += x.value;
  return s;
}

/** Counter increase between two scrapes; a reset (process restarted) counts from 0. */
function increase(now: number, before: number): number {
  return now >= before ? now - before : now;
}

/** p95 from cumulative bucket increases (le → count), as histogram_quantile interpolates. */
export function quantileFromBuckets(buckets: Map<number, number>, q: number): number {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? (les.length ? buckets.get(les[les.length - 1]!)! : 0);
  if (!(total > 0)) return 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = buckets.get(le)!;
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(c - prevCount, 1e-12);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

function bucketIncrease(now: readonly Sample[], before: readonly Sample[], name: string, pred: (l: Record<string, string>) => boolean): Map<number, number> {
  const acc = (ss: readonly Sample[]) => {
    const m = new Map<number, number>();
    for (const x of ss) {
      if (x.name !== name || !pred(x.labels)) continue;
      const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
      m.set(le, (m.get(le) ?? 0) + x.value);
    }
    return m;
  };
  const a = acc(now);
  const b = acc(before);
  const reset = [...a].some(([le, v]) => v < (b.get(le) ?? 0));
  const out = new Map<number, number>();
  for (const [le, v] of a) out.set(le, reset ? v : v - (b.get(le) ?? 0));
  return out;
}

/**
 * Signals of every component at `now`, over the window since `before` (seconds apart: `windowS`).
 * Keys are `component:signal`; services get all six signals, resources four.
 */
export function computeSignals(services: readonly string[], resources: readonly string[], now: Scrape, before: Scrape, windowS: number): Map<string, number> {
  const out = new Map<string, number>();
  const rate = (x: number) => x / windowS;
  for (const svc of services) {
    const cur = now.get(svc);
    const prev = before.get(svc);
    out.set(`${svc}:up`, cur ? 1 : 0);
    if (!cur) {
      for (const s of ['latency', 'errors', 'traffic', 'cpu', 'memory']) out.set(`${svc}:${s}`, NaN);
      continue;
    }
    out.set(`${svc}:memory`, sum(cur, 'process_resident_memory_bytes'));
    if (!prev) {
      // Came back within the window: nothing to take a difference against yet.
      for (const s of ['latency', 'errors', 'traffic', 'cpu']) out.set(`${svc}:${s}`, NaN);
      continue;
    }
    const total = increase(sum(cur, 'lab_http_requests_total'), sum(prev, 'lab_http_requests_total'));
    const five = increase(sum(cur, 'lab_http_requests_total', (l) => /^5/.test(l.code ?? '')), sum(prev, 'lab_http_requests_total', (l) => /^5/.test(l.code ?? '')));
    out.set(`${svc}:traffic`, rate(total));
    out.set(`${svc}:errors`, total > 0 ? five / total : 0);
    out.set(`${svc}:latency`, quantileFromBuckets(bucketIncrease(cur, prev, 'lab_http_request_duration_seconds_bucket', (l) => l.route !== 'unknown'), 0.95));
    out.set(`${svc}:cpu`, rate(increase(sum(cur, 'process_cpu_seconds_total'), sum(prev, 'process_cpu_seconds_total'))));
  }
  const proxy = now.get('proxy');
  for (const res of resources) {
    let calls = 0;
    let failed = 0;
    const buckets = new Map<number, number>();
    for (const svc of services) {
      const cur = now.get(svc);
      const prev = before.get(svc);
      if (!cur || !prev) continue;
      const isRes = (l: Record<string, string>) => l.dep === res;
      calls += increase(sum(cur, 'lab_dependency_requests_total', isRes), sum(prev, 'lab_dependency_requests_total', isRes));
      failed += increase(sum(cur, 'lab_dependency_requests_total', (l) => isRes(l) && l.outcome === 'error'), sum(prev, 'lab_dependency_requests_total', (l) => isRes(l) && l.outcome === 'error'));
      for (const [le, v] of bucketIncrease(cur, prev, 'lab_dependency_duration_seconds_bucket', isRes)) buckets.set(le, (buckets.get(le) ?? 0) + v);
    }
    out.set(`${res}:traffic`, rate(calls));
    out.set(`${res}:errors`, calls > 0 ? failed / calls : 0);
    out.set(`${res}:latency`, quantileFromBuckets(buckets, 0.95));
    out.set(`${res}:up`, proxy ? Math.max(0, ...proxy.filter((x) => x.name === 'lab_proxy_up' && x.labels.resource === res).map((x) => x.value)) : NaN);
  }
  return out;
}

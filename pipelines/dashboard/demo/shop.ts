/**
 * The synthetic shop of `panoptes dashboard --demo` (pure: no I/O): four series (frontend →
 * checkout → payments → db) whose database connection pool saturates every few minutes, their
 * causal graph, and the samples at a given second.
 */
import { withVersion } from '../../graph/index.ts';

export interface Shape {
  component: string;
  signal: string;
  name: string;
  base: number;
  noise: number;
  /** Added at the height of a fault, reached `lagS` seconds after the database. */
  fault: number;
  lagS: number;
}

export const SHOP: Shape[] = [
  { component: 'db', signal: 'connections', name: 'shop_db_connections', base: 22, noise: 2, fault: 75, lagS: 0 },
  { component: 'payments', signal: 'latency', name: 'shop_latency_ms', base: 40, noise: 3, fault: 260, lagS: 2 },
  { component: 'checkout', signal: 'latency', name: 'shop_latency_ms', base: 85, noise: 5, fault: 300, lagS: 3 },
  { component: 'frontend', signal: 'latency', name: 'shop_latency_ms', base: 120, noise: 6, fault: 320, lagS: 4 },
];

export const DEMO_GRAPH = withVersion({
  name: 'demo-shop',
  nodes: SHOP.map((s) => ({ id: `${s.component}:${s.signal}`, component: s.component, metric: s.signal, observed: true })),
  edges: [
    { from: 'db:connections', to: 'payments:latency', provenance: 'BOTH', confidence: 0.9, reason: 'payments waits for a database connection' },
    { from: 'payments:latency', to: 'checkout:latency', provenance: 'DOCS', confidence: 0.85, reason: 'checkout calls payments synchronously' },
    { from: 'checkout:latency', to: 'frontend:latency', provenance: 'DOCS', confidence: 0.8, reason: 'frontend calls checkout' },
  ],
  createdAtMs: Date.now(),
  source: 'demo',
});

export interface DemoOptions {
  signal: AbortSignal;
  log: (line: string) => void;
  faultEveryMs?: number;
  faultLengthMs?: number;
  backfillS?: number;
  seed?: number;
}

/** Fault intensity in [0, 1] at `t` seconds since the first fault began (a ramp up, a plateau, a ramp down). */
export function intensity(sinceFaultS: number, lengthS: number): number {
  if (sinceFaultS < 0 || sinceFaultS > lengthS) return 0;
  const ramp = Math.min(5, lengthS / 4);
  return Math.min(1, sinceFaultS / ramp, (lengthS - sinceFaultS) / ramp);
}


/**
 * The PC algorithm (Spirtes & Glymour), stable variant: the skeleton is thinned level by level
 * with Fisher-z partial-correlation tests against a snapshot of the adjacencies, so the result does
 * not depend on variable order. Then v-structures are oriented and Meek's rules R1–R3 propagate
 * orientations. Output is a CPDAG over column indices.
 */
import { correlationMatrix, fisherZPValue, partialCorrelation } from './stats.ts';

export interface PcOptions {
  /** Significance level of the independence tests. */
  alpha: number;
  /** Largest conditioning set tried (bounds the run time on wide data). */
  maxCondSize: number;
}

export const defaultPcOptions: PcOptions = { alpha: 0.01, maxCondSize: 3 };

/** m[i][j] && m[j][i]: undirected i – j; m[i][j] && !m[j][i]: i → j. */
export type Pattern = boolean[][];

export interface PcResult {
  pattern: Pattern;
  /** Separating sets of removed pairs, key `i,j` with i < j. */
  sepsets: Map<string, number[]>;
  /** Strongest dependence seen per remaining adjacency: min over tests of |partial r|. */
  strength: Map<string, number>;
  tests: number;
}

function key(i: number, j: number): string {
  return i < j ? `${i},${j}` : `${j},${i}`;
}

function* subsets(items: readonly number[], size: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === size) {
    yield [...acc];
    return;
  }
  for (let i = start; i <= items.length - (size - acc.length); i++) {
    acc.push(items[i]!);
    yield* subsets(items, size, i + 1, acc);
    acc.pop();
  }
}

export function pcSkeleton(rows: readonly (readonly number[])[], opts: PcOptions = defaultPcOptions) {
  const n = rows.length;
  const p = n === 0 ? 0 : rows[0]!.length;
  const corr = correlationMatrix(rows);
  const adj: boolean[][] = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => i !== j));
  const sepsets = new Map<string, number[]>();
  const strength = new Map<string, number>();
  let tests = 0;
  for (let l = 0; l <= opts.maxCondSize; l++) {
    const snapshot = adj.map((r) => r.map((_, j) => j).filter((j) => r[j]));
    let anyTestable = false;
    for (let i = 0; i < p; i++) {
      for (const j of snapshot[i]!) {
        if (!adj[i]![j]) continue;
        const others = snapshot[i]!.filter((k) => k !== j);
        if (others.length < l) continue;
        anyTestable = true;
        for (const s of subsets(others, l)) {
          tests++;
          const r = partialCorrelation(corr, i, j, s);
          const pv = fisherZPValue(r, n, s.length);
          const k = key(i, j);
          strength.set(k, Math.min(strength.get(k) ?? Infinity, Math.abs(r)));
          if (pv > opts.alpha) {
            adj[i]![j] = false;
            adj[j]![i] = false;
            sepsets.set(k, s);
            strength.delete(k);
            break;
          }
        }
      }
    }
    if (!anyTestable) break;
  }
  return { adj, sepsets, strength, tests };
}

/** Orients a skeleton: v-structures from the separating sets, then Meek R1–R3 to a fixpoint. */
export function orient(adj: boolean[][], sepsets: Map<string, number[]>): Pattern {
  const p = adj.length;
  const m: Pattern = adj.map((r) => [...r]);
  const isAdj = (a: number, b: number) => m[a]![b]! || m[b]![a]!;
  const undirected = (a: number, b: number) => m[a]![b]! && m[b]![a]!;
  const directed = (a: number, b: number) => m[a]![b]! && !m[b]![a]!;
  for (let k = 0; k < p; k++) {
    for (let i = 0; i < p; i++) {
      if (i === k || !adj[i]![k]) continue;
      for (let j = i + 1; j < p; j++) {
        if (j === k || !adj[j]![k] || adj[i]![j]) continue;
        const sep = sepsets.get(key(i, j));
        if (sep && sep.includes(k)) continue;
        // Keep an orientation made earlier rather than creating a bidirected edge.
        if (m[k]![i] && m[i]![k] && m[k]![j] && m[j]![k]) {
          m[k]![i] = false;
          m[k]![j] = false;
        } else if (m[k]![i] && m[i]![k] && directed(j, k)) m[k]![i] = false;
        else if (m[k]![j] && m[j]![k] && directed(i, k)) m[k]![j] = false;
      }
    }
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        if (!undirected(a, b)) continue;
        // R1: c → a – b, c and b not adjacent ⇒ a → b.
        let r = false;
        for (let c = 0; c < p && !r; c++) if (c !== b && directed(c, a) && !isAdj(c, b)) r = true;
        // R2: a → c → b and a – b ⇒ a → b.
        for (let c = 0; c < p && !r; c++) if (directed(a, c) && directed(c, b)) r = true;
        // R3: a – c → b, a – d → b, c and d not adjacent ⇒ a → b.
        for (let c = 0; c < p && !r; c++) {
          if (!(undirected(a, c) && directed(c, b))) continue;
          for (let d = c + 1; d < p && !r; d++) if (undirected(a, d) && directed(d, b) && !isAdj(c, d)) r = true;
        }
        if (r) {
          m[b]![a] = false;
          changed = true;
        }
      }
    }
  }
  return m;
}

export function pc(rows: readonly (readonly number[])[], opts: PcOptions = defaultPcOptions): PcResult {
  const sk = pcSkeleton(rows, opts);
  return { pattern: orient(sk.adj, sk.sepsets), sepsets: sk.sepsets, strength: sk.strength, tests: sk.tests };
}

/** The CPDAG (Markov equivalence class) of a DAG given as parent→child pairs over p nodes. */
export function cpdagOfDag(p: number, edges: readonly (readonly [number, number])[]): Pattern {
  const adj: boolean[][] = Array.from({ length: p }, () => new Array<boolean>(p).fill(false));
  for (const [a, b] of edges) {
    adj[a]![b] = true;
    adj[b]![a] = true;
  }
  const parents = Array.from({ length: p }, () => new Set<number>());
  for (const [a, b] of edges) parents[b]!.add(a);
  // Separating sets of non-adjacent pairs: a set that excludes every common child suffices here.
  const sepsets = new Map<string, number[]>();
  for (let i = 0; i < p; i++) {
    for (let j = i + 1; j < p; j++) {
      if (adj[i]![j]) continue;
      sepsets.set(key(i, j), [...parents[i]!, ...parents[j]!]);
    }
  }
  const withDir: boolean[][] = adj.map((r) => [...r]);
  const m = orient(withDir, sepsets);
  return m;
}

/**
 * Structural Hamming distance between two patterns: the number of node pairs whose edge differs
 * (missing, extra, or differently oriented, undirected vs directed counting as different).
 */
export function shd(a: Pattern, b: Pattern): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      if (a[i]![j] !== b[i]![j] || a[j]![i] !== b[j]![i]) d++;
    }
  }
  return d;
}

export function dagPattern(p: number, edges: readonly (readonly [number, number])[]): Pattern {
  const m: Pattern = Array.from({ length: p }, () => new Array<boolean>(p).fill(false));
  for (const [a, b] of edges) m[a]![b] = true;
  return m;
}

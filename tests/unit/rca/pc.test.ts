import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpdagOfDag, dagPattern, pc, shd } from '../../../pipelines/rca/pc.ts';
import { gaussian, rng } from '../../../pipelines/rca/stats.ts';

/** Samples a linear-Gaussian SEM; nodes are in topological order (parents have lower index). */
function sample(p: number, edges: [number, number][], n: number, seed: number): number[][] {
  const rand = rng(seed);
  const weights = new Map(edges.map(([a, b]) => [`${a},${b}`, (0.6 + rand() * 0.8) * (rand() < 0.5 ? -1 : 1)]));
  const rows: number[][] = [];
  for (let t = 0; t < n; t++) {
    const x = new Array<number>(p).fill(0);
    for (let j = 0; j < p; j++) {
      let v = gaussian(rand);
      for (const [a, b] of edges) if (b === j) v += weights.get(`${a},${b}`)! * x[a]!;
      x[j] = v;
    }
    rows.push(x);
  }
  return rows;
}

test('PC recovers a collider exactly (at least 9 of 10 seeds at alpha 0.01)', () => {
  const edges: [number, number][] = [[0, 2], [1, 2]];
  let exact = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const res = pc(sample(3, edges, 2000, seed), { alpha: 0.01, maxCondSize: 2 });
    if (shd(res.pattern, dagPattern(3, edges)) === 0) exact++;
  }
  assert.ok(exact >= 9, `exact on ${exact}/10 seeds`);
});

test('PC leaves a chain undirected (its Markov class) and removes the 0–2 edge', () => {
  const edges: [number, number][] = [[0, 1], [1, 2]];
  const res = pc(sample(3, edges, 2000, 2), { alpha: 0.01, maxCondSize: 2 });
  assert.equal(res.pattern[0]![2], false);
  assert.equal(res.pattern[0]![1] && res.pattern[1]![0], true);
  assert.deepEqual(res.sepsets.get('0,2'), [1]);
  assert.equal(shd(res.pattern, cpdagOfDag(3, edges)), 0);
});

test('PC on 10-node random linear-Gaussian DAGs: small structural Hamming distance', () => {
  const p = 10;
  const seeds = [11, 12, 13, 14, 15];
  let sumCpdag = 0;
  let sumDag = 0;
  let sumSkeleton = 0;
  let sumEdges = 0;
  for (const seed of seeds) {
    const rand = rng(seed * 1000);
    const edges: [number, number][] = [];
    for (let j = 1; j < p; j++) for (let i = 0; i < j; i++) if (rand() < 0.25) edges.push([i, j]);
    const res = pc(sample(p, edges, 3000, seed), { alpha: 0.01, maxCondSize: 3 });
    const truthCpdag = cpdagOfDag(p, edges);
    sumEdges += edges.length;
    sumCpdag += shd(res.pattern, truthCpdag);
    sumDag += shd(res.pattern, dagPattern(p, edges));
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) {
      const est = res.pattern[i]![j]! || res.pattern[j]![i]!;
      const tru = truthCpdag[i]![j]! || truthCpdag[j]![i]!;
      if (est !== tru) sumSkeleton++;
    }
  }
  const k = seeds.length;
  console.log(`PC synthetic (10 nodes, n=3000, ${k} DAGs, mean ${sumEdges / k} edges): mean SHD vs CPDAG ${sumCpdag / k}, vs DAG ${sumDag / k}, skeleton errors ${sumSkeleton / k}`);
  // Misses are faithfulness near-violations (random-sign paths nearly cancelling), not PC bugs.
  assert.ok(sumSkeleton / k <= 2, `mean skeleton errors ${sumSkeleton / k}`);
  assert.ok(sumCpdag / k <= 5, `mean SHD vs CPDAG ${sumCpdag / k}`);
});

test('SHD counts missing, extra and reversed edges', () => {
  const a = dagPattern(3, [[0, 1], [1, 2]]);
  assert.equal(shd(a, dagPattern(3, [[1, 0], [1, 2]])), 1);
  assert.equal(shd(a, dagPattern(3, [[0, 1]])), 1);
  assert.equal(shd(a, dagPattern(3, [[0, 1], [1, 2], [0, 2]])), 1);
});

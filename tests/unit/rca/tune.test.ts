/** The protocol `rca tune` chooses by (pipelines/rca/eval/tune.ts): specificity floor, top-1, top-3, specificity, then the fewest changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changesFrom, choose, defaultGrid, discordant, mcnemarP, standingDefault, type TuneConfig, type TuneScore } from '../../../pipelines/rca/eval/tune.ts';

const score = (config: TuneConfig, top1: number, top3: number, specificity: number): TuneScore => ({ config, issues: 100, top1, top3, specificity, windows: 50 });

test('tune: the floor, then top-1, top-3 and specificity decide', () => {
  const a = score({ method: 'attribution', rank: {} }, 0.9, 0.95, 0.95);
  const b = score({ method: 'traversal', rank: {} }, 0.95, 0.95, 0.85); // below the floor
  const c = score({ method: 'random-walk', rank: {} }, 0.9, 0.97, 0.92);
  assert.equal(choose([a, b, c], 0.9), c);
  assert.equal(choose([a, b, c], 0.8), b);
  assert.equal(choose([b], 0.9), null);
});

test('tune: a full tie keeps the configuration closest to the standing default, whatever the grid order', () => {
  assert.equal(changesFrom(standingDefault, standingDefault), 0);
  const standing = { method: 'hybrid' as const, rank: { explainRatio: 0.5, componentThreshold: 3 } };
  const farther = score({ method: 'hybrid', rank: { explainRatio: 0.25, componentThreshold: 3 } }, 0.95, 0.975, 0.986);
  const same = score({ method: 'hybrid', rank: { explainRatio: 0.5, componentThreshold: 3 } }, 0.95, 0.975, 0.986);
  assert.equal(changesFrom(farther.config, standing), 1);
  assert.equal(choose([farther, same], 0.9, standing), same);
  assert.equal(choose([same, farther], 0.9, standing), same);
  // Equally far: the earlier one in grid order.
  const other = score({ method: 'hybrid', rank: { explainRatio: 1, componentThreshold: 3 } }, 0.95, 0.975, 0.986);
  assert.equal(choose([farther, other], 0.9, standing), farther);
});

test('tune: the grid holds the standing default', () => {
  assert.ok(defaultGrid().some((c) => changesFrom(c, standingDefault) === 0), 'the default is one of the configurations scored');
});

test('tune: the synthesized graph\'s data edges are a setting like any other (one change from the default, named in the description)', () => {
  const without: TuneConfig = { method: 'hybrid', rank: {}, dataEdges: false };
  const withEdges: TuneConfig = { method: 'hybrid', rank: {}, dataEdges: true };
  assert.equal(changesFrom(withEdges, standingDefault), 0, 'the default synthesizes with data edges');
  assert.equal(changesFrom(without, standingDefault), 1);
  assert.equal(changesFrom(without, without), 0);
  assert.ok(defaultGrid().some((c) => c.dataEdges === false && c.method === 'hybrid'), 'the grid scores hybrid without data edges');
});

test('tune: McNemar exact p, one-sided, from the discordant issues', () => {
  assert.equal(mcnemarP(0, 0), 1);
  assert.equal(mcnemarP(2, 2), 1, 'no more wins than losses: no evidence');
  assert.ok(Math.abs(mcnemarP(2, 0) - 0.25) < 1e-12, 'two wins, no loss: 1/4');
  assert.ok(Math.abs(mcnemarP(5, 0) - 1 / 32) < 1e-12);
  // 7 of 8: P(X ≥ 7 | n 8) = (8 + 1) / 256.
  assert.ok(Math.abs(mcnemarP(7, 1) - 9 / 256) < 1e-12);
  assert.ok(mcnemarP(60, 40) > 0.02 && mcnemarP(60, 40) < 0.04, `${mcnemarP(60, 40)}`);
  assert.deepEqual(discordant([true, true, false, false], [true, false, true, false]), { wins: 1, losses: 1 });
  assert.throws(() => discordant([true], [true, false]));
});

test('tune: a configuration replaces the standing default only when it wins significantly more issues', () => {
  const n = 130;
  const hitsOf = (misses: number[]) => Array.from({ length: n }, (_, i) => !misses.includes(i));
  const base = { ...score(standingDefault, 125 / n, 0.99, 0.99), hits: hitsOf([0, 1, 2, 3, 4]) };
  // Two issues more (127 of 130): better on the split, not significantly (p 0.25).
  const slightly = { ...score({ method: 'hybrid', rank: { explainRatio: 1 } }, 127 / n, 1, 0.99), hits: hitsOf([0, 1, 2]) };
  assert.equal(choose([base, slightly], 0.9), base);
  // Five more with none lost: p 1/32 < 0.05, it replaces the default.
  const clearly = { ...score({ method: 'hybrid', rank: { explainRatio: 1 } }, 1, 1, 0.99), hits: hitsOf([]) };
  assert.equal(choose([base, slightly, clearly], 0.9), clearly);
  assert.equal(choose([base, clearly], 0.9, standingDefault, 0.01), base, 'a stricter alpha keeps the default');
  // Without recorded hits (or without the default in the grid) the plain order decides, as before.
  assert.equal(choose([score(standingDefault, 0.9, 0.99, 0.99), score({ method: 'hybrid', rank: { explainRatio: 1 } }, 0.91, 0.99, 0.99)], 0.9)?.config.rank.explainRatio, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands, outPaths } from '../../../pipelines/train/cli.ts';
import type { CliIo, ParsedArgs } from '../../../pipelines/core/cli-types.ts';

function io(json: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json, signal: new AbortController().signal };
  return { io: x, out, err };
}
const evalCmd = commands.find((c) => c.name === 'eval')!;
const args = (options: ParsedArgs['options']): ParsedArgs => ({ options, positionals: [] });

test('eval --protocol nab --json prints one document with the three profiles and per-series results', async () => {
  const t = io(true);
  const code = await evalCmd.run(args({ protocol: 'nab', detector: 'oracle', filter: ['realKnownCause/'] }), t.io);
  assert.equal(code, 0);
  assert.equal(t.out.length, 1);
  const doc = JSON.parse(t.out[0]!);
  assert.deepEqual(Object.keys(doc.summary), ['standard', 'reward_low_FP', 'reward_low_FN']);
  assert.equal(doc.summary.standard, 100);
  assert.equal(doc.series.length, 7);
  assert.ok(t.err.some((l) => /\[#+\] 7\/7/.test(l)), 'progress reaches 7/7 on stderr');
});

test('eval --protocol argos writes JSON and Markdown reports with --out and prints a table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'panoptes-eval-'));
  try {
    const t = io(false);
    await evalCmd.run(args({ protocol: 'argos', detector: 'likelihood', filter: ['nyc_taxi'], out: join(dir, 'r', 'eval') }), t.io);
    const doc = JSON.parse(await readFile(join(dir, 'r', 'eval.json'), 'utf8'));
    assert.deepEqual(Object.keys(doc.summary), ['base', 'rules', 'base+rules']);
    assert.equal(doc.summary.rules.eventF1, null);
    const md = await readFile(join(dir, 'r', 'eval.md'), 'utf8');
    assert.match(md, /^# Evaluation: argos protocol/);
    assert.match(md, /realKnownCause\/nyc_taxi\.csv/);
    assert.ok(t.out.some((l) => /^base\s+\d\.\d{3}/.test(l)), t.out.join('\n'));
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('bad options are usage errors', async () => {
  await assert.rejects(evalCmd.run(args({ protocol: 'kpi' }), io(false).io), { code: 'PANOPTES_USAGE', message: /--protocol/ });
  await assert.rejects(evalCmd.run(args({ detector: 'htm' }), io(false).io), { code: 'PANOPTES_USAGE', message: /unknown detector "htm"/ });
  await assert.rejects(evalCmd.run(args({ filter: ['no-such-series'] }), io(false).io), { code: 'PANOPTES_USAGE' });
});

test('--out accepts a name with or without extension', () => {
  assert.deepEqual(outPaths('reports/eval'), { json: 'reports/eval.json', md: 'reports/eval.md' });
  assert.deepEqual(outPaths('reports/eval.json'), { json: 'reports/eval.json', md: 'reports/eval.md' });
});

test('--holdout: argos only, and it chooses the training options itself', async () => {
  await assert.rejects(evalCmd.run(args({ protocol: 'nab', holdout: true }), io(false).io), { code: 'PANOPTES_USAGE', message: /--holdout applies to --protocol argos/ });
  await assert.rejects(evalCmd.run(args({ protocol: 'argos', holdout: true, train: 'offline', gate: 'at-least', filter: ['nyc_taxi'] }), io(false).io), {
    code: 'PANOPTES_USAGE',
    message: /--holdout chooses --gate/,
  });
  await assert.rejects(evalCmd.run(args({ protocol: 'argos', holdout: true, cross: true, filter: ['nyc_taxi'] }), io(false).io), { code: 'PANOPTES_USAGE', message: /--cross needs --holdout and --train/ });
});

test('eval --protocol argos --holdout --json: summary of the reporting half, halves and per-series half', async () => {
  const t = io(true);
  await evalCmd.run(args({ protocol: 'argos', holdout: true, filter: ['realKnownCause/'] }), t.io);
  const doc = JSON.parse(t.out[0]!);
  assert.equal(doc.holdout.tuningSeries.length + doc.holdout.reportingSeries.length, 7);
  assert.deepEqual(doc.summary, doc.holdout.summaries.reporting);
  assert.ok(doc.series.every((s: { name: string; half: string }) => (doc.holdout.reportingSeries.includes(s.name) ? s.half === 'reporting' : s.half === 'tuning')));
  assert.equal(doc.holdout.grid, null);
});

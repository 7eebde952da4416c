import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../../../pipelines/train/cli.ts';
import type { CliIo, ParsedArgs } from '../../../../pipelines/core/cli-types.ts';
import { UsageError } from '../../../../pipelines/core/errors.ts';
import { parseRuleFile } from '../../../../pipelines/detect/rules/rule-file.ts';
import { defaultNabPaths } from '../../../../pipelines/train/data/corpus.ts';
import { syntheticSeries } from './synthetic.ts';

function io(json: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json, signal: new AbortController().signal };
  return { io: x, out, err };
}
const cmd = (name: string) => commands.find((c) => c.name === name)!;
const args = (options: ParsedArgs['options']): ParsedArgs => ({ options, positionals: [] });
const nab = defaultNabPaths();

// With --base ewma: on this file the default ensemble already finds what the loop's FN/FP rules would fix, so only range rules would be published.
test('train on one NAB file writes a rule file parseRuleFile accepts, with scores, and the report', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'panoptes-train-'));
  try {
    const t = io(true);
    const out = join(dir, 'rules', 'net.yaml');
    const code = await cmd('train').run(
      args({ data: join(nab.data, 'realAWSCloudwatch/ec2_network_in_257a54.csv'), labels: nab.labels, out, report: join(dir, 'report'), provider: 'offline', seed: 1, base: 'ewma' }),
      t.io,
    );
    assert.equal(code, 0);
    const doc = JSON.parse(t.out[0]!);
    assert.equal(doc.provider, 'offline');
    assert.ok(doc.published >= 1, `published ${doc.published}`);
    const text = await readFile(out, 'utf8');
    const parsed = parseRuleFile(text, out);
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(parsed.rules.length, doc.published);
    for (const r of parsed.rules) {
      assert.match(r.spec.id, /^realAWSCloudwatch\/ec2_network_in_257a54:(f[np]-\d+|range-(above|below))$/);
      if (r.spec.id.includes(':range-')) assert.match(r.spec.description, /than every normal value of the training data/);
      else assert.match(r.spec.description, /fit event F1 [\d.]+ -> [\d.]+; validation event F1 base/);
    }
    assert.ok(parsed.rules.some((r) => /:f[np]-\d+$/.test(r.spec.id)), 'the loop published a rule');
    assert.match(text, /# realAWSCloudwatch\/ec2_network_in_257a54\.csv: fit event F1/);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    assert.equal(report.kind, 'argos-training');
    assert.equal(report.series[0].validation.passed, true);
    assert.ok(report.series[0].iterations.length >= 1);
    assert.match(await readFile(join(dir, 'report.md'), 'utf8'), /^# Argos training report/);
    assert.ok(t.err.some((l) => l.includes('iteration 1')), 'progress on stderr');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('train writes an empty rule list, with the reason, when nothing passes validation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'panoptes-train-'));
  try {
    // No labelled event and a base that never fires on a flat-ish series: nothing to learn.
    const s = syntheticSeries(9, { n: 800, spikes: 0, falseAlarms: 0 });
    const lines = ['timestamp,value', ...Array.from(s.values, (v, i) => `${new Date(s.timestamps[i]!).toISOString().replace('T', ' ').slice(0, 19)},${v}`)];
    await writeFile(join(dir, 'flat.csv'), lines.join('\n') + '\n');
    await writeFile(join(dir, 'labels.json'), JSON.stringify({ 'flat.csv': [] }));
    const t = io(false);
    await cmd('train').run(args({ data: dir, labels: join(dir, 'labels.json'), out: join(dir, 'out.yaml'), iterations: 2, 'range-rules': 'off' }), t.io);
    const text = await readFile(join(dir, 'out.yaml'), 'utf8');
    assert.match(text, /# flat\.csv: no rule published \(no rule was kept\)/);
    const parsed = parseRuleFile(text, 'out.yaml');
    assert.deepEqual(parsed.diagnostics, []);
    assert.equal(parsed.rules.length, 0);
    assert.match(t.out[0]!, /0 rule\(s\) published of 0 trained on 1 series/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('train rejects bad usage with the flag named', async () => {
  const t = io(false);
  await assert.rejects(cmd('train').run(args({ data: nab.data, labels: nab.labels }), t.io), (e: unknown) => e instanceof UsageError && /--out/.test(e.message));
  await assert.rejects(
    cmd('train').run(args({ data: nab.data, labels: nab.labels, out: '/tmp/x.yaml', provider: 'gpt' }), t.io),
    (e: unknown) => e instanceof UsageError && /--provider/.test(e.message),
  );
  await assert.rejects(
    cmd('train').run(args({ data: nab.data, labels: nab.labels, out: '/tmp/x.yaml', 'range-rules': 'maybe' }), t.io),
    (e: unknown) => e instanceof UsageError && /--range-rules: expected one of off, above, both, got "maybe"/.test(e.message),
  );
  await assert.rejects(
    cmd('eval').run(args({ protocol: 'argos', train: 'offline', holdout: true, 'range-rules': 'off' }), t.io),
    (e: unknown) => e instanceof UsageError && /--holdout chooses --range-rules/.test(e.message),
  );
});

test('eval --protocol argos --train offline reports rules and base+rules from trained rules', async () => {
  const t = io(true);
  await cmd('eval').run(args({ protocol: 'argos', filter: ['Twitter_volume_CVS'], train: 'offline' }), t.io);
  const doc = JSON.parse(t.out[0]!);
  assert.notEqual(doc.summary.rules.eventF1, null, 'rules are scored');
  assert.equal(doc.training.length, 1);
  assert.ok(doc.training[0].published.length > 0);
  const s = doc.series[0];
  assert.ok(s.ruleCount.fn + s.ruleCount.fp > 0);
  assert.ok(doc.notes.some((n: string) => /trained per series on its train split with the offline provider/.test(n)));
});

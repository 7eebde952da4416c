/** eval's and train's options (pipelines/train/spec.ts): validation with the flag named, cross-option rules, did-you-mean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs } from '../../../pipelines/core/cli.ts';
import { UsageError } from '../../../pipelines/core/errors.ts';
import type { ParsedArgs } from '../../../pipelines/core/cli-types.ts';
import { commands } from '../../../pipelines/train/cli.ts';
import { evalOptionsFrom, evalSpec, trainOptionsOf, trainSpec } from '../../../pipelines/train/spec.ts';

const args = (options: ParsedArgs['options']): ParsedArgs => ({ options, positionals: [] });
const cmd = (name: string) => commands.find((c) => c.name === name)!;

test('train: several bad options at once, every one reported with its flag', () => {
  assert.throws(
    () =>
      trainSpec.fromArgs(
        args({ data: 'd', labels: 'l', out: 'o', iterations: 0, candidates: 2.5, validation: 1, gate: 'maybe', provider: 'gpt', 'fp-evidence': 'yes', 'range-rules': 'below', base: 'htm', seed: -1 }),
      ),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      const lines = e.message.split('\n').sort();
      assert.deepEqual(lines, [
        '--base: expected one of ensemble, ewma, robust-z, got "htm"',
        '--candidates: expected an integer ≥ 1, got 2.5',
        '--fp-evidence: expected one of on, off, got "yes"',
        '--gate: expected one of proven-vetoes, at-least, improves, got "maybe"',
        '--iterations: expected an integer ≥ 1, got 0',
        '--provider: expected one of offline, openai, got "gpt"',
        '--range-rules: expected one of off, above, both, got "below"',
        '--seed: expected an integer ≥ 0, got -1',
        '--validation: expected a finite number > 0 and < 1, got 1',
      ]);
      return true;
    },
  );
  assert.throws(() => trainSpec.fromArgs(args({ labels: 'l' })), /--data: is required[\s\S]*--out: is required/);
});

test('eval: bad values, then the rules between options, all in one usage error', () => {
  assert.throws(() => evalOptionsFrom(args({ protocol: 'kpi', 'range-recent': -1, 'min-support': 0 })), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /--protocol: expected one of nab, argos, got "kpi"/);
    assert.match(e.message, /--range-recent: expected an integer ≥ 0, got -1/);
    assert.match(e.message, /--min-support: expected an integer ≥ 1, got 0/);
    return true;
  });
  assert.throws(() => evalOptionsFrom(args({ protocol: 'nab', loco: true, holdout: true, cross: true })), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.deepEqual(e.message.split('\n'), ['--holdout applies to --protocol argos', '--cross needs --holdout and --train']);
    return true;
  });
  assert.throws(() => evalOptionsFrom(args({ protocol: 'argos', loco: true })), { message: '--loco applies to --protocol nab' });
  assert.throws(() => evalOptionsFrom(args({ protocol: 'argos', holdout: true, train: 'offline', gate: 'at-least', validation: 0.2 })), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /--holdout chooses --gate on the tuning half/);
    assert.match(e.message, /--holdout chooses --validation on the tuning half/);
    return true;
  });
  // Training options without --train, and --train outside the Argos protocol, would be ignored: they are usage errors.
  assert.throws(() => evalOptionsFrom(args({ protocol: 'argos', seed: 3, gate: 'at-least' })), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.deepEqual(e.message.split('\n').sort(), ['--gate applies with --train (it sets how rules are trained)', '--seed applies with --train (it sets how rules are trained)']);
    return true;
  });
  assert.throws(() => evalOptionsFrom(args({ protocol: 'nab', train: 'offline' })), { message: '--train applies to --protocol argos' });
  // Without --holdout the same options are fine, and unset ones stay unset (the trainer's defaults for the base apply).
  const o = evalOptionsFrom(args({ protocol: 'argos', train: 'offline', gate: 'at-least', 'fp-relative': 'off' }));
  assert.deepEqual(trainOptionsOf(o), { gate: 'at-least', fpRelative: false });
});

test('unknown option: did you mean, on the command line and in a config mapping', () => {
  assert.throws(() => parseCommandArgs(cmd('train'), ['--data', 'd', '--labels', 'l', '--out', 'o', '--iteratons', '3']), /Unknown option '--iteratons' \(did you mean --iterations\?\)/);
  assert.throws(() => parseCommandArgs(cmd('eval'), ['--protcol', 'argos']), /Unknown option '--protcol' \(did you mean --protocol\?\)/);
  const r = evalSpec.check({ minSuport: 2 }, 'eval');
  assert.deepEqual(r.issues.map((i) => i.path), ['eval.minSuport']);
  assert.match(r.issues[0]!.message, /did you mean minSupport\?/);
});

test('the CLI surface: same flags and defaults as the trainer', () => {
  const d = trainSpec.defaults();
  assert.deepEqual([d.seed, d.iterations, d.candidates, d.minSupport, d.validation, d.base], [1, 10, 4, 1, 0.3, 'ensemble']);
  const flags = (name: string) => cmd(name).options.map((o) => o.name);
  for (const f of ['seed', 'iterations', 'candidates', 'min-support', 'validation', 'gate', 'fp-evidence', 'fp-relative', 'range-recent', 'range-rules']) {
    assert.ok(flags('train').includes(f) && flags('eval').includes(f), f);
  }
  // eval leaves the training options unset: --holdout must see what the user passed.
  assert.equal(cmd('eval').options.find((o) => o.name === 'validation')!.default, undefined);
  assert.match(cmd('train').options.find((o) => o.name === 'gate')!.description, /Default: improves with --base ensemble, proven-vetoes otherwise/);
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../../../pipelines/core/errors.ts';
import type { CliIo, ParsedArgs } from '../../../pipelines/core/cli-types.ts';
import { commands } from '../../../pipelines/detect/cli.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATASETS = process.env['PANOPTES_DATASETS'] ? resolve(process.env['PANOPTES_DATASETS']) : resolve(REPO, '..', 'shared', 'datasets');

const dir = mkdtempSync(join(tmpdir(), 'detect-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function run(name: string, args: Partial<ParsedArgs>, json = false): Promise<{ code: number; out: string[]; err: string[] }> {
  const cmd = commands.find((c) => c.name === name);
  assert.ok(cmd, `command ${name}`);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), json, signal: new AbortController().signal };
  const code = await cmd.run({ options: args.options ?? {}, positionals: args.positionals ?? [] }, io);
  return { code, out, err };
}

/** One sample a minute: 30 values around 10, a spike to 50 at minute 30, then normal again. */
function smallCsv(): string {
  const rows = ['timestamp,value'];
  for (let i = 0; i < 40; i++) {
    const t = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString().replace('T', ' ').slice(0, 19);
    rows.push(`${t},${i === 30 ? 50 : 10 + (i % 3)}`);
  }
  return rows.join('\n') + '\n';
}

const rulesYaml = `rules:
  - id: spike
    severity: critical
    description: far above the last 20 minutes
    expr: value > mean(20m) + 3 * std(20m)
  - id: small
    kind: FP
    expr: value < 100
`;

describe('rules check', () => {
  it('prints OK with ids and versions', async () => {
    const r = await run('rules check', { positionals: [file('ok.yaml', rulesYaml)] });
    assert.equal(r.code, 0);
    assert.match(r.out[0]!, /^OK .*ok\.yaml: 2 rules$/);
    assert.match(r.out[1]!, /^ {2}spike@[0-9a-f]{12} FN critical: value > mean\(20m\) \+ 3 \* std\(20m\)$/);
    const j = await run('rules check', { positionals: [join(dir, 'ok.yaml')] }, true);
    assert.deepEqual(JSON.parse(j.out[1]!), { id: 'small', version: JSON.parse(j.out[1]!).version, kind: 'FP', severity: 'warning', expr: 'value < 100' });
  });

  it('prints every error with line:col and exits 1', async () => {
    const p = file('bad.yaml', 'rules:\n  - id: a\n    expr: value > stdev(1h) and mean(30d) > 1\n  - id: b\n    expr: value > (1\n');
    const r = await run('rules check', { positionals: [p] });
    assert.equal(r.code, 1);
    assert.deepEqual(r.out, [
      `${p}:3:19: rules[0] (a): unknown function 'stdev' (did you mean std?)`,
      `${p}:3:38: rules[0] (a): window of mean 30d is larger than the limit 7d`,
      `${p}:5:21: rules[1] (b): expected ')' to close '(', found end of input`,
    ]);
    assert.deepEqual(r.err, [`${p}: 3 error(s)`]);
  });

  it('fails clearly on a missing file or argument', async () => {
    await assert.rejects(run('rules check', { positionals: [join(dir, 'nope.yaml')] }), (e: unknown) => e instanceof InputError && e.message === `cannot read rule file ${join(dir, 'nope.yaml')}: no such file`);
    await assert.rejects(run('rules check', {}), UsageError);
  });
});

describe('detect', () => {
  const csv = file('small.csv', smallCsv());

  it('runs rules alone and prints anomalies with explanations', async () => {
    const rules = file('r.yaml', rulesYaml);
    const r = await run('detect', { options: { csv, rules } });
    assert.equal(r.code, 0);
    assert.equal(r.out.length, 2);
    assert.match(r.out[0]!, /^2024-01-01T00:30:00\.000Z value=50 spike@[0-9a-f]{12} \[critical\] value 50 is \S+ standard deviations above its 20m mean \S+$/);
    assert.match(r.out[1]!, /^ {4}value 50 > mean\(20m\) \S+ \+ 3 × std\(20m\) \S+ = \S+$/);
    assert.match(r.err.at(-1)!, /small\.csv: 40 rows, 40 accepted, 1 anomalies$/);
  });

  it('prints one JSON object per anomaly', async () => {
    const rules = file('r.yaml', rulesYaml);
    const r = await run('detect', { options: { csv, rules } }, true);
    assert.equal(r.out.length, 1);
    const a = JSON.parse(r.out[0]!);
    assert.equal(a.timestamp, '2024-01-01T00:30:00.000Z');
    assert.equal(a.value, 50);
    assert.equal(a.rule, 'spike');
    assert.match(a.ruleVersion, /^[0-9a-f]{12}$/);
    assert.equal(a.kind, 'FN');
    assert.equal(a.severity, 'critical');
    assert.equal(a.score, null);
    assert.match(a.explanation, /standard deviations above its 20m mean/);
    assert.equal(a.clauses.length, 1);
    assert.equal(a.clauses[0].expr, 'value > mean(20m) + 3 * std(20m)');
  });

  it('with --with-base, FP rules remove base anomalies and FN rules add', async () => {
    const fpOnly = file('fp.yaml', 'rules:\n  - id: small\n    kind: FP\n    expr: value < 100\n');
    const base = await run('detect', { options: { csv, base: 'robust-z', window: 10 } }, true);
    assert.ok(base.out.length >= 1);
    assert.equal(JSON.parse(base.out[0]!).rule, 'base:robust-z');
    const combined = await run('detect', { options: { csv, rules: fpOnly, 'with-base': true, base: 'robust-z', window: 10 } }, true);
    assert.deepEqual(combined.out, []);
    assert.match(combined.err.at(-1)!, /base anomalies removed by FP rules/);
  });

  it('reports bad CSV lines, missing files and bad options', async () => {
    const bad = file('bad.csv', 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,x\n');
    await assert.rejects(run('detect', { options: { csv: bad } }), (e: unknown) => e instanceof InputError && e.message === `${bad}:3: bad value 'x' (expected a finite number, or empty/NaN for a missing sample)`);
    await assert.rejects(run('detect', { options: { csv: join(dir, 'missing.csv') } }), (e: unknown) => e instanceof InputError && e.message === `cannot read CSV file ${join(dir, 'missing.csv')}: no such file`);
    await assert.rejects(run('detect', { options: { csv, rules: file('e.yaml', 'value > nope(1h)') } }), (e: unknown) => e instanceof InputError && e.message.endsWith("e.yaml:1:9: unknown function 'nope'"));
    await assert.rejects(run('detect', { options: { csv, base: 'prophet' } }), UsageError);
    await assert.rejects(run('detect', { options: { csv, season: 'daily' } }), UsageError);
    await assert.rejects(run('detect', { options: { csv: '' } }), UsageError);
    // Without --csv the command is the online detector: a bad base detector fails before it starts.
    await assert.rejects(run('detect', { options: { base: 'prophet' } }), UsageError);
  });

  it('finds the labelled jump in NAB art_daily_jumpsup with the default base detector', async () => {
    const nab = join(DATASETS, 'nab', 'data', 'artificialWithAnomaly', 'art_daily_jumpsup.csv');
    assert.ok(existsSync(nab), `NAB data missing at ${nab} (set PANOPTES_DATASETS)`);
    const r = await run('detect', { options: { csv: nab } }, true);
    const hits = r.out.map((l) => JSON.parse(l) as { t: number; rule: string; explanation: string });
    assert.ok(hits.every((h) => h.rule === 'base:ensemble' && /expected range|seen over/.test(h.explanation)), r.out.join('\n'));
    const [from, to] = [Date.parse('2014-04-10T16:15:00Z'), Date.parse('2014-04-12T01:45:00Z')];
    assert.ok(hits.some((h) => h.t >= from && h.t <= to), `no anomaly in the labelled window: ${r.out.join('\n')}`);
    assert.match(r.err.at(-1)!, /art_daily_jumpsup\.csv: 4032 rows, 4032 accepted, \d+ anomalies$/);
  });
});

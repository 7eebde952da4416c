import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSpec, f, HOSTPORT } from '../../../pipelines/core/spec.ts';
import { UsageError } from '../../../pipelines/core/errors.ts';

const spec = defineSpec(
  'demo',
  {
    base: f.enum(['ewma', 'robust-z', 'none'], { doc: 'Base detector.', default: 'ewma' }),
    maxSeries: f.int({ doc: 'Most series tracked.', default: 100_000, min: 1 }),
    threshold: f.number({ doc: 'Alarm threshold.', min: 0, exclusive: true }),
    listen: f.string({ doc: 'Where to listen.', pattern: HOSTPORT, default: '127.0.0.1:9201' }),
    brokers: f.list({ doc: 'Bootstrap servers.', pattern: HOSTPORT, flag: false }),
    dryRun: f.boolean({ doc: 'Do nothing.', default: false, advanced: true }),
  },
  { rules: (v) => (v.base === 'none' && v.threshold !== undefined ? [{ path: 'threshold', message: 'has no effect without a base detector' }] : []) },
);

test('defaults are complete and typed', () => {
  assert.deepEqual(spec.defaults(), { base: 'ewma', maxSeries: 100_000, listen: '127.0.0.1:9201', dryRun: false });
});

test('check reports every problem with its path, unknown keys with a suggestion', () => {
  const r = spec.check({ base: 'ewm', maxSeries: 0, treshold: 1, listen: 'nowhere', threshold: Infinity, brokers: ['a:1', 'b'] }, 'detect');
  assert.equal(r.value, undefined);
  assert.deepEqual(
    r.issues.map((i) => `${i.path}: ${i.message}`).sort(),
    [
      'detect.base: expected one of ewma, robust-z, none, got "ewm"',
      'detect.brokers: expected a list of host:port (e.g. 127.0.0.1:9201), got ["a:1","b"]',
      'detect.listen: expected host:port (e.g. 127.0.0.1:9201), got "nowhere"',
      'detect.maxSeries: expected an integer ≥ 1, got 0',
      'detect.threshold: expected a finite number > 0, got Infinity',
      'detect.treshold: unknown key (did you mean threshold?) (known keys: base, maxSeries, threshold, listen, brokers, dryRun)',
    ],
  );
});

test('cross-field rules run once the fields are valid, and a non-mapping is refused', () => {
  assert.deepEqual(spec.check({ base: 'none', threshold: 2 }, 'detect').issues, [{ path: 'detect.threshold', message: 'has no effect without a base detector' }]);
  assert.match(spec.check([1], 'detect').issues[0]!.message, /expected a mapping of demo options/);
});

test('CLI options come from the spec (config-only fields left out, advanced last) and fromArgs names flags', () => {
  assert.deepEqual(spec.cliOptions().map((o) => `${o.name}:${o.type}`), ['base:string', 'max-series:number', 'threshold:number', 'listen:string', 'dry-run:boolean']);
  assert.throws(() => spec.fromArgs({ options: { 'max-series': 1.5, base: 'ewma' }, positionals: [] }), (e: unknown) => e instanceof UsageError && e.message === '--max-series: expected an integer ≥ 1, got 1.5');
  assert.equal(spec.fromArgs({ options: { threshold: 4 }, positionals: [] }).threshold, 4);
});

test('the README table lists every field', () => {
  const md = spec.markdown();
  for (const k of ['base', 'maxSeries', 'threshold', 'listen', 'brokers', 'dryRun']) assert.match(md, new RegExp(`\\| \`${k}\` \\|`));
});

test('option types follow the field kind, not the literal type of the default', () => {
  const s = defineSpec('t', {
    name: f.string({ doc: 'optional string' }),
    on: f.boolean({ doc: 'flag', default: false }),
    items: f.list({ doc: 'list', default: [] }),
    mode: f.enum(['a', 'b'], { doc: 'mode', default: 'a' }),
  });
  const o = s.defaults();
  // These assignments do not compile when the types come out as {}, false, never[] or 'a'.
  const name: string | undefined = o.name;
  const on: boolean = o.on;
  const items: string[] = o.items;
  let mode: 'a' | 'b' = o.mode;
  mode = 'b';
  on satisfies boolean;
  assert.deepEqual([name, on, items, mode], [undefined, false, [], 'b']);
  const next = { ...o, on: true, items: ['x'], name: 'n' } satisfies typeof o;
  assert.equal(next.on, true);
});

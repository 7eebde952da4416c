import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSelectors, formatSelector, matchesAny, parseSelector } from '../../../connectors/alerts/matchers.ts';

const labels = { __name__: 'http_latency_seconds', service: 'checkout', instance: '10.0.0.7:9100', env: 'prod' };
const m = (...sel: string[]) => matchesAny(compileSelectors(sel), labels);

test('the four operators', () => {
  assert.equal(m('{service="checkout"}'), true);
  assert.equal(m('{service="payments"}'), false);
  assert.equal(m('{service!="payments"}'), true);
  assert.equal(m('{service!="checkout"}'), false);
  assert.equal(m('{service=~"check.*"}'), true);
  assert.equal(m('{service!~"check.*"}'), false);
  assert.equal(m('{service!~"pay.*"}'), true);
});

test('regexes are fully anchored, as in Prometheus', () => {
  assert.equal(m('{service=~"check"}'), false, 'a prefix does not match');
  assert.equal(m('{service=~"heck"}'), false, 'an infix does not match');
  assert.equal(m('{service=~"out"}'), false, 'a suffix does not match');
  assert.equal(m('{service=~"checkout|payments"}'), true, 'alternation is anchored as a whole');
  assert.equal(m('{service=~"payments|check"}'), false, 'no branch escapes the anchors');
  assert.equal(m('{service!~"check"}'), true);
  assert.equal(matchesAny(compileSelectors(['{msg=~"a.b"}']), { msg: 'a\nb' }), true, 'dot matches newline (?s)');
  assert.equal(m('{service=~"(?i)CHECKOUT"}'), true, 'a leading (?i) is case-insensitive');
  assert.equal(m('{service=~"CHECKOUT"}'), false);
});

test('a missing label matches as the empty string', () => {
  assert.equal(m('{team=""}'), true);
  assert.equal(m('{team!=""}'), false);
  assert.equal(m('{team=~".*"}'), true);
  assert.equal(m('{team=~".+"}'), false);
  assert.equal(m('{team!~"x"}'), true);
});

test('metric name forms and matcher lists', () => {
  assert.equal(m('http_latency_seconds'), true);
  assert.equal(m('http_latency_seconds{env="prod"}'), true);
  assert.equal(m('up{env="prod"}'), false);
  assert.equal(m('{__name__=~"http_.*", env="prod", instance=~"10\\\\.0\\\\..*"}'), true);
  assert.equal(m('{env="prod", service="payments"}'), false, 'matchers in one selector are an intersection');
  assert.equal(m('{service="payments"}', '{env="prod"}'), true, 'selectors are a union');
  assert.equal(m(), true, 'no selectors match everything');
  assert.equal(m('service="checkout", env=~"prod|staging"'), true, 'braces are optional');
  assert.equal(m('{service=checkout}'), true, 'unquoted values (Alertmanager style)');
  assert.equal(m('{env="prod",}'), true, 'a trailing comma is allowed, as in PromQL');
  assert.equal(m("{service='checkout'}"), true, 'single quotes');
  assert.equal(m('{service=`checkout`}'), true, 'raw strings');
});

test('escapes in quoted values', () => {
  const sel = parseSelector('{a="x\\"y", b="tab\\there", c="\\u00e9", d=~"\\\\d+"}');
  assert.deepEqual(sel.map((x) => x.value), ['x"y', 'tab\there', 'é', '\\d+']);
  assert.equal(matchesAny(compileSelectors(['{d=~"\\\\d+"}']), { d: '123' }), true);
  assert.equal(formatSelector(sel.slice(0, 1)), '{a="x\\"y"}');
});

test('errors name the problem', () => {
  const bad: [string, RegExp][] = [
    ['{service=~"(unclosed"}', /invalid regular expression/],
    ['{service~"x"}', /expected one of =, !=, =~, !~/],
    ['{1abc="x"}', /expected a label name/],
    ['{a="x" b="y"}', /expected ","/],
    ['{a="x}', /unterminated string/],
    ['{a="x"', /does not end with "}"/],
    ['9metric{a="b"}', /invalid metric name/],
    ['', /empty selector/],
    ['{a="\\q"}', /unknown escape/],
  ];
  for (const [text, re] of bad) assert.throws(() => compileSelectors([text]), re, text);
});

test('RE2 semantics: linear time whatever the pattern; what RE2 refuses is a one-line error; sizes are capped', async () => {
  const { estimateRegexSize, MAX_REGEX_SIZE, newBudget } = await import('../../../connectors/alerts/matchers.ts');
  // Catastrophic for a backtracking engine (JavaScript's RegExp runs for ages on these).
  const evil = compileSelectors(['{__name__=~"(.*.*.*)*z"}', '{a=~"(a+)+$"}', '{a=~"(a|aa)*b"}']);
  const long = `${'a'.repeat(50_000)}x`;
  const t0 = performance.now();
  assert.equal(matchesAny(evil, { __name__: long, a: long }), false);
  assert.ok(performance.now() - t0 < 1000, `took ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(matchesAny(evil, { __name__: `${long}z` }), true);
  // Pasting the value between anchors would let `a)|(b` escape them: it is an error instead.
  assert.throws(() => compileSelectors(['{a=~"a)|(b"}']), /invalid regular expression/);
  for (const [re, why] of [['(x)\\\\1', /no backreferences or lookaround/], ['(?=x)', /no backreferences or lookaround/], ['(?<!x)y', /no backreferences or lookaround/], ['x{1001}', /invalid repeat count/]] as const) {
    assert.throws(() => compileSelectors([`{a=~"${re}"}`]), (err: Error) => why.test(err.message) && !err.message.includes('\n'), re);
  }
  assert.equal(m('{service=~"[[:alpha:]]+"}'), true, 'POSIX classes, as RE2');
  assert.equal(m('{service=~"\\\\p{L}+"}'), true, 'Unicode classes, as RE2');
  assert.equal(m('{service=~"(?i:CHECK)out"}'), true, 'inline flag groups, as RE2');
  // Size: estimated before compiling, per regex and per request.
  assert.ok(estimateRegexSize('\\pL{1000}'.repeat(11)) > MAX_REGEX_SIZE);
  assert.throws(() => compileSelectors([`{a=~"${'\\\\pL{1000}'.repeat(11)}"}`]), /too large/);
  assert.ok(estimateRegexSize('(?:a{30}){30}') >= 900);
  const budget = newBudget();
  assert.throws(() => compileSelectors(Array.from({ length: 30 }, () => '{a=~"[a-z]{1000}"}'), budget), /over the request's allowance/);
});

test('the string fast paths (literals, alternations of literals, prefix, suffix, substring) agree with RE2', async () => {
  const { RE2JS } = await import('re2js');
  const patterns = ['abc', 'a|b|c', 'abc.*', '.*abc', '.*abc.*', '.*', '.*.*', 'a\\.b', 'x.*y', '', '|a', 'a|', 'a|b.*', '.*a|b', '\\.*'];
  const values = ['abc', 'a', 'b', 'abcd', 'xabc', 'xabcx', '', 'a.b', 'axb', 'x\ny', 'ab\nc', 'abc\n', '\nabc', '...'];
  for (const p of patterns) {
    const sel = compileSelectors([`{l=~${JSON.stringify(p)}}`]);
    for (const v of values) assert.equal(matchesAny(sel, { l: v }), RE2JS.compile(p, RE2JS.DOTALL).matches(v), `${JSON.stringify(p)} on ${JSON.stringify(v)}`);
  }
});

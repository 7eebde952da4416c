/**
 * `npm run bench -- alerts-matchers`: what the switch of the alerts selectors from JavaScript's
 * backtracking RegExp to RE2 semantics (re2js) costs on ordinary selectors, and what it saves on a
 * hostile one. In-process figures (the matcher alone, no HTTP): the two engines are measured side
 * by side, alternated, in one run, and the ratio is printed. The JavaScript side is the previous
 * implementation (`new RegExp('^(?:' + re + ')$', 's')`), rebuilt here for the comparison only.
 */
import { compileSelectors, matchesAny } from '../../connectors/alerts/matchers.ts';

const LABELS: Record<string, string>[] = Array.from({ length: 64 }, (_, i) => ({
  __name__: ['http_request_duration_seconds', 'node_cpu_seconds_total', 'checkout_errors_total', 'db_connections'][i % 4]!,
  service: ['checkout', 'payments', 'cart', 'frontend', 'search'][i % 5]!,
  instance: `10.0.${i % 7}.${i}:9100`,
  env: i % 3 === 0 ? 'staging' : 'prod',
  alertname: 'PanoptesAnomaly',
  severity: ['info', 'warning', 'critical'][i % 3]!,
}));

const SELECTORS = [
  '{service="checkout"}',
  '{service=~"check.*|pay.*", env="prod"}',
  'http_request_duration_seconds{instance=~"10\\\\.0\\\\.[0-3]\\\\..*"}',
  '{__name__=~".*_total", severity!~"info"}',
  '{service=~"(?i)FRONTEND|SEARCH"}',
];

/** The former engine: a backtracking RegExp per matcher, anchored by pasting. */
function jsSelectors(inputs: string[]): ((labels: Record<string, string>) => boolean)[] {
  return inputs.map((text) => {
    const ms = compileSelectors([text])[0]!;
    const tests = ms.map((m) => {
      if (m.op === '=' || m.op === '!=') return (l: Record<string, string>) => ((l[m.name] ?? '') === m.value) === (m.op === '=');
      const ci = m.value.startsWith('(?i)');
      const re = new RegExp(`^(?:${ci ? m.value.slice(4) : m.value})$`, ci ? 'si' : 's');
      return (l: Record<string, string>) => re.test(l[m.name] ?? '') === (m.op === '=~');
    });
    return (l: Record<string, string>) => tests.every((t) => t(l));
  });
}

function rate(fn: () => void, ms: number): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    fn();
    n++;
  }
  return n / (ms / 1000);
}

export async function run(): Promise<void> {
  const re2 = compileSelectors(SELECTORS);
  const js = jsSelectors(SELECTORS);
  const re2Round = () => {
    for (const l of LABELS) matchesAny(re2, l);
  };
  const jsRound = () => {
    for (const l of LABELS) js.some((s) => s(l));
  };
  // Same answers first: the comparison is between equal matchers.
  for (const l of LABELS) if (matchesAny(re2, l) !== js.some((s) => s(l))) throw new Error(`engines disagree on ${JSON.stringify(l)}`);
  const rounds = 5;
  const r: number[] = [];
  const j: number[] = [];
  for (let i = 0; i < rounds; i++) {
    j.push(rate(jsRound, 300));
    r.push(rate(re2Round, 300));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const evalsPerRound = LABELS.length;
  console.log('in-process, 5 selectors (union) against 64 label sets, 5 alternated rounds of 300 ms each, median:');
  console.log('| engine | label sets matched per second | ratio |');
  console.log('|---|---|---|');
  console.log(`| JavaScript RegExp (former) | ${Math.round(med(j) * evalsPerRound)} | 1.00 |`);
  console.log(`| RE2 semantics (re2js) | ${Math.round(med(r) * evalsPerRound)} | ${(med(r) / med(j)).toFixed(2)} |`);

  console.log('\nhostile selector {__name__=~"(.*.*.*)*z"} against a value of n "a"s, one match each, ms:');
  console.log('| n | JavaScript RegExp (former) | RE2 semantics |');
  console.log('|---|---|---|');
  const evilRe2 = compileSelectors(['{__name__=~"(.*.*.*)*z"}']);
  const evilJs = new RegExp('^(?:(.*.*.*)*z)$', 's');
  for (const n of [6, 8, 10, 100_000]) {
    const v = 'a'.repeat(n);
    let jsMs = 'not run (would not finish)';
    if (n <= 10) {
      const t0 = performance.now();
      evilJs.test(v);
      jsMs = (performance.now() - t0).toFixed(1);
    }
    const t1 = performance.now();
    matchesAny(evilRe2, { __name__: v });
    console.log(`| ${n} | ${jsMs} | ${(performance.now() - t1).toFixed(2)} |`);
  }
}

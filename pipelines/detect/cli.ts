/**
 * Offline commands: `rules check FILE` and `detect --csv FILE [--rules FILE] [--with-base]`.
 * `detect` without --csv runs the online detector (cli-online.ts). Both read their detector
 * options from the stage spec (spec.ts), so they take the same options with the same defaults.
 */
import { UsageError } from '../core/errors.ts';
import type { CliCommand, CliIo, CliOption, ParsedArgs, ReadmeSections } from '../core/cli-types.ts';
import { parseSeriesCsv } from '../core/csv.ts';
import { anomalyRecord } from './engine/anomaly.ts';
import { SeriesDetector } from './engine/series-detector.ts';
import { formatDiagnostic } from './rules/diagnostics.ts';
import { loadRules, readText } from './rules/load.ts';
import { parseRuleFile } from './rules/rule-file.ts';
import { baseDetectorOf, detectSpec, type DetectOptions } from './spec.ts';

const rulesCheck: CliCommand = {
  name: 'rules check',
  summary: 'Parse and type-check a rule file; print rule ids and versions or every error with line:col',
  usage: 'FILE [--json]',
  options: [],
  help: 'Exit code 1 when the file has errors. A file holding only an expression is one FN rule named after the file.\nExample: panoptes rules check rules/cpu.yaml',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError('rules check needs a FILE');
    const { rules, diagnostics } = parseRuleFile(await readText(file, 'rule file'), file);
    if (diagnostics.length > 0) {
      for (const d of diagnostics) {
        io.out(io.json ? JSON.stringify({ file, line: d.line, col: d.col, rule: d.ruleId ?? null, message: d.message }) : formatDiagnostic(d, file));
      }
      io.err(`${file}: ${diagnostics.length} error(s)`);
      return 1;
    }
    if (!io.json) io.out(`OK ${file}: ${rules.length} rule${rules.length === 1 ? '' : 's'}`);
    for (const r of rules) {
      const s = r.spec;
      io.out(io.json ? JSON.stringify({ id: s.id, version: r.version, kind: s.kind, severity: s.severity, expr: r.canonical }) : `  ${s.id}@${r.version} ${s.kind} ${s.severity}: ${r.canonical}`);
    }
    return 0;
  },
};

/** `detect`'s own options; the detector's come from the spec. */
const OFFLINE_OPTIONS: CliOption[] = [
  { name: 'csv', type: 'string', description: 'timestamp,value CSV (NAB format) to run offline; without it, the online detector consumes the metrics topic', placeholder: 'FILE' },
  { name: 'rules', type: 'string', description: 'With --csv: rule file (YAML or a bare expression); alone, the rules run without a base detector', placeholder: 'FILE' },
  { name: 'with-base', type: 'boolean', description: 'With --csv and --rules: combine the rules with the base detector as deployed: FP rules remove (min), then FN rules add (max)', default: false },
];

async function runCsv(csvPath: string, args: ParsedArgs, o: DetectOptions, io: CliIo): Promise<number> {
  const rulesPath = typeof args.options['rules'] === 'string' ? args.options['rules'] : undefined;
  const withBase = args.options['with-base'] === true || rulesPath === undefined;
  let base;
  if (withBase) {
    const built = baseDetectorOf(o);
    if (built.base === undefined && rulesPath === undefined) throw new UsageError('detect --csv with --base none needs --rules FILE (nothing would run)');
    for (const flag of built.ignored) io.err(`warning: ${flag} is ignored by the ${o.base} base detector`);
    base = built.base;
  }
  const rules = rulesPath === undefined ? [] : await loadRules(rulesPath);
  const series = parseSeriesCsv(await readText(csvPath, 'CSV file'), csvPath);
  const detector = new SeriesDetector({
    rules,
    ...(base ? { base } : {}),
    onRuleError: (f) => io.err(`warning: ${f.message}`),
  });
  let anomalies = 0;
  let suppressed = 0;
  const n = series.timestamps.length;
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0 && io.signal.aborted) break;
    const d = detector.update(series.timestamps[i]!, series.values[i]!);
    if (d.suppressed) suppressed++;
    if (!d.isAnomaly) continue;
    anomalies++;
    const rec = anomalyRecord(d, base?.name);
    if (io.json) io.out(JSON.stringify(rec));
    else {
      const tag = rec.ruleVersion === null ? rec.rule : `${rec.rule}@${rec.ruleVersion}`;
      io.out(`${rec.timestamp} value=${rec.value} ${tag} [${rec.severity}] ${rec.explanation}`);
      for (const c of rec.clauses) io.out(`    ${c.text}`);
      for (const a of rec.also) io.out(`    also ${a.rule}: ${a.explanation}`);
    }
  }
  const s = detector.stats;
  io.err(
    `${csvPath}: ${n} rows, ${s.accepted} accepted, ${anomalies} anomalies` +
      `${suppressed > 0 ? `, ${suppressed} base anomalies removed by FP rules` : ''}` +
      `${s.outOfOrder + s.duplicates + s.nan > 0 ? ` (skipped: ${s.outOfOrder} out of order, ${s.duplicates} duplicate timestamps, ${s.nan} missing)` : ''}` +
      `${s.quarantined > 0 ? `; ${s.quarantined} rule(s) quarantined` : ''}`,
  );
  return 0;
}

const detect: CliCommand = {
  name: 'detect',
  // Online (no --csv) it is a server whose anomalies other processes read.
  // --rules without --csv is a usage error the command reports itself, not a missing broker.
  requiresBroker: (args) => args.options.csv === undefined && args.options.rules === undefined,
  summary: 'Detect anomalies: offline over a timestamp,value CSV (--csv), or online as an exactly-once consumer of the metrics topic; prints each anomaly with its explanation',
  usage: `[--csv FILE [--rules FILE] [--with-base]] [--base ${detectSpec.fields.base.values.join('|')}] [--json]`,
  options: [...OFFLINE_OPTIONS, ...detectSpec.cliOptions()],
  help:
    'Without --rules the base detector runs alone. The detector options are the same online and offline (pipelines/detect/README.md, Options). With --json: one object per anomalous sample with timestamp, value, rule, ruleVersion, kind, severity, score, explanation, clauses.\n' +
    'Example: panoptes detect --csv data.csv --rules rules.yaml --with-base --json',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const o = detectSpec.fromArgs(args);
    const csvPath = args.options['csv'];
    if (csvPath === undefined) {
      if (args.options['rules'] !== undefined) throw new UsageError('--rules goes with --csv; online, rules come from the rules topic (panoptes rules publish FILE)');
      // No CSV: the online detector (a consumer group on the metrics topic), loaded on use.
      const { runOnlineDetector } = await import('./cli-online.ts');
      return runOnlineDetector(o, io);
    }
    if (typeof csvPath !== 'string' || csvPath === '') throw new UsageError('detect --csv needs a FILE');
    return runCsv(csvPath, args, o, io);
  },
};

export const commands: CliCommand[] = [rulesCheck, detect];

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { options: () => detectSpec.markdown() };

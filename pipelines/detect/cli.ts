/**
 * Offline commands: `rules check FILE` and `detect --csv FILE [--rules FILE] [--with-base]`.
 * The online detector (a Kafka consumer) drives the same SeriesDetector.
 */
import { readFile } from 'node:fs/promises';
import { InputError, UsageError } from '../core/errors.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { baseDetectorNames, createBaseDetector } from './base/index.ts';
import type { BaseDetector } from './base/types.ts';
import { formatDiagnostic } from './rules/diagnostics.ts';
import { parseSeriesCsv } from './csv.ts';
import { parseDuration } from './rules/lexer.ts';
import type { CheckedRule } from './rules/rule.ts';
import { parseRuleFile } from './rules/rule-file.ts';
import type { Decision } from './engine/series-detector.ts';
import { SeriesDetector } from './engine/series-detector.ts';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new InputError(`cannot read ${what} ${path}: ${why}`, { cause: err });
  }
}

/** Loads and checks a rule file; throws InputError listing every positioned problem. */
export async function loadRules(path: string): Promise<CheckedRule[]> {
  const { rules, diagnostics } = parseRuleFile(await readText(path, 'rule file'), path);
  if (diagnostics.length > 0) throw new InputError(`${diagnostics.length} error(s) in ${path}:\n${diagnostics.map((d) => formatDiagnostic(d, path)).join('\n')}`, { details: { diagnostics } });
  return rules;
}

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

interface AnomalyRecord {
  timestamp: string;
  t: number;
  value: number;
  rule: string;
  ruleVersion: string | null;
  kind: 'FN' | 'FP' | 'base';
  severity: string;
  score: number | null;
  explanation: string;
  clauses: { expr: string; text: string; left: number; right: number }[];
  /** Every other reason the sample is anomalous (more rules, the base detector). */
  also: { rule: string; ruleVersion: string | null; explanation: string }[];
}

export function anomalyRecord(d: Decision, baseName: string | undefined): AnomalyRecord {
  const reasons: AnomalyRecord[] = [];
  const timestamp = new Date(d.t).toISOString();
  const score = d.base?.score ?? null;
  for (const f of d.fn) {
    reasons.push({
      timestamp, t: d.t, value: d.value, rule: f.ruleId, ruleVersion: f.ruleVersion, kind: 'FN', severity: f.severity, score,
      explanation: f.explanation, clauses: f.clauses.map((c) => ({ expr: c.expr, text: c.text, left: c.left, right: c.right })), also: [],
    });
  }
  if (d.base?.isAnomaly && !d.suppressed) {
    reasons.push({ timestamp, t: d.t, value: d.value, rule: `base:${baseName}`, ruleVersion: null, kind: 'base', severity: 'warning', score, explanation: d.base.explanation, clauses: [], also: [] });
  }
  const [first, ...rest] = reasons;
  if (first === undefined) throw new Error('internal: anomalyRecord on a normal sample');
  first.also = rest.map((r) => ({ rule: r.rule, ruleVersion: r.ruleVersion, explanation: r.explanation }));
  return first;
}

const detect: CliCommand = {
  name: 'detect',
  summary: 'Detect anomalies: offline over a timestamp,value CSV (--csv), or online as an exactly-once consumer of the metrics topic; prints each anomaly with its explanation',
  usage: '[--csv FILE [--rules FILE] [--with-base]] [--base robust-z|ewma|none] [--json]',
  options: [
    { name: 'csv', type: 'string', description: 'timestamp,value CSV (NAB format) to run offline; without it, the online detector consumes the metrics topic', placeholder: 'FILE' },
    { name: 'rules', type: 'string', description: 'rule file (YAML or a bare expression); alone, the rules run without a base detector', placeholder: 'FILE' },
    { name: 'with-base', type: 'boolean', description: 'combine the rules with the base detector as deployed: FP rules remove (min), then FN rules add (max)', default: false },
    { name: 'base', type: 'string', description: `base detector: ${baseDetectorNames.join(' | ')}`, default: 'ewma' },
    { name: 'threshold', type: 'number', description: 'base detector threshold (robust z or residual σ)' },
    { name: 'window', type: 'number', description: 'robust-z window in samples' },
    { name: 'season', type: 'string', description: 'ewma season length (e.g. 1d, or 0s for none); default 1d' },
    { name: 'group', type: 'string', description: 'online: consumer group of the detector', default: 'panoptes-detect' },
    { name: 'instance', type: 'string', description: 'online: stable instance id (the transactional id suffix, so a restart fences its former self); default: the host name' },
  ],
  help: 'Without --rules the base detector runs alone. With --json: one object per anomalous sample with timestamp, value, rule, ruleVersion, kind, severity, score, explanation, clauses.\nExample: panoptes detect --csv data.csv --rules rules.yaml --with-base --json',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const o = args.options;
    const csvPath = o['csv'];
    if (csvPath === undefined) {
      // No CSV: the online detector (a consumer group on the metrics topic), loaded on use.
      const { runOnlineDetector } = await import('./cli-online.ts');
      return runOnlineDetector(args, io);
    }
    if (typeof csvPath !== 'string' || csvPath === '') throw new UsageError('detect --csv needs a FILE');
    const rulesPath = typeof o['rules'] === 'string' ? o['rules'] : undefined;
    const withBase = o['with-base'] === true || rulesPath === undefined;
    const baseName = typeof o['base'] === 'string' ? o['base'] : 'ewma';
    const rules = rulesPath === undefined ? [] : await loadRules(rulesPath);
    let base: BaseDetector | undefined;
    if (withBase) {
      const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
      let seasonMs: number | undefined;
      if (typeof o['season'] === 'string') {
        seasonMs = parseDuration(o['season']);
        if (seasonMs === undefined) throw new UsageError(`--season must be a duration like 1d, found '${o['season']}'`);
      }
      base = createBaseDetector(baseName, { threshold: num('threshold'), window: num('window'), seasonMs });
    }
    const series = parseSeriesCsv(await readText(csvPath, 'CSV file'), csvPath);
    const detector = new SeriesDetector({
      rules,
      ...(base ? { base } : {}),
      onRuleError: (f) => io.err(`warning: ${f.message}`),
    });
    let anomalies = 0;
    let suppressed = 0;
    for (let i = 0; i < series.t.length; i++) {
      if ((i & 4095) === 0 && io.signal.aborted) break;
      const d = detector.update(series.t[i]!, series.v[i]!);
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
      `${csvPath}: ${series.t.length} rows, ${s.accepted} accepted, ${anomalies} anomalies` +
        `${suppressed > 0 ? `, ${suppressed} base anomalies removed by FP rules` : ''}` +
        `${s.outOfOrder + s.duplicates + s.nan > 0 ? ` (skipped: ${s.outOfOrder} out of order, ${s.duplicates} duplicate timestamps, ${s.nan} NaN)` : ''}` +
        `${s.quarantined > 0 ? `; ${s.quarantined} rule(s) quarantined` : ''}`,
    );
    return 0;
  },
};

export const commands: CliCommand[] = [rulesCheck, detect];

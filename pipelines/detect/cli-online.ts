/**
 * Commands that talk to the pipeline: publish and inspect rules on the `rules` topic, and run the
 * online detector. (`panoptes detect --csv` is the offline run, in cli.ts.)
 */
import { describeError, InputError, UsageError } from '../core/errors.ts';
import type { CliCommand, CliIo, ParsedArgs } from '../core/cli-types.ts';
import { loadConfig } from '../core/config.ts';
import { untilAborted } from '../core/lifecycle.ts';
import type { RuleRecord } from '../core/records.ts';
import { createRuntime } from '../core/runtime.ts';
import { topicName } from '../core/topics.ts';
import { startDetectorFromSpec, type RunningDetector } from './consumer.ts';
import { loadRules } from './rules/load.ts';
import { RuleSet, toRuleRecord } from './rules/rule-records.ts';
import { baseDetectorOf, type DetectOptions } from './spec.ts';

function parseSelector(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--selector expects label=value, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

const publish: CliCommand = {
  name: 'rules publish',
  summary: 'Check a rule file and deploy its rules to the running detectors (compacted rules topic)',
  usage: 'FILE [--selector label=value ...] [--source NAME]',
  options: [
    { name: 'selector', type: 'string[]', placeholder: 'LABEL=VALUE', description: 'Run the rules only on series with these labels (repeatable).' },
    { name: 'source', type: 'string', description: 'Who wrote the rules (manual, offline, a model name).', default: 'manual' },
  ],
  help: 'Every rule is checked first; one bad rule publishes nothing. Detectors pick the rules up without a restart; a rule with the same id replaces the old one (unchanged rules keep their windows).\nExample: panoptes rules publish rules/latency.yaml --selector service=checkout',
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const file = args.positionals[0];
    if (!file) throw new UsageError('rules publish needs a FILE');
    const rules = await loadRules(file);
    if (rules.length === 0) throw new InputError(`${file} holds no rules`);
    const selector = parseSelector((args.options.selector as string[] | undefined) ?? []);
    const rt = await createRuntime(loadConfig(), { stage: 'rules' });
    try {
      const topic = topicName('rules', rt.config.topicPrefix);
      const records = rules.map((r) => toRuleRecord(r, { selector, source: String(args.options.source ?? 'manual') }));
      const p = await rt.transport.producer();
      await p.send(records.map((r) => ({ topic, key: r.id, value: rt.serde.encode(topic, r) })));
      await p.close();
      for (const r of records) io.out(io.json ? JSON.stringify({ published: r.id, version: r.version, kind: r.kind, severity: r.severity, selector: r.selector }) : `published ${r.id}@${r.version} (${r.kind}, ${r.severity})`);
      return 0;
    } finally {
      await rt.close();
    }
  },
};

const remove: CliCommand = {
  name: 'rules delete',
  summary: 'Remove deployed rules by id (a tombstone on the rules topic)',
  usage: 'ID [ID ...]',
  options: [],
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError('rules delete needs at least one rule ID');
    const rt = await createRuntime(loadConfig(), { stage: 'rules' });
    try {
      const topic = topicName('rules', rt.config.topicPrefix);
      const p = await rt.transport.producer();
      await p.send(args.positionals.map((id) => ({ topic, key: id, value: null })));
      await p.close();
      for (const id of args.positionals) io.out(io.json ? JSON.stringify({ deleted: id }) : `deleted ${id}`);
      return 0;
    } finally {
      await rt.close();
    }
  },
};

const list: CliCommand = {
  name: 'rules list',
  summary: 'List the rules currently deployed (the latest state of the rules topic)',
  options: [],
  async run(_args, io) {
    const rt = await createRuntime(loadConfig(), { stage: 'rules' });
    try {
      const topic = topicName('rules', rt.config.topicPrefix);
      const set = new RuleSet();
      const records = new Map<string, RuleRecord>();
      const rejected = new Map<string, string>();
      for (const r of await rt.transport.readToEnd(topic)) {
        const id = r.key?.toString() ?? '';
        let rec: RuleRecord | null = null;
        if (r.value) {
          try {
            rec = (await rt.serde.decode<RuleRecord>(topic, r.value)).value;
          } catch (err) {
            // As the detectors do: a record that does not decode is rejected, the others stand.
            rejected.set(id, `does not decode: ${describeError(err)}`);
            continue;
          }
        }
        const u = set.apply(id, rec);
        if (u.kind === 'rejected') rejected.set(id, u.reason);
        else rejected.delete(id);
        if (rec && u.kind !== 'rejected') records.set(id, rec);
        else if (u.kind !== 'rejected') records.delete(id);
      }
      for (const [id, why] of rejected) io.err(`rejected ${id}: ${why}`);
      for (const rec of records.values()) io.out(io.json ? JSON.stringify(rec) : `${rec.id}@${rec.version} ${rec.kind} ${rec.severity} ${JSON.stringify(rec.selector)}: ${rec.expr.trim()}`);
      if (!io.json) io.err(`${records.size} rule(s) deployed on ${topic}`);
      return 0;
    } finally {
      await rt.close();
    }
  },
};

/** `panoptes detect` without --csv: the online detector, until SIGINT/SIGTERM. Every option of the spec is honoured. */
export async function runOnlineDetector(o: DetectOptions, io: CliIo): Promise<number> {
  // Builds the base detector once to refuse bad values before connecting.
  const { ignored } = baseDetectorOf(o);
  for (const flag of ignored) io.err(`warning: ${flag} is ignored by the ${o.base} base detector`);
  const rt = await createRuntime(loadConfig(), { stage: 'detect' });
  try {
    let det: RunningDetector | undefined;
    await rt.serveMetrics(() => det?.health() ?? { ok: true, detail: { stage: 'detect', ready: false } });
    det = await startDetectorFromSpec(rt, o, io.json ? { onCommitted: ({ anomalies }) => anomalies.forEach((a) => io.out(JSON.stringify(a))) } : {});
    io.err(`detector running on ${rt.config.transport} (group ${o.group}, base ${o.base}); Ctrl-C stops it`);
    const failed = await Promise.race([untilAborted(io.signal).then(() => null), det.failed]);
    await det.stop();
    if (failed) {
      io.err(`detector stopped on an error: ${describeError(failed)}`);
      return 1;
    }
    return 0;
  } finally {
    await rt.close();
  }
}

export const commands: CliCommand[] = [publish, remove, list];

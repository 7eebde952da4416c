/**
 * The `panoptes` command line: collects every stage's declared commands, parses arguments against
 * their option declarations, prints generated help, and maps errors to one clear line and an exit
 * code (2 usage/config, 1 other failures).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { transportChoice } from './config.ts';
import { isPanoptesError, UsageError } from './errors.ts';
import type { CliCommand, CliIo, CliOption, ParsedArgs, ReadmeSections } from './cli-types.ts';
import { shutdownSignal } from './lifecycle.ts';
import { didYouMean } from './spec.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Modules that export `commands`, in help order. Missing ones are skipped (stages land over time). */
export const COMMAND_MODULES = [
  'pipelines/start/cli.ts',
  'pipelines/run/cli.ts',
  'pipelines/core/commands.ts',
  'connectors/remote-write/cli.ts',
  'pipelines/detect/cli.ts',
  'pipelines/detect/cli-online.ts',
  'pipelines/train/cli.ts',
  'pipelines/llm/cli.ts',
  'pipelines/incidents/cli.ts',
  'pipelines/rca/cli.ts',
  'pipelines/inference/cli.ts',
  'pipelines/lab/cli.ts',
  'connectors/alerts/cli.ts',
  'connectors/kafka-connect/cli.ts',
  'pipelines/dashboard/cli.ts',
];

/** Options every command takes. */
export const GLOBAL_OPTIONS: CliOption[] = [
  { name: 'json', type: 'boolean', description: 'Print machine-readable JSON (one object per line for streams).' },
  { name: 'config', type: 'string', placeholder: 'FILE', description: 'YAML/JSON config file (see pipelines/core/README.md, Configuration); env PANOPTES_CONFIG.' },
  { name: 'help', type: 'boolean', description: 'Show help for the command.' },
];

/** The option the CLI adds to commands that require a broker (CliCommand.requiresBroker). */
export const TRANSPORT_OPTION: CliOption = {
  name: 'transport',
  type: 'string',
  placeholder: 'embedded|kafka',
  description: 'kafka (real brokers; the default when brokers are configured) or embedded (in-process: nothing written here is visible to another process). Without brokers configured this command refuses to start unless --transport embedded is given.',
};

/** A command's own options, plus --transport for commands that require a broker. */
export function commandOptions(c: CliCommand): CliOption[] {
  return c.requiresBroker && !c.options.some((o) => o.name === TRANSPORT_OPTION.name) ? [...c.options, TRANSPORT_OPTION] : c.options;
}

/**
 * For a command that requires a broker: applies --transport (to the environment the command's
 * config is loaded from) and refuses an embedded transport nobody chose.
 */
export function checkTransport(c: CliCommand, args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): void {
  const needs = typeof c.requiresBroker === 'function' ? c.requiresBroker(args) : c.requiresBroker === true;
  if (!needs) return;
  const flag = args.options[TRANSPORT_OPTION.name];
  if (flag !== undefined) {
    if (flag !== 'embedded' && flag !== 'kafka') throw new UsageError(`--transport must be embedded or kafka, got "${String(flag)}"`);
    env.PANOPTES_TRANSPORT = flag;
    return;
  }
  const choice = transportChoice({ env });
  if (choice.transport === 'embedded' && !choice.explicit) {
    throw new UsageError(
      'no Kafka brokers configured (PANOPTES_BROKERS, or brokers in the config file): on the embedded in-process transport nothing this command accepts could be read by another process. ' +
        'Set PANOPTES_BROKERS=host:port[,host:port...], or pass --transport embedded to run it in-process anyway.',
    );
  }
}

/** One command module: its path, its directory (the stage whose README documents it) and its commands. */
export interface CommandModule {
  module: string;
  dir: string;
  commands: CliCommand[];
  /** Option tables and other README sections the module generates from its spec. */
  readmeSections: ReadmeSections;
}

/** Every module of COMMAND_MODULES that exists, in help order, with its commands. */
export async function loadCommandModules(): Promise<CommandModule[]> {
  const out: CommandModule[] = [];
  for (const rel of COMMAND_MODULES) {
    const file = join(ROOT, rel);
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { commands?: CliCommand[]; readmeSections?: ReadmeSections };
    out.push({ module: rel, dir: dirname(rel), commands: mod.commands ?? [], readmeSections: mod.readmeSections ?? {} });
  }
  return out;
}

export async function loadCommands(): Promise<CliCommand[]> {
  return (await loadCommandModules()).flatMap((m) => m.commands);
}

/** A boolean option that defaults to true can be turned off with `--no-NAME` (Node 20's parseArgs has no such form). */
function negatable(o: CliOption): boolean {
  return o.type === 'boolean' && o.default === true;
}

/** The flag as help and the generated docs show it: `--max-series N`, `--json`, `--[no-]count-failures`. */
export function flagLabel(o: CliOption): string {
  if (o.type === 'boolean') return negatable(o) ? `--[no-]${o.name}` : `--${o.name}`;
  return `--${o.name} ${o.placeholder ?? (o.type === 'number' ? 'N' : o.type === 'string[]' ? 'VALUE...' : 'VALUE')}`;
}

function optionLine(o: CliOption): string {
  const flag = flagLabel(o);
  const def = o.default !== undefined ? ` (default: ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})` : '';
  const req = o.required ? ' (required)' : '';
  return `  ${flag.padEnd(34)} ${o.description}${def}${req}`;
}

export function commandHelp(c: CliCommand): string {
  const lines = [`Usage: panoptes ${c.name}${c.usage ? ` ${c.usage}` : ''}`, '', c.summary];
  if (c.help) lines.push('', c.help.trim());
  const own = commandOptions(c);
  const opts = [...own, ...GLOBAL_OPTIONS.filter((g) => !own.some((o) => o.name === g.name))];
  lines.push('', 'Options:', ...opts.map(optionLine));
  return lines.join('\n');
}

export function mainHelp(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 10) + 2;
  return [
    'panoptes — event-streaming AIOps on Apache Kafka: explainable anomaly rules, causal-graph root cause,',
    'deadline-aware model serving, and a fault-injection lab.',
    '',
    'Usage: panoptes <command> [options]      panoptes <command> --help',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Global options:',
    ...GLOBAL_OPTIONS.map(optionLine),
    '',
    'Configuration comes from --config FILE, PANOPTES_* environment variables and defaults;',
    'without PANOPTES_BROKERS every command runs on the embedded in-process transport.',
  ].join('\n');
}

/** Finds the command whose words are the longest prefix of argv. */
export function matchCommand(commands: CliCommand[], argv: string[]): { command: CliCommand; rest: string[] } | null {
  let best: { command: CliCommand; rest: string[] } | null = null;
  for (const c of commands) {
    const words = c.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command: c, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export function parseCommandArgs(c: CliCommand, argv: string[]): ParsedArgs & { json: boolean; help: boolean; config?: string } {
  const own = commandOptions(c);
  const all = [...own, ...GLOBAL_OPTIONS.filter((g) => !own.some((o) => o.name === g.name))];
  const spec: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const o of all) {
    spec[o.name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.type === 'string[]' ? { multiple: true } : {}) };
    if (negatable(o) && !all.some((x) => x.name === `no-${o.name}`)) spec[`no-${o.name}`] = { type: 'boolean' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    // One line: node's message joined, and where the options are listed.
    const why = (err as Error).message.replace(/\. To specify a positional.*$/s, '').replace(/\s*\n\s*/g, ' ');
    // An unknown flag gets the nearest known one: `--iteratons` → "did you mean --iterations?".
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(--?[^']+)'/.exec(why)?.[1] : undefined;
    const hint = unknown ? didYouMean(unknown, Object.keys(spec).map((n) => `--${n}`)) : '';
    throw new UsageError(`${why}${hint} (panoptes ${c.name} --help lists the options)`);
  }
  const options: ParsedArgs['options'] = {};
  const help = parsed.values.help === true;
  for (const o of all) {
    let raw = (parsed.values as Record<string, unknown>)[o.name];
    if (negatable(o) && (parsed.values as Record<string, unknown>)[`no-${o.name}`] === true && spec[`no-${o.name}`]) {
      if (raw !== undefined) throw new UsageError(`--${o.name} and --no-${o.name} contradict each other (panoptes ${c.name} --help lists the options)`);
      raw = false;
    }
    if (raw === undefined) {
      if (o.required && !help) throw new UsageError(`--${o.name} is required (panoptes ${c.name} --help lists the options)`);
      options[o.name] = o.default;
      continue;
    }
    if (o.type === 'number') {
      const n = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${o.name} expects a number, got "${String(raw)}"`);
      options[o.name] = n;
    } else if (o.type === 'string[]') {
      options[o.name] = (raw as string[]).flatMap((s) => s.split(',')).filter((s) => s.length > 0);
    } else options[o.name] = raw as string | boolean;
  }
  return { options, positionals: parsed.positionals, json: options.json === true, help, config: options.config as string | undefined };
}

export async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  const out = (l: string) => process.stdout.write(l + '\n');
  const err = (l: string) => process.stderr.write(l + '\n');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(mainHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const m = matchCommand(commands, argv);
  if (!m) {
    err(`panoptes: unknown command "${argv.join(' ')}"\n`);
    err(mainHelp(commands));
    return 2;
  }
  const shutdown = shutdownSignal();
  try {
    const args = parseCommandArgs(m.command, m.rest);
    if (args.help) {
      out(commandHelp(m.command));
      return 0;
    }
    if (args.config) process.env.PANOPTES_CONFIG = args.config;
    checkTransport(m.command, args);
    const io: CliIo = { out, err, json: args.json, signal: shutdown.signal };
    return await m.command.run(args, io);
  } catch (e) {
    if (isPanoptesError(e)) {
      err(`panoptes ${m.command.name}: ${e.message}`);
      return e.code === 'PANOPTES_USAGE' || e.code === 'PANOPTES_CONFIG' ? 2 : 1;
    }
    err(`panoptes ${m.command.name}: unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  } finally {
    shutdown.dispose();
  }
}

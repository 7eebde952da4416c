/**
 * The contract every stage's CLI commands follow. A stage exports `commands: CliCommand[]` from
 * `pipelines/<stage>/cli.ts` (connectors: `connectors/<name>/cli.ts`); `pipelines/core/cli.ts`
 * collects them, parses arguments against each command's declared options (so `--help` and the
 * README are generated from the same declarations) and runs the chosen one.
 */

export type OptionType = 'string' | 'number' | 'boolean' | 'string[]';

export interface CliOption {
  /** Long name without dashes, e.g. `rules` for `--rules`. */
  name: string;
  type: OptionType;
  description: string;
  default?: string | number | boolean | string[];
  required?: boolean;
  /** Shown in help instead of the type, e.g. `FILE`, `ADDR`. */
  placeholder?: string;
}

export interface ParsedArgs {
  /** Option values by long name, already converted to their declared types. */
  options: Record<string, string | number | boolean | string[] | undefined>;
  /** Arguments that are not options, after the command words. */
  positionals: string[];
}

export interface CliIo {
  /** Human output or, with --json, one JSON document per line. */
  out: (line: string) => void;
  /** Progress and diagnostics: always stderr, never mixed into --json output. */
  err: (line: string) => void;
  /** True when the user passed --json. */
  json: boolean;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export interface CliCommand {
  /** Command words, e.g. `rules check` or `detect`. */
  name: string;
  summary: string;
  /** Usage line after `panoptes <name>`, e.g. `FILE [--json]`. */
  usage?: string;
  options: CliOption[];
  /** Longer description and examples for `panoptes <name> --help`. */
  help?: string;
  /**
   * A long-running server whose records other processes must see (ingest, the online detector,
   * incidents run, rca run, alerts). The CLI gives it a `--transport embedded|kafka` option and
   * refuses to start it (exit 2) when no brokers are configured and neither `--transport embedded`
   * nor `transport: embedded` (config file or PANOPTES_TRANSPORT) chose the in-process transport:
   * what it accepted would otherwise be invisible to every other process. A function decides per
   * invocation (`ingest --null-sink` needs no transport at all).
   */
  requiresBroker?: boolean | ((args: ParsedArgs) => boolean);
  /** Returns the process exit code. Throw a PanoptesError for failures the user should read. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/**
 * README sections a command module generates from its spec: section name → markdown. `npm run docs`
 * writes each between `<!-- generated:NAME -->` markers in the module's folder README.
 */
export type ReadmeSections = Record<string, () => string | Promise<string>>;

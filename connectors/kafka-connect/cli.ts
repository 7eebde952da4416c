/**
 * `panoptes connect deploy|status|delete`: wires Panoptes' anomalies and incidents into a database
 * through a Kafka Connect worker (Debezium's JDBC sink). The topic prefix and the registry come
 * from the Panoptes config, so the connector reads the same topics the pipeline writes.
 */
import { readFileSync } from 'node:fs';
import type { CliCommand, CliOption, ParsedArgs } from '../../pipelines/core/cli-types.ts';
import { loadConfig, type Config } from '../../pipelines/core/config.ts';
import { InputError, UsageError } from '../../pipelines/core/errors.ts';
import { ConnectClient } from './client.ts';
import { defaultConnectorName, SINK_DEFAULTS, SINK_KINDS, sinkConnectorConfig, type SinkKind } from './config.ts';

const COMMON: CliOption[] = [
  { name: 'connect-url', type: 'string', placeholder: 'URL', default: SINK_DEFAULTS.connectUrl, description: 'Kafka Connect REST API (infra/connect/up.sh starts one there).' },
];

const DEPLOY_OPTIONS: CliOption[] = [
  ...COMMON,
  { name: 'jdbc-url', type: 'string', placeholder: 'URL', default: SINK_DEFAULTS.jdbcUrl, description: 'Database the sink writes into (JDBC URL).' },
  { name: 'jdbc-user', type: 'string', default: SINK_DEFAULTS.jdbcUser, description: 'Database user.' },
  { name: 'jdbc-password-file', type: 'string', placeholder: 'FILE', description: 'File holding the database password (trimmed); none by default (trust auth).' },
  { name: 'anomalies-table', type: 'string', default: 'panoptes_anomalies', description: 'Table for anomalies (created by the sink if missing).' },
  { name: 'incidents-table', type: 'string', default: 'panoptes_incidents', description: 'Table for incidents (created by the sink if missing).' },
  { name: 'registry-url', type: 'string', placeholder: 'URL', description: 'Schema registry (Confluent API URL as Panoptes uses it, or Apicurio\'s /apis/registry/v2). Default: the config\'s registryUrl.' },
  { name: 'print', type: 'boolean', description: 'Print the connector configs instead of deploying them.' },
  { name: 'wait-ms', type: 'number', default: 60000, description: 'How long to wait for the connectors\' tasks to run (0: do not wait).' },
];

/** A worker that does not answer at all fails after connectTimeoutMs; a busy one is waited out longer. */
function clientFor(args: ParsedArgs, config: Config): ConnectClient {
  return new ConnectClient(args.options['connect-url'] as string, { unreachableForMs: config.connectTimeoutMs });
}

function kindsOf(args: ParsedArgs): SinkKind[] {
  const kinds = args.positionals.length > 0 ? args.positionals : [...SINK_KINDS];
  for (const k of kinds) if (!SINK_KINDS.includes(k as SinkKind)) throw new UsageError(`unknown sink ${k}: choose from ${SINK_KINDS.join(', ')}`);
  return kinds as SinkKind[];
}

function registryFor(args: ParsedArgs, configured: string): string {
  const given = args.options['registry-url'] as string | undefined;
  if (given) return given;
  // The embedded pipeline's in-memory registry is invisible to Connect: use the local server.
  return configured.startsWith('mock://') ? SINK_DEFAULTS.registryUrl : configured;
}

function password(file: string | undefined): string {
  if (!file) return SINK_DEFAULTS.jdbcPassword;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new InputError(`cannot read --jdbc-password-file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export const commands: CliCommand[] = [
  {
    name: 'connect deploy',
    summary: 'Create or update the Kafka Connect JDBC sinks for anomalies and incidents; wait until they run.',
    usage: '[anomalies|incidents ...] [options]',
    options: DEPLOY_OPTIONS,
    help: `
Upserts each record into its table keyed by id (a record delivered twice, or an incident's later
state, updates its row). Nested fields become json columns. See connectors/kafka-connect/README.md.

  bash infra/connect/up.sh
  panoptes connect deploy --jdbc-url jdbc:postgresql://127.0.0.1:5432/test
  panoptes connect deploy anomalies --print     # the config, to PUT yourself`,
    async run(args, io) {
      const config = loadConfig();
      const o = args.options;
      const base = {
        topicPrefix: config.topicPrefix,
        jdbcUrl: o['jdbc-url'] as string,
        jdbcUser: o['jdbc-user'] as string,
        jdbcPassword: password(o['jdbc-password-file'] as string | undefined),
        registryUrl: registryFor(args, config.registryUrl),
      };
      const plans = kindsOf(args).map((kind) => {
        const name = defaultConnectorName(kind, config.topicPrefix);
        const table = o[`${kind}-table`] as string;
        return { kind, name, table, config: sinkConnectorConfig(kind, { ...base, table }) };
      });
      if (o.print) {
        for (const p of plans) {
          const shown = { ...p.config, 'connection.password': p.config['connection.password'] ? '********' : '' };
          io.out(io.json ? JSON.stringify({ name: p.name, config: shown }) : JSON.stringify({ name: p.name, config: shown }, null, 2));
        }
        return 0;
      }
      const client = clientFor(args, config);
      const waitMs = o['wait-ms'] as number;
      for (const p of plans) {
        const created = await client.put(p.name, p.config);
        io.err(`${created ? 'created' : 'updated'} connector ${p.name}: topic ${p.config.topics} → table ${p.table}`);
      }
      for (const p of plans) {
        const st = waitMs > 0 ? await client.waitRunning(p.name, waitMs) : await client.status(p.name);
        const state = st ? `${st.connector.state}, tasks ${st.tasks.map((t) => t.state).join(',') || 'none yet'}` : 'no status yet';
        io.out(io.json ? JSON.stringify({ name: p.name, kind: p.kind, table: p.table, topic: p.config.topics, status: st }) : `${p.name}: ${state}`);
      }
      return 0;
    },
  },
  {
    name: 'connect status',
    summary: 'Show the state of the Panoptes JDBC sinks (or of the named connectors) on a Kafka Connect worker.',
    usage: '[CONNECTOR ...] [options]',
    options: COMMON,
    async run(args, io) {
      const config = loadConfig();
      const client = clientFor(args, config);
      const names = args.positionals.length > 0 ? args.positionals : SINK_KINDS.map((k) => defaultConnectorName(k, config.topicPrefix));
      let bad = 0;
      for (const name of names) {
        const st = await client.status(name);
        const failed = st ? [st.connector, ...st.tasks].some((t) => t.state === 'FAILED') : false;
        if (!st || failed) bad++;
        io.out(io.json ? JSON.stringify({ name, status: st }) : `${name}: ${st ? `${st.connector.state}, tasks ${st.tasks.map((t) => `${t.id}=${t.state}`).join(',') || 'none'}` : 'not deployed'}`);
      }
      return bad > 0 ? 1 : 0;
    },
  },
  {
    name: 'connect delete',
    summary: 'Delete the Panoptes JDBC sinks from a Kafka Connect worker (tables and rows are kept).',
    usage: '[anomalies|incidents ...] [options]',
    options: COMMON,
    async run(args, io) {
      const config = loadConfig();
      const client = clientFor(args, config);
      for (const kind of kindsOf(args)) {
        const name = defaultConnectorName(kind, config.topicPrefix);
        const existed = await client.remove(name);
        io.out(io.json ? JSON.stringify({ name, deleted: existed }) : `${name}: ${existed ? 'deleted' : 'not deployed'}`);
      }
      return 0;
    },
  },
];

/**
 * `panoptes connect deploy|status|delete`: wires Panoptes' anomalies and incidents into a database
 * through a Kafka Connect worker (Debezium's JDBC sink). The topic prefix and the registry come
 * from the Panoptes config, so the connector reads the same topics the pipeline writes.
 */
import { readFileSync } from 'node:fs';
import type { CliCommand, ReadmeSections } from '../../pipelines/core/cli-types.ts';
import { loadConfig, type Config } from '../../pipelines/core/config.ts';
import { InputError, UsageError } from '../../pipelines/core/errors.ts';
import { ConnectClient } from './client.ts';
import { defaultConnectorName, SINK_DEFAULTS, SINK_KINDS, sinkConnectorConfig, type SinkKind } from './config.ts';
import { connectSpec, ONLY_URL, type ConnectOptions } from './spec.ts';

/** A worker that does not answer at all fails after connectTimeoutMs; a busy one is waited out longer. */
function clientFor(o: ConnectOptions, config: Config): ConnectClient {
  return new ConnectClient(o.connectUrl, { unreachableForMs: config.connectTimeoutMs });
}

function kindsOf(positionals: string[]): SinkKind[] {
  const kinds = positionals.length > 0 ? positionals : [...SINK_KINDS];
  for (const k of kinds) if (!SINK_KINDS.includes(k as SinkKind)) throw new UsageError(`unknown sink ${k}: choose from ${SINK_KINDS.join(', ')}`);
  return kinds as SinkKind[];
}

function registryFor(o: ConnectOptions, configured: string): string {
  if (o.registryUrl) return o.registryUrl;
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
    options: connectSpec.cliOptions(),
    help: `
Upserts each record into its table keyed by id (a record delivered twice, or an incident's later
state, updates its row). Nested fields become json columns. See connectors/kafka-connect/README.md.

  bash infra/connect/up.sh
  panoptes connect deploy --jdbc-url jdbc:postgresql://127.0.0.1:5432/test
  panoptes connect deploy anomalies --print     # the config, to PUT yourself`,
    async run(args, io) {
      const o = connectSpec.fromArgs(args);
      const config = loadConfig();
      const base = {
        topicPrefix: config.topicPrefix,
        jdbcUrl: o.jdbcUrl,
        jdbcUser: o.jdbcUser,
        jdbcPassword: password(o.jdbcPasswordFile),
        registryUrl: registryFor(o, config.registryUrl),
      };
      const plans = kindsOf(args.positionals).map((kind) => {
        const name = defaultConnectorName(kind, config.topicPrefix);
        const table = kind === 'anomalies' ? o.anomaliesTable : o.incidentsTable;
        return { kind, name, table, config: sinkConnectorConfig(kind, { ...base, table }) };
      });
      if (o.print) {
        for (const p of plans) {
          const shown = { ...p.config, 'connection.password': p.config['connection.password'] ? '********' : '' };
          io.out(io.json ? JSON.stringify({ name: p.name, config: shown }) : JSON.stringify({ name: p.name, config: shown }, null, 2));
        }
        return 0;
      }
      const client = clientFor(o, config);
      const waitMs = o.waitMs;
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
    options: connectSpec.cliOptions({ omit: [...ONLY_URL] }),
    async run(args, io) {
      const config = loadConfig();
      const client = clientFor(connectSpec.fromArgs(args), config);
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
    options: connectSpec.cliOptions({ omit: [...ONLY_URL] }),
    async run(args, io) {
      const config = loadConfig();
      const client = clientFor(connectSpec.fromArgs(args), config);
      for (const kind of kindsOf(args.positionals)) {
        const name = defaultConnectorName(kind, config.topicPrefix);
        const existed = await client.remove(name);
        io.out(io.json ? JSON.stringify({ name, deleted: existed }) : `${name}: ${existed ? 'deleted' : 'not deployed'}`);
      }
      return 0;
    },
  },
];

/** The README's option tables, generated from the spec by `npm run docs` (pipelines/core/docs.ts). */
export const readmeSections: ReadmeSections = { options: () => connectSpec.markdown() };

/**
 * The options of `panoptes connect deploy|status|delete`, declared once: the CLI options, the
 * README table (connectors/kafka-connect/README.md, `npm run docs`) and validation come from here.
 */
import { defineSpec, f, type Options } from '../../pipelines/core/spec.ts';
import { SINK_DEFAULTS } from './config.ts';

const URL = { re: /^https?:\/\/\S+$/, says: 'an http(s) URL' };

export const connectSpec = defineSpec(
  'connect',
  {
    connectUrl: f.string({ doc: 'Kafka Connect REST API (infra/connect/up.sh starts one there).', default: SINK_DEFAULTS.connectUrl as string, pattern: URL, placeholder: 'URL' }),
    jdbcUrl: f.string({ doc: 'Database the sink writes into (JDBC URL).', default: SINK_DEFAULTS.jdbcUrl as string, pattern: { re: /^jdbc:\S+$/, says: 'a JDBC URL (jdbc:…)' }, placeholder: 'URL' }),
    jdbcUser: f.string({ doc: 'Database user.', default: SINK_DEFAULTS.jdbcUser as string, nonEmpty: true }),
    jdbcPasswordFile: f.string({ doc: 'File holding the database password (trimmed); none by default (trust auth).', placeholder: 'FILE', nonEmpty: true }),
    anomaliesTable: f.string({ doc: 'Table for anomalies (created by the sink if missing).', default: 'panoptes_anomalies', pattern: { re: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/, says: 'an SQL table name' } }),
    incidentsTable: f.string({ doc: 'Table for incidents (created by the sink if missing).', default: 'panoptes_incidents', pattern: { re: /^[A-Za-z_][A-Za-z0-9_]{0,62}$/, says: 'an SQL table name' } }),
    registryUrl: f.string({ doc: "Schema registry (Confluent API URL as Panoptes uses it, or Apicurio's /apis/registry/v2). Default: the config's registryUrl.", pattern: URL, placeholder: 'URL' }),
    print: f.boolean({ doc: 'Print the connector configs instead of deploying them.', default: false }),
    waitMs: f.int({ doc: "How long to wait for the connectors' tasks to run, ms (0: do not wait).", default: 60_000, min: 0, max: 3_600_000 }),
  },
  { summary: 'Kafka Connect JDBC sinks for anomalies and incidents.' },
);

export type ConnectOptions = Options<typeof connectSpec.fields>;

/** Options of `status` and `delete`: the worker's address only. */
export const ONLY_URL = ['jdbcUrl', 'jdbcUser', 'jdbcPasswordFile', 'anomaliesTable', 'incidentsTable', 'registryUrl', 'print', 'waitMs'] as const;

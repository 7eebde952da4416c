/**
 * Kafka Connect sink configs that land Panoptes' anomalies and incidents in a relational table
 * through Debezium's JDBC sink, reading the records exactly as Panoptes produces them
 * (Confluent-framed Avro whose schema ids are the registry's content ids).
 *
 * Pure: builds the JSON a user (or `panoptes connect deploy`) PUTs to
 * `/connectors/<name>/config`. Why each setting is what it is:
 * - Apicurio's AvroConverter 2.6.x with `as-confluent` + `use-id=contentId` reads the 5-byte
 *   Confluent framing and looks the id up as a content id, which is what the registry's Confluent
 *   API hands out (Apicurio 3.x, see infra/README.md). 2.6.x is the newest converter whose
 *   dependencies Maven Central serves here; it talks to the registry's v2 API, which 3.x still serves.
 * - `insert.mode=upsert` keyed on the record's `id`: a record delivered again after a restart
 *   (Connect commits offsets every few seconds, so redelivery is normal) updates its row instead of
 *   adding one; an incident's later lifecycle records replace its earlier state.
 * - Nested fields: JsonFields renders an anomaly's `labels` (map) and `clauses` (array of records)
 *   and an incident's `components` and `anomalyIds` (string lists) as JSON text into `json` columns.
 * - Column names in snake_case (Debezium's FieldNameTransformation), so SQL needs no quoting.
 */
import { ConfigError } from '../../pipelines/core/errors.ts';
import { topicName } from '../../pipelines/core/topics.ts';

export type SinkKind = 'anomalies' | 'incidents';
export const SINK_KINDS: readonly SinkKind[] = ['anomalies', 'incidents'];

export interface SinkOptions {
  /** Topic prefix of the Panoptes pipeline (config `topicPrefix`). */
  topicPrefix: string;
  /** Target table; default `panoptes_<kind>`. */
  table?: string;
  /** Connector name; default `panoptes-<kind>-jdbc` (with the topic prefix, dots as dashes). */
  name?: string;
  jdbcUrl: string;
  jdbcUser: string;
  jdbcPassword: string;
  /** The registry's Confluent API URL as Panoptes is configured, or its native v2 API URL. */
  registryUrl: string;
  tasksMax?: number;
}

export const SINK_DEFAULTS = {
  jdbcUrl: 'jdbc:postgresql://127.0.0.1:5432/test',
  jdbcUser: 'postgres',
  jdbcPassword: '',
  registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  connectUrl: 'http://127.0.0.1:18083',
} as const;

/** Nested fields rendered as JSON text, per kind (the rest map to plain columns or arrays). */
export const JSON_FIELDS: Record<SinkKind, string[]> = {
  anomalies: ['labels', 'clauses'],
  // Debezium's PostgreSQL array type cannot carry the schema's default ([]) and fails the task.
  incidents: ['components', 'anomalyIds'],
};

/**
 * The converter needs Apicurio's native v2 API; Panoptes is configured with the Confluent API
 * (`…/apis/ccompat/v7`). Both live on the same server, so one URL gives the other.
 */
export function registryApiUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  if (/\/apis\/registry\/v2$/.test(u)) return u;
  const m = /^(.*)\/apis\/ccompat\/v\d+$/.exec(u);
  if (m) return `${m[1]}/apis/registry/v2`;
  if (/^https?:\/\/[^/]+$/.test(u)) return `${u}/apis/registry/v2`;
  throw new ConfigError([{ path: 'registryUrl', message: `cannot derive Apicurio's v2 API from ${url}: give …/apis/ccompat/v7, …/apis/registry/v2 or the server's base URL` }]);
}

/** SQL identifiers the sink creates unquoted: keep them plain so users need no quoting either. */
const TABLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export function defaultConnectorName(kind: SinkKind, topicPrefix: string): string {
  const p = topicPrefix.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return `panoptes-${p ? `${p}-` : ''}${kind}-jdbc`;
}

export function sinkConnectorConfig(kind: SinkKind, opts: SinkOptions): Record<string, string> {
  if (!SINK_KINDS.includes(kind)) throw new ConfigError([{ path: 'kind', message: `unknown sink kind ${String(kind)} (anomalies or incidents)` }]);
  const table = opts.table ?? `panoptes_${kind}`;
  if (!TABLE_RE.test(table)) throw new ConfigError([{ path: 'table', message: `${table} must match ${TABLE_RE.source} (lower case, digits, underscores)` }]);
  const tasks = opts.tasksMax ?? 1;
  if (!Number.isInteger(tasks) || tasks < 1) throw new ConfigError([{ path: 'tasksMax', message: `must be a positive integer, got ${tasks}` }]);
  if (!opts.jdbcUrl.startsWith('jdbc:')) throw new ConfigError([{ path: 'jdbcUrl', message: `must start with jdbc:, got ${opts.jdbcUrl}` }]);
  const topic = topicName(kind, opts.topicPrefix);

  const transforms: string[] = [];
  const cfg: Record<string, string> = {
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': String(tasks),
    topics: topic,
    'connection.url': opts.jdbcUrl,
    'connection.username': opts.jdbcUser,
    'connection.password': opts.jdbcPassword,
    'insert.mode': 'upsert',
    'primary.key.mode': 'record_value',
    'primary.key.fields': 'id',
    'delete.enabled': 'false',
    'schema.evolution': 'basic',
    'collection.name.format': table,
    'use.time.zone': 'UTC',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
    'value.converter.apicurio.registry.url': registryApiUrl(opts.registryUrl),
    'value.converter.apicurio.registry.as-confluent': 'true',
    'value.converter.apicurio.registry.use-id': 'contentId',
    'value.converter.apicurio.registry.headers.enabled': 'false',
    // A record that cannot be decoded or written stops the task (visible in its status) rather
    // than being skipped: a table missing rows silently is worse than a failed task.
    'errors.tolerance': 'none',
  };
  const json = JSON_FIELDS[kind];
  if (json.length > 0) {
    transforms.push('json');
    cfg['transforms.json.type'] = 'io.panoptes.connect.JsonFields$Value';
    cfg['transforms.json.fields'] = json.join(',');
  }
  transforms.push('snake');
  cfg['transforms.snake.type'] = 'io.debezium.connector.jdbc.transforms.FieldNameTransformation';
  cfg['transforms.snake.column.naming.style'] = 'snake_case';
  cfg.transforms = transforms.join(',');
  return cfg;
}

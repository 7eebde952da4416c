package io.panoptes.connect;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Replaces the named fields of a Struct value (or key) with their JSON text, typed as a string
 * with the schema name {@code io.debezium.data.Json}.
 *
 * Why: Panoptes records carry nested fields (an anomaly's labels map and clauses array of records,
 * an incident's component and id lists). No transformation shipped with Kafka renders a map or an
 * array of structs as text (Cast takes primitives only), and Debezium's JDBC sink has no column
 * type for an array of structs and maps a map to hstore on PostgreSQL (an extension). Debezium's
 * sink writes strings named {@code io.debezium.data.Json} into a {@code json} column, so the nested
 * values stay queryable ({@code labels->>'host'}) without flattening unbounded label sets into
 * columns.
 *
 * Config: {@code fields} — comma-separated top-level field names. Fields not present are ignored;
 * null values stay null; tombstones pass through.
 */
public abstract class JsonFields<R extends ConnectRecord<R>> implements Transformation<R> {
  public static final String JSON_SCHEMA_NAME = "io.debezium.data.Json";
  public static final String FIELDS_CONFIG = "fields";
  public static final ConfigDef CONFIG_DEF = new ConfigDef().define(FIELDS_CONFIG, ConfigDef.Type.LIST,
      ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH, "Top-level fields to replace with their JSON text.");

  private Set<String> fields;
  private JsonConverter json;
  /** Output schema per input schema; a task's transformation is called from one thread. */
  private final Map<Schema, Schema> schemas = new HashMap<>();

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    List<String> list = config.getList(FIELDS_CONFIG);
    if (list.isEmpty()) throw new DataException("JsonFields: '" + FIELDS_CONFIG + "' must name at least one field");
    fields = new HashSet<>(list);
    json = new JsonConverter();
    Map<String, Object> jsonProps = new HashMap<>();
    jsonProps.put("schemas.enable", false);
    jsonProps.put("decimal.format", "NUMERIC");
    json.configure(jsonProps, false);
  }

  @Override
  public R apply(R record) {
    Object value = operatingValue(record);
    if (value == null) return record;
    Schema schema = operatingSchema(record);
    if (schema == null || schema.type() != Schema.Type.STRUCT || !(value instanceof Struct)) {
      throw new DataException("JsonFields needs a Struct with a schema (use a schema-aware converter), got "
          + (schema == null ? "no schema" : schema.type()) + " on topic " + record.topic());
    }
    Struct in = (Struct) value;
    Schema outSchema = schemas.computeIfAbsent(schema, this::convertSchema);
    Struct out = new Struct(outSchema);
    for (Field f : schema.fields()) {
      Object v = in.get(f);
      if (fields.contains(f.name()) && v != null) {
        out.put(f.name(), new String(json.fromConnectData(record.topic(), f.schema(), v), StandardCharsets.UTF_8));
      } else {
        out.put(f.name(), v);
      }
    }
    return newRecord(record, outSchema, out);
  }

  private Schema convertSchema(Schema schema) {
    SchemaBuilder b = SchemaBuilder.struct().name(schema.name()).version(schema.version()).doc(schema.doc());
    if (schema.isOptional()) b.optional();
    for (Field f : schema.fields()) {
      if (fields.contains(f.name())) {
        SchemaBuilder text = SchemaBuilder.string().name(JSON_SCHEMA_NAME).version(1);
        if (f.schema().isOptional()) text.optional();
        b.field(f.name(), text.build());
      } else {
        b.field(f.name(), f.schema());
      }
    }
    return b.build();
  }

  @Override
  public ConfigDef config() {
    return CONFIG_DEF;
  }

  @Override
  public void close() {
    if (json != null) json.close();
    schemas.clear();
  }

  protected abstract Schema operatingSchema(R record);

  protected abstract Object operatingValue(R record);

  protected abstract R newRecord(R record, Schema schema, Object value);

  /** Transforms the record's value. */
  public static class Value<R extends ConnectRecord<R>> extends JsonFields<R> {
    @Override
    protected Schema operatingSchema(R record) {
      return record.valueSchema();
    }

    @Override
    protected Object operatingValue(R record) {
      return record.value();
    }

    @Override
    protected R newRecord(R record, Schema schema, Object value) {
      return record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(), record.key(),
          schema, value, record.timestamp(), record.headers());
    }
  }

  /** Transforms the record's key. */
  public static class Key<R extends ConnectRecord<R>> extends JsonFields<R> {
    @Override
    protected Schema operatingSchema(R record) {
      return record.keySchema();
    }

    @Override
    protected Object operatingValue(R record) {
      return record.key();
    }

    @Override
    protected R newRecord(R record, Schema schema, Object value) {
      return record.newRecord(record.topic(), record.kafkaPartition(), schema, value,
          record.valueSchema(), record.value(), record.timestamp(), record.headers());
    }
  }
}

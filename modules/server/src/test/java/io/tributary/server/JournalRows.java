package io.tributary.server;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.datastax.oss.driver.api.core.cql.ColumnDefinition;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.type.DataType;
import com.datastax.oss.driver.api.core.type.DataTypes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Rows of the journal's {@code messages} and the snapshot store's {@code snapshots} tables as JSON
 * objects, one a line: every non-null column under its CQL name, blobs in base64, timeuuids as
 * text, sets as arrays. {@link #export} reads a table in key order, {@link #insert} writes such
 * lines back into a table of the same schema, so a journal written by one release can be replayed
 * by a later one ({@link JournalReplayIT}, {@link JournalFixtureWriter}).
 */
final class JournalRows {

  static final ObjectMapper JSON = new ObjectMapper();
  /** Columns that order each table's rows: its primary key. */
  private static final List<String> MESSAGES_KEY = List.of("persistence_id", "partition_nr", "sequence_nr");
  private static final List<String> SNAPSHOTS_KEY = List.of("persistence_id", "sequence_nr");

  private JournalRows() {}

  /** A session on the test Cassandra, with the driver's defaults (not application.conf's 9042). */
  static CqlSession session() {
    String[] hostPort = TestNode.cassandra().split(":");
    return CqlSession.builder()
        .withConfigLoader(DriverConfigLoader.fromMap(OptionsMap.driverDefaults()))
        .addContactPoint(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])))
        .withLocalDatacenter("datacenter1").build();
  }

  /** Every row of {@code keyspace.table}, ordered by its key ({@code messages} or {@code snapshots}). */
  static List<ObjectNode> export(CqlSession session, String keyspace, String table) {
    List<String> key = table.equals("messages") ? MESSAGES_KEY : SNAPSHOTS_KEY;
    List<ObjectNode> rows = new ArrayList<>();
    for (Row row : session.execute(SimpleStatement.newInstance("SELECT * FROM " + keyspace + "." + table)
        .setTimeout(Duration.ofSeconds(30)))) {
      ObjectNode json = JSON.createObjectNode();
      for (ColumnDefinition column : row.getColumnDefinitions()) {
        String name = column.getName().asInternal();
        if (!row.isNull(name)) {
          put(json, name, column.getType(), row.getObject(name));
        }
      }
      rows.add(json);
    }
    Comparator<ObjectNode> order = Comparator.comparing(r -> r.get(key.get(0)).asText());
    for (String column : key.subList(1, key.size())) {
      order = order.thenComparingLong(r -> r.get(column).asLong());
    }
    rows.sort(order);
    return rows;
  }

  private static void put(ObjectNode json, String name, DataType type, Object value) {
    if (type.equals(DataTypes.TEXT)) {
      json.put(name, (String) value);
    } else if (type.equals(DataTypes.BIGINT)) {
      json.put(name, (Long) value);
    } else if (type.equals(DataTypes.INT)) {
      json.put(name, (Integer) value);
    } else if (type.equals(DataTypes.TIMEUUID) || type.equals(DataTypes.UUID)) {
      json.put(name, value.toString());
    } else if (type.equals(DataTypes.BLOB)) {
      ByteBuffer bytes = ((ByteBuffer) value).duplicate();
      byte[] array = new byte[bytes.remaining()];
      bytes.get(array);
      json.put(name, Base64.getEncoder().encodeToString(array));
    } else if (type.equals(DataTypes.setOf(DataTypes.TEXT))) {
      Set<?> set = (Set<?>) value;
      if (!set.isEmpty()) {
        ArrayNode array = json.putArray(name);
        set.forEach(s -> array.add((String) s));
      }
    } else {
      throw new IllegalStateException("Column " + name + " has type " + type + ", which JournalRows does not convert");
    }
  }

  /** Writes {@code rows} (as {@link #export} made them) into {@code keyspace.table}. */
  static void insert(CqlSession session, String keyspace, String table, List<JsonNode> rows) {
    for (JsonNode row : rows) {
      List<String> columns = new ArrayList<>();
      row.fieldNames().forEachRemaining(columns::add);
      PreparedStatement insert = session.prepare("INSERT INTO " + keyspace + "." + table + " ("
          + String.join(", ", columns) + ") VALUES (" + "?, ".repeat(columns.size() - 1) + "?)");
      Object[] values = new Object[columns.size()];
      for (int i = 0; i < columns.size(); i++) {
        values[i] = value(row.get(columns.get(i)), insert.getVariableDefinitions().get(i).getType(), columns.get(i));
      }
      session.execute(insert.bind(values).setTimeout(Duration.ofSeconds(30)));
    }
  }

  private static Object value(JsonNode json, DataType type, String name) {
    if (type.equals(DataTypes.TEXT)) {
      return json.textValue();
    } else if (type.equals(DataTypes.BIGINT)) {
      return json.longValue();
    } else if (type.equals(DataTypes.INT)) {
      return json.intValue();
    } else if (type.equals(DataTypes.TIMEUUID) || type.equals(DataTypes.UUID)) {
      return UUID.fromString(json.textValue());
    } else if (type.equals(DataTypes.BLOB)) {
      return ByteBuffer.wrap(Base64.getDecoder().decode(json.textValue()));
    } else if (type.equals(DataTypes.setOf(DataTypes.TEXT))) {
      Set<String> set = new LinkedHashSet<>();
      json.forEach(s -> set.add(s.textValue()));
      return set;
    }
    throw new IllegalStateException("Column " + name + " has type " + type + ", which JournalRows does not convert");
  }

  /** The lines of a JSON-lines resource, each one object. */
  static List<JsonNode> read(String resource) {
    try (var in = JournalRows.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("No resource " + resource);
      }
      List<JsonNode> rows = new ArrayList<>();
      for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          rows.add(JSON.readTree(line));
        }
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

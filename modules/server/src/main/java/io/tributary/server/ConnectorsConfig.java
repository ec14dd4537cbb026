package io.tributary.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import io.tributary.connectors.Connectors;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code tributary.destinations} and {@code tributary.sources} (the connectors module's
 * reference.conf) as {@link Connectors.Settings}.
 */
final class ConnectorsConfig {

  private ConnectorsConfig() {}

  static Connectors.Settings of(Config root) {
    Config c = root.getConfig("tributary.destinations");
    Map<String, String> endpoints = new LinkedHashMap<>();
    flatten(c.getConfig("sqs.endpoints")).forEach(endpoints::put);
    Map<String, Map<String, String>> clusters = new LinkedHashMap<>();
    Config kafka = c.getConfig("kafka.clusters");
    for (String name : kafka.root().keySet()) {
      clusters.put(name, flatten(kafka.getConfig(ConfigUtil.quoteString(name))));
    }
    return new Connectors.Settings(endpoints, c.getString("sqs.access-key-id"), c.getString("sqs.secret-access-key"),
        clusters, c.getDuration("send-timeout"), flatten(root.getConfig("tributary.sources.kinesis.endpoints")),
        flatten(root.getConfig("tributary.sources.dynamodb.endpoints")));
  }

  /** Every leaf as {@code a.b.c = value}, whether written nested, dotted or quoted. */
  private static Map<String, String> flatten(Config config) {
    Map<String, String> flat = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      flat.put(String.join(".", ConfigUtil.splitPath(e.getKey())), String.valueOf(e.getValue().unwrapped()));
    }
    return flat;
  }
}

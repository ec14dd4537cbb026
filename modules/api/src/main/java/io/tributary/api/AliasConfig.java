package io.tributary.api;

import java.util.Map;

/**
 * A function alias: a name that points at a published version (or {@code $LATEST}), optionally
 * sending a share of invocations to one additional version ({@code RoutingConfig}).
 */
public record AliasConfig(
    String name,
    String functionVersion,
    String description,
    Map<String, Double> additionalVersionWeights,
    String revisionId) {

  public AliasConfig {
    description = description == null ? "" : description;
    additionalVersionWeights = additionalVersionWeights == null ? Map.of() : Map.copyOf(additionalVersionWeights);
  }

  public boolean references(String version) {
    return functionVersion.equals(version) || additionalVersionWeights.containsKey(version);
  }
}

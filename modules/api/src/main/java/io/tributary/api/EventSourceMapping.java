package io.tributary.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;

/**
 * An event source mapping as stored: what it reads, the function it feeds, how it batches, and
 * where it stands ({@code state}, {@code stateTransitionReason}, {@code lastProcessingResult}).
 * A self-managed Kafka source has {@code bootstrapServers} and one topic; {@code eventSourceArn}
 * is null for it.
 *
 * <p>{@code enabled} is what the user asked for; {@code state} follows it through the transitional
 * states as the pollers start and stop.
 */
public record EventSourceMapping(
    String uuid,
    String functionArn,
    String eventSourceArn,
    List<String> bootstrapServers,
    List<String> topics,
    String consumerGroupId,
    int batchSize,
    int maximumBatchingWindowInSeconds,
    String startingPosition,
    boolean enabled,
    String state,
    String stateTransitionReason,
    String lastProcessingResult,
    long lastModifiedMillis,
    List<String> filterPatterns,
    List<String> functionResponseTypes) {

  public static final String CREATING = "Creating";
  public static final String ENABLING = "Enabling";
  public static final String ENABLED = "Enabled";
  public static final String DISABLING = "Disabling";
  public static final String DISABLED = "Disabled";
  public static final String UPDATING = "Updating";
  public static final String DELETING = "Deleting";
  public static final String NO_RECORDS = "No records processed";

  public EventSourceMapping {
    bootstrapServers = bootstrapServers == null ? List.of() : List.copyOf(bootstrapServers);
    topics = topics == null ? List.of() : List.copyOf(topics);
    filterPatterns = filterPatterns == null ? List.of() : List.copyOf(filterPatterns);
    functionResponseTypes = functionResponseTypes == null ? List.of() : List.copyOf(functionResponseTypes);
  }

  /** Whether the function reports the records it failed, so that only those are retried. */
  @JsonIgnore
  public boolean reportsItemFailures() {
    return functionResponseTypes.contains("ReportBatchItemFailures");
  }

  @JsonIgnore
  public boolean isKafka() {
    return eventSourceArn == null;
  }

  /** The function's name (the ARN's, without a qualifier). */
  public String functionName() {
    String rest = functionArn.substring(functionArn.indexOf(":function:") + ":function:".length());
    return rest.contains(":") ? rest.substring(0, rest.indexOf(':')) : rest;
  }

  /** The qualifier the ARN names, or null. */
  public String qualifier() {
    String rest = functionArn.substring(functionArn.indexOf(":function:") + ":function:".length());
    return rest.contains(":") ? rest.substring(rest.indexOf(':') + 1) : null;
  }

  public EventSourceMapping with(int batchSize, int window, boolean enabled, String state, String reason,
                                 long now, List<String> filterPatterns, List<String> functionResponseTypes) {
    return new EventSourceMapping(uuid, functionArn, eventSourceArn, bootstrapServers, topics, consumerGroupId,
        batchSize, window, startingPosition, enabled, state, reason, lastProcessingResult, now, filterPatterns,
        functionResponseTypes);
  }

  public EventSourceMapping withState(String state, String reason, String lastProcessingResult) {
    return new EventSourceMapping(uuid, functionArn, eventSourceArn, bootstrapServers, topics, consumerGroupId,
        batchSize, maximumBatchingWindowInSeconds, startingPosition, enabled, state, reason,
        lastProcessingResult == null ? this.lastProcessingResult : lastProcessingResult, lastModifiedMillis,
        filterPatterns, functionResponseTypes);
  }
}

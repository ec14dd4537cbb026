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
 * states as the pollers start and stop. Members added since the first release are nullable, so
 * that mappings stored before them still read: null means AWS's default.
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
    List<String> functionResponseTypes,
    OnError onError,
    Integer maximumConcurrency,
    Long startingPositionTimestampMillis,
    Integer parallelizationFactor,
    Integer tumblingWindowInSeconds) {

  /**
   * What a stream mapping does with a batch the function failed: {@code maximumRetryAttempts} and
   * {@code maximumRecordAgeInSeconds} −1 for no limit; {@code onFailure} where records of discarded
   * batches go (an SQS queue ARN, or {@code kafka://<topic>} on the source's own Kafka cluster), or
   * null.
   */
  public record OnError(int maximumRetryAttempts, int maximumRecordAgeInSeconds, boolean bisectBatchOnFunctionError,
                        String onFailure) {
    public static final OnError DEFAULT = new OnError(-1, -1, false, null);
  }

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

  /** How many batches of one shard may be in flight at once (AWS's ParallelizationFactor, default 1). */
  public int parallelization() {
    return parallelizationFactor == null ? 1 : parallelizationFactor;
  }

  /** The tumbling window in seconds; 0: none. */
  public int tumblingWindow() {
    return tumblingWindowInSeconds == null ? 0 : tumblingWindowInSeconds;
  }

  /** The error handling this mapping was given, or AWS's default. */
  public OnError errors() {
    return onError == null ? OnError.DEFAULT : onError;
  }

  /**
   * Whether the source is a stream (Kafka, Kinesis, DynamoDB Streams): its batches are retried in place, in order,
   * as {@link #errors()} says; a queue's failed messages come back by themselves instead.
   */
  @JsonIgnore
  public boolean isStream() {
    return isKafka() || placesShards();
  }

  @JsonIgnore
  public boolean isDynamoDbStream() {
    return eventSourceArn != null && eventSourceArn.matches("arn:aws[a-zA-Z-]*:dynamodb:.*/stream/.*");
  }

  @JsonIgnore
  public boolean isKinesis() {
    return eventSourceArn != null && eventSourceArn.matches("arn:aws[a-zA-Z-]*:kinesis:.*");
  }

  /**
   * Whether Tributary places the source's shards on the nodes itself, a poller per shard that
   * checkpoints in Cassandra (Kinesis, DynamoDB Streams), rather than leaving that to the source
   * (a Kafka group, a queue).
   */
  @JsonIgnore
  public boolean placesShards() {
    return isKinesis() || isDynamoDbStream();
  }

  public EventSourceMapping withState(String state, String reason, String lastProcessingResult) {
    return new EventSourceMapping(uuid, functionArn, eventSourceArn, bootstrapServers, topics, consumerGroupId,
        batchSize, maximumBatchingWindowInSeconds, startingPosition, enabled, state, reason,
        lastProcessingResult == null ? this.lastProcessingResult : lastProcessingResult, lastModifiedMillis,
        filterPatterns, functionResponseTypes, onError, maximumConcurrency, startingPositionTimestampMillis,
        parallelizationFactor, tumblingWindowInSeconds);
  }

  /** What UpdateEventSourceMapping may change; null members are left as they are. */
  public record Changes(String functionArn, Integer batchSize, Integer maximumBatchingWindowInSeconds, Boolean enabled,
                        List<String> filterPatterns, List<String> functionResponseTypes, Integer maximumRetryAttempts,
                        Integer maximumRecordAgeInSeconds, Boolean bisectBatchOnFunctionError, String onFailure,
                        Integer maximumConcurrency, Integer parallelizationFactor,
                        Integer tumblingWindowInSeconds) {
    /**
     * {@code onFailure} given as this removes the destination (AWS: an empty Destination), as
     * {@code maximumConcurrency} 0 removes the limit (an empty ScalingConfig).
     */
    public static final String REMOVE = "";
  }

  /** This mapping with {@code changes} applied, now in {@code state} for {@code reason}. */
  public EventSourceMapping updated(Changes c, String state, String reason, long now) {
    OnError e = errors();
    OnError errors = c.maximumRetryAttempts() == null && c.maximumRecordAgeInSeconds() == null
        && c.bisectBatchOnFunctionError() == null && c.onFailure() == null ? onError
        : new OnError(or(c.maximumRetryAttempts(), e.maximumRetryAttempts()),
            or(c.maximumRecordAgeInSeconds(), e.maximumRecordAgeInSeconds()),
            or(c.bisectBatchOnFunctionError(), e.bisectBatchOnFunctionError()),
            c.onFailure() == null ? e.onFailure() : c.onFailure().equals(Changes.REMOVE) ? null : c.onFailure());
    return new EventSourceMapping(uuid, or(c.functionArn(), functionArn), eventSourceArn, bootstrapServers, topics,
        consumerGroupId, or(c.batchSize(), batchSize),
        or(c.maximumBatchingWindowInSeconds(), maximumBatchingWindowInSeconds), startingPosition,
        or(c.enabled(), enabled), state, reason, lastProcessingResult, now, or(c.filterPatterns(), filterPatterns),
        or(c.functionResponseTypes(), functionResponseTypes), errors,
        c.maximumConcurrency() == null ? maximumConcurrency : c.maximumConcurrency() == 0 ? null
            : c.maximumConcurrency(),
        startingPositionTimestampMillis, or(c.parallelizationFactor(), parallelizationFactor),
        or(c.tumblingWindowInSeconds(), tumblingWindowInSeconds));
  }

  private static <T> T or(T given, T current) {
    return given == null ? current : given;
  }
}

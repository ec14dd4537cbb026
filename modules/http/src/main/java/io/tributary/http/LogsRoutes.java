package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.tributary.cluster.store.LogStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;

/**
 * Function logs through the CloudWatch Logs API (JSON 1.1: {@code POST /} with
 * {@code X-Amz-Target: Logs_20140328.<Operation>}), so {@code aws logs filter-log-events},
 * {@code aws logs get-log-events} and {@code aws logs tail} read them against the node's endpoint.
 * Only these reads of function log groups exist; other operations answer AWS's
 * {@code UnknownOperationException}. Requests are read leniently, as CloudWatch Logs reads them
 * (members Tributary does not use are ignored); answers are records in its lowerCamelCase shapes.
 */
final class LogsRoutes {

  static final String TARGET_PREFIX = "Logs_20140328.";
  private static final ContentType.NonBinary JSON_11 = ContentTypes.create(
      MediaTypes.applicationWithFixedCharset("x-amz-json-1.1", HttpCharsets.UTF_8));
  private static final int MAX_LIMIT = 10_000;

  @JsonNaming(PropertyNamingStrategies.LowerCamelCaseStrategy.class)
  record FilteredEvent(String logStreamName, long timestamp, String message, long ingestionTime, String eventId) {}

  @JsonNaming(PropertyNamingStrategies.LowerCamelCaseStrategy.class)
  record FilterLogEvents(List<FilteredEvent> events, List<String> searchedLogStreams,
                         @JsonInclude(JsonInclude.Include.NON_NULL) String nextToken) {}

  @JsonNaming(PropertyNamingStrategies.LowerCamelCaseStrategy.class)
  record OutputEvent(long timestamp, String message, long ingestionTime) {}

  @JsonNaming(PropertyNamingStrategies.LowerCamelCaseStrategy.class)
  record GetLogEvents(List<OutputEvent> events, String nextForwardToken, String nextBackwardToken) {}

  /** The JSON 1.1 protocol's error document. */
  record Error(@JsonProperty("__type") String type, @JsonProperty("message") String message) {}

  private final LogStore logs;

  LogsRoutes(LogStore logs) {
    this.logs = logs;
  }

  /** Every log operation is {@code POST /}, named by its X-Amz-Target header. */
  List<Operation> operations() {
    return List.of(Operation.post("Logs", "/", call -> call.request().getHeader("X-Amz-Target")
        .map(target -> target.value())
        .filter(target -> target.startsWith(TARGET_PREFIX))
        .map(target -> handle(target.substring(TARGET_PREFIX.length()), call.body().toArray()))
        .orElseGet(() -> done(Operations.unknown(call.request())))));
  }

  private CompletionStage<HttpResponse> handle(String operation, byte[] body) {
    JsonNode request;
    try {
      request = body.length == 0 ? JsonBody.MAPPER.createObjectNode() : JsonBody.MAPPER.readTree(body);
    } catch (IOException e) {
      return done(error("SerializationException", "The request body is not valid JSON: " + String.valueOf(e.getMessage()).split("\n")[0]));
    }
    return switch (operation) {
      case "FilterLogEvents" -> filterLogEvents(request);
      case "GetLogEvents" -> getLogEvents(request);
      default -> done(error("UnknownOperationException", "Tributary's log API offers FilterLogEvents and"
          + " GetLogEvents of function log groups; " + operation + " is not available."));
    };
  }

  private CompletionStage<HttpResponse> filterLogEvents(JsonNode request) {
    String group = logGroup(request);
    if (group == null) {
      return done(error("InvalidParameterException", "logGroupName is required: the function's log group, e.g."
          + " /aws/lambda/my-function."));
    }
    List<String> streams = new ArrayList<>();
    request.path("logStreamNames").forEach(n -> streams.add(n.asText()));
    String prefix = request.hasNonNull("logStreamNamePrefix") ? request.get("logStreamNamePrefix").asText() : null;
    int limit = limit(request);
    int offset = offset(request.path("nextToken").asText(""));
    return logs.events(group, request.path("startTime").asLong(0), request.path("endTime").asLong(Long.MAX_VALUE),
        prefix, streams, request.path("filterPattern").asText("")).thenApply(events -> {
          int end = Math.min(events.size(), offset + limit);
          List<FilteredEvent> page = events.subList(Math.min(offset, events.size()), end).stream()
              .map(e -> new FilteredEvent(e.logStream(), e.timestamp(), e.message(), e.ingestionTime(), e.eventId()))
              .toList();
          return ok(new FilterLogEvents(page, List.of(), end < events.size() ? "f/" + end : null));
        });
  }

  /** GetLogEvents of one stream; the CLI pages until the forward token comes back unchanged. */
  private CompletionStage<HttpResponse> getLogEvents(JsonNode request) {
    String group = logGroup(request);
    String stream = request.path("logStreamName").asText("");
    if (group == null || stream.isEmpty()) {
      return done(error("InvalidParameterException", "logGroupName (or logGroupIdentifier) and logStreamName are"
          + " required."));
    }
    int limit = limit(request);
    int offset = offset(request.path("nextToken").asText(""));
    return logs.events(group, request.path("startTime").asLong(0), request.path("endTime").asLong(Long.MAX_VALUE),
        null, List.of(stream), null).thenApply(events -> {
          int start = Math.min(offset, events.size());
          int end = Math.min(events.size(), start + limit);
          List<OutputEvent> page = events.subList(start, end).stream()
              .map(e -> new OutputEvent(e.timestamp(), e.message(), e.ingestionTime())).toList();
          return ok(new GetLogEvents(page, "f/" + end, "b/" + start));
        });
  }

  private static String logGroup(JsonNode request) {
    String name = request.path("logGroupName").asText("");
    if (name.isEmpty()) {
      String identifier = request.path("logGroupIdentifier").asText("");
      name = identifier.contains(":log-group:") ? identifier.substring(identifier.indexOf(":log-group:") + 11)
          .replaceAll(":\\*$", "") : identifier;
    }
    return name.isEmpty() ? null : name;
  }

  private static int limit(JsonNode request) {
    int limit = request.path("limit").asInt(MAX_LIMIT);
    return Math.max(1, Math.min(MAX_LIMIT, limit));
  }

  private static int offset(String token) {
    try {
      return token.length() > 2 ? Math.max(0, Integer.parseInt(token.substring(2))) : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static HttpResponse ok(Object body) {
    return HttpResponse.create().withEntity(HttpEntities.create(JSON_11, Responses.bytes(body)));
  }

  private static HttpResponse error(String type, String message) {
    return HttpResponse.create().withStatus(400)
        .withEntity(HttpEntities.create(JSON_11, Responses.bytes(new Error(type, message))));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}

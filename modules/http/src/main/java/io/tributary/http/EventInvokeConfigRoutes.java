package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.LambdaException;
import io.tributary.api.Validation;
import io.tributary.cluster.function.FunctionEntity;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfigs on
 * {@code /2019-09-25/functions/{fn}/event-invoke-config[/list]}: per function and qualifier
 * ({@code $LATEST} when none is given), AWS's ranges and shapes. PUT replaces the whole
 * configuration, POST changes only what it names.
 */
final class EventInvokeConfigRoutes extends AllDirectives {

  private static final Set<String> FIELDS = Set.of("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
      "DestinationConfig");
  private static final int PAGE_LIMIT = 50;

  private final FunctionAsk asker;
  private final Arns arns;
  private final Destination.Resolver destinations;
  private final Clock clock;

  EventInvokeConfigRoutes(FunctionAsk asker, Arns arns, Destination.Resolver destinations, Clock clock) {
    this.destinations = destinations;
    this.asker = asker;
    this.arns = arns;
    this.clock = clock;
  }

  Route route() {
    return pathPrefix(segment("2019-09-25").slash("functions").slash(segment()).slash("event-invoke-config"),
        fn -> concat(
            pathEnd(() -> parameterOptional("Qualifier", qualifier -> concat(
                put(() -> operation(b -> put(fn, qualifier.orElse(null), b, true))),
                post(() -> operation(b -> put(fn, qualifier.orElse(null), b, false))),
                get(() -> completeWithFuture(get(fn, qualifier.orElse(null)))),
                delete(() -> completeWithFuture(delete(fn, qualifier.orElse(null))))))),
            path("list", () -> get(() -> parameterOptional("Marker", marker ->
                parameterOptional("MaxItems", maxItems -> completeWithFuture(
                    list(fn, marker.orElse(null), maxItems.orElse(null)))))))));
  }

  private Route operation(Function<byte[], CompletionStage<HttpResponse>> handler) {
    return entity(Unmarshaller.entityToByteString(), body -> completeWithFuture(
        CompletableFuture.completedFuture(body.toArray()).thenCompose(handler)));
  }

  private CompletionStage<HttpResponse> put(String reference, String qualifier, byte[] body, boolean replace) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    JsonBody b = JsonBody.parse(body, FIELDS);
    Integer retries = b.integer("MaximumRetryAttempts");
    Integer age = b.integer("MaximumEventAgeInSeconds");
    if (retries != null) {
      Validation.maximumRetryAttempts(retries);
    }
    if (age != null) {
      Validation.maximumEventAgeInSeconds(age);
    }
    String onSuccess = null;
    String onFailure = null;
    JsonBody destinations = b.object("DestinationConfig", Set.of("OnSuccess", "OnFailure"));
    if (destinations != null) {
      onSuccess = destination(destinations, "OnSuccess", replace);
      onFailure = destination(destinations, "OnFailure", replace);
    }
    EventInvokeConfig config = new EventInvokeConfig(retries, age, onSuccess, onFailure, clock.millis());
    return asker.<EventInvokeConfig>ask(ref.name(),
            r -> new FunctionEntity.PutEventInvokeConfig(ref.qualifier(), config, replace, r))
        .thenApply(saved -> Responses.json(200, shape(ref.name(), ref.qualifier(), saved)));
  }

  /**
   * The destination of {@code OnSuccess} or {@code OnFailure}; in an update, a member given without
   * {@code Destination} removes it (an empty string), and an absent member keeps it (null).
   */
  private String destination(JsonBody destinations, String member, boolean replace) {
    JsonBody target = destinations.object(member, Set.of("Destination"));
    if (target == null) {
      return null;
    }
    String destination = target.string("Destination");
    if (destination == null) {
      return replace ? null : "";
    }
    return Validation.destination(destination, arns, this.destinations);
  }

  private CompletionStage<HttpResponse> get(String reference, String qualifier) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    return asker.<EventInvokeConfig>ask(ref.name(), r -> new FunctionEntity.GetEventInvokeConfig(ref.qualifier(), r))
        .thenApply(config -> Responses.json(200, shape(ref.name(), ref.qualifier(), config)));
  }

  private CompletionStage<HttpResponse> delete(String reference, String qualifier) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, qualifier);
    return asker.<Boolean>ask(ref.name(), r -> new FunctionEntity.DeleteEventInvokeConfig(ref.qualifier(), r))
        .thenApply(done -> Responses.empty(204));
  }

  private CompletionStage<HttpResponse> list(String reference, String marker, String maxItems) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, null);
    int limit = maxItems == null ? PAGE_LIMIT : parseMaxItems(maxItems);
    return asker.<Map<String, EventInvokeConfig>>ask(ref.name(), FunctionEntity.ListEventInvokeConfigs::new)
        .thenApply(all -> {
          List<String> qualifiers = new ArrayList<>(all.keySet());
          int from = marker == null ? 0 : Math.max(0, qualifiers.indexOf(marker) + 1);
          if (marker != null && !qualifiers.contains(marker)) {
            throw LambdaException.invalidParameter("The marker " + marker + " is not one this list returned.");
          }
          ObjectNode o = JsonBody.MAPPER.createObjectNode();
          ArrayNode configs = o.putArray("FunctionEventInvokeConfigs");
          int to = Math.min(qualifiers.size(), from + limit);
          for (String q : qualifiers.subList(from, to)) {
            configs.add(shape(ref.name(), q, all.get(q)));
          }
          if (to < qualifiers.size()) {
            o.put("NextMarker", qualifiers.get(to - 1));
          }
          return Responses.json(200, o);
        });
  }

  private static int parseMaxItems(String maxItems) {
    try {
      int n = Integer.parseInt(maxItems);
      if (n < 1 || n > PAGE_LIMIT) {
        throw LambdaException.validation(n, "maxItems", n < 1 ? "Member must have value greater than or equal to 1"
            : "Member must have value less than or equal to " + PAGE_LIMIT);
      }
      return n;
    } catch (NumberFormatException e) {
      throw LambdaException.invalidParameter("MaxItems must be a number from 1 to " + PAGE_LIMIT + ".");
    }
  }

  /** AWS's FunctionEventInvokeConfig: LastModified in epoch seconds, FunctionArn with its qualifier. */
  private ObjectNode shape(String function, String qualifier, EventInvokeConfig config) {
    ObjectNode o = JsonBody.MAPPER.createObjectNode();
    o.put("LastModified", config.lastModifiedMillis() / 1000.0);
    o.put("FunctionArn", arns.functionArn(function, qualifier == null ? "$LATEST" : qualifier));
    if (config.maximumRetryAttempts() != null) {
      o.put("MaximumRetryAttempts", config.maximumRetryAttempts());
    }
    if (config.maximumEventAgeInSeconds() != null) {
      o.put("MaximumEventAgeInSeconds", config.maximumEventAgeInSeconds());
    }
    ObjectNode destinations = o.putObject("DestinationConfig");
    ObjectNode onSuccess = destinations.putObject("OnSuccess");
    ObjectNode onFailure = destinations.putObject("OnFailure");
    if (config.onSuccess() != null) {
      onSuccess.put("Destination", config.onSuccess());
    }
    if (config.onFailure() != null) {
      onFailure.put("Destination", config.onFailure());
    }
    return o;
  }
}

package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.tributary.api.Arns;
import io.tributary.api.Destination;
import io.tributary.api.EventInvokeConfig;
import io.tributary.api.Validation;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.http.Operation.Call;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfigs on
 * {@code /2019-09-25/functions/{fn}/event-invoke-config[/list]}: per function and qualifier
 * ({@code $LATEST} when none is given), AWS's ranges and shapes. PUT replaces the whole
 * configuration, POST changes only what it names.
 */
final class EventInvokeConfigRoutes {

  /** The request of Put and Update, and (with the function's ARN and time) the answer of every operation. */
  record FunctionEventInvokeConfig(Integer maximumRetryAttempts, Integer maximumEventAgeInSeconds,
                                   DestinationConfig destinationConfig) {}

  record DestinationConfig(OnTarget onSuccess, OnTarget onFailure) {}

  record OnTarget(@JsonInclude(Include.NON_NULL) String destination) {}

  /** AWS's FunctionEventInvokeConfig: LastModified in epoch seconds, FunctionArn with its qualifier. */
  record Configured(double lastModified, String functionArn,
                    @JsonInclude(Include.NON_NULL) Integer maximumRetryAttempts,
                    @JsonInclude(Include.NON_NULL) Integer maximumEventAgeInSeconds,
                    DestinationConfig destinationConfig) {}

  record ConfigList(List<Configured> functionEventInvokeConfigs, @JsonInclude(Include.NON_NULL) String nextMarker) {}

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

  List<Operation> operations() {
    String path = "/2019-09-25/functions/{FunctionName}/event-invoke-config";
    return List.of(
        Operation.put("PutFunctionEventInvokeConfig", path, call -> put(call, true)),
        Operation.post("UpdateFunctionEventInvokeConfig", path, call -> put(call, false)),
        Operation.get("GetFunctionEventInvokeConfig", path,
            call -> get(call.variable(0), call.parameter("Qualifier"))),
        Operation.delete("DeleteFunctionEventInvokeConfig", path,
            call -> delete(call.variable(0), call.parameter("Qualifier"))),
        Operation.get("ListFunctionEventInvokeConfigs", path + "/list", call -> list(call.variable(0), call.query())));
  }

  private CompletionStage<HttpResponse> put(Call call, boolean replace) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, call.variable(0), call.parameter("Qualifier"));
    FunctionEventInvokeConfig b = call.read(FunctionEventInvokeConfig.class);
    if (b.maximumRetryAttempts() != null) {
      Validation.maximumRetryAttempts(b.maximumRetryAttempts());
    }
    if (b.maximumEventAgeInSeconds() != null) {
      Validation.maximumEventAgeInSeconds(b.maximumEventAgeInSeconds());
    }
    DestinationConfig given = b.destinationConfig();
    String onSuccess = given == null ? null : destination(given.onSuccess(), replace);
    String onFailure = given == null ? null : destination(given.onFailure(), replace);
    EventInvokeConfig config = new EventInvokeConfig(b.maximumRetryAttempts(), b.maximumEventAgeInSeconds(), onSuccess,
        onFailure, clock.millis());
    return asker.<EventInvokeConfig>ask(ref.name(),
            r -> new FunctionEntity.PutEventInvokeConfig(ref.qualifier(), config, replace, r))
        .thenApply(saved -> Responses.json(200, shape(ref.name(), ref.qualifier(), saved)));
  }

  /**
   * The destination of {@code OnSuccess} or {@code OnFailure}; in an update, a member given without
   * {@code Destination} removes it (an empty string), and an absent member keeps it (null).
   */
  private String destination(OnTarget target, boolean replace) {
    if (target == null) {
      return null;
    }
    if (target.destination() == null) {
      return replace ? null : "";
    }
    return Validation.destination(target.destination(), arns, destinations);
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

  private CompletionStage<HttpResponse> list(String reference, Map<String, String> query) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, null);
    Paging.Request request = Paging.request(query, Paging.PAGE_LIMIT);
    return asker.<Map<String, EventInvokeConfig>>ask(ref.name(), FunctionEntity.ListEventInvokeConfigs::new)
        .thenApply(all -> {
          Paging.Page<String> page = Paging.page(new ArrayList<>(all.keySet()), q -> q, request);
          return Responses.json(200, new ConfigList(
              page.items().stream().map(q -> shape(ref.name(), q, all.get(q))).toList(), page.nextMarker()));
        });
  }

  private Configured shape(String function, String qualifier, EventInvokeConfig config) {
    return new Configured(config.lastModifiedMillis() / 1000.0,
        arns.functionArn(function, qualifier == null ? "$LATEST" : qualifier), config.maximumRetryAttempts(),
        config.maximumEventAgeInSeconds(),
        new DestinationConfig(new OnTarget(config.onSuccess()), new OnTarget(config.onFailure())));
  }
}

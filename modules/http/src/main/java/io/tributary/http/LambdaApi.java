package io.tributary.http;

import io.tributary.api.CallerRuns;
import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.policy.PolicyEvaluator;
import io.tributary.cluster.push.BusCounts;
import io.tributary.cluster.push.BusIntake;
import io.tributary.cluster.push.BusRules;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.EventBusRegistry;
import io.tributary.cluster.store.FunctionRegistry;
import io.tributary.cluster.store.LayerRegistry;
import io.tributary.cluster.store.LogStore;
import io.tributary.cluster.store.MappingRegistry;
import io.tributary.http.Operation.Access;
import io.tributary.http.Operation.Limit;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The node's HTTP surface: the Lambda-compatible API behind SigV4, health, metrics and presigned
 * code downloads.
 *
 * <p>Every operation is declared once ({@link Operation}) by the routes that answer it; the table
 * of them ({@link Operations}) names each request's operation, and from that declaration come its
 * body limit, who may call it and the name its metrics and logs carry. Every request gets an id,
 * returned as {@code x-amzn-RequestId} and put in the MDC of every log line about it. The body is
 * read once, with the size limit of its operation (a code upload may carry a 50 MB zip in base64;
 * an invoke 6 MB; anything else a small document), verified against its SigV4 signature, and handed
 * to the operation. Errors of any kind leave as AWS-shaped JSON: a {@link LambdaException} as it is,
 * an oversized body as 413, anything unexpected as a logged 500.
 */
public final class LambdaApi extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(LambdaApi.class);
  static final String REQUEST_ID = "x-amzn-RequestId";

  private final ApiSettings settings;
  private final SigV4Verifier verifier;
  private final InvokeRoutes invokes;
  private final Operations operations;
  /** Invoke's declaration, for the requests {@link #handler} answers without the table. */
  private final Operation invoke;
  private final ActorSystem<?> system;
  private final Metrics metrics;
  private final FunctionUrlEndpoint urls;

  /** What the EventBridge API needs: the buses' listing, this node's copy of their rules, and PutEvents. */
  public record EventBuses(EventBusRegistry registry, BusRules rules, BusIntake intake, BusCounts counts,
                           boolean secondSchedules) {}

  public LambdaApi(ActorSystem<?> system, ApiSettings settings, FunctionRegistry registry, CodeStore codeStore,
                   LogStore logStore, Dispatcher.Invoker dispatcher, Intake intake,
                   Destination.Resolver destinations, MappingRegistry mappingRegistry, EventSource.Factory sources,
                   LayerRegistry layerRegistry, EventBuses buses, Metrics metrics, BooleanSupplier ready) {
    this.settings = settings;
    this.system = system;
    CodeUrls codeUrls = new CodeUrls(settings.advertisedUrl(), settings.credentials().values().iterator().next(),
        Clock.systemUTC());
    FunctionRoutes functions = new FunctionRoutes(ClusterSharding.get(system), registry, layerRegistry, codeStore,
        codeUrls, settings.arns(), destinations, new FunctionRoutes.Settings(settings.runtimes(),
            settings.accountConcurrency(), settings.minimumUnreserved(), settings.askTimeout()),
        system.executionContext());
    this.invokes = new InvokeRoutes(dispatcher, intake, settings.arns(), new InvokeForwarder(system,
        settings.credentials().values().iterator().next(), Clock.systemUTC()));
    FunctionAsk asker = new FunctionAsk(ClusterSharding.get(system), settings.askTimeout(), system.executionContext());
    this.operations = Operations.of(
        new NodeRoutes(codeStore, codeUrls, metrics, ready).operations(),
        invokes.operations(),
        functions.operations(),
        new EventInvokeConfigRoutes(asker, settings.arns(), destinations, Clock.systemUTC()).operations(),
        new CodeSigningRoutes(asker, settings.arns()).operations(),
        new FunctionSettingsRoutes(asker, settings.arns()).operations(),
        new FunctionUrlRoutes(asker, settings.arns(), settings.urls()).operations(),
        new ProvisionedConcurrencyRoutes(system, asker, registry, settings.arns(), settings.accountConcurrency(),
            settings.minimumUnreserved()).operations(),
        new AsyncQueueRoutes(asker, intake, settings.arns(), Clock.systemUTC()).operations(),
        new EventSourceMappingRoutes(system, asker, mappingRegistry, sources, settings.arns(), Clock.systemUTC())
            .operations(),
        new LayerRoutes(asker, layerRegistry, codeStore, codeUrls, settings.arns()).operations(),
        new LogsRoutes(logStore).operations(),
        new EventBridgeRoutes(asker, ClusterSharding.get(system), buses.registry(), buses.rules(), buses.intake(),
            buses.counts(), settings.arns(), buses.secondSchedules()).operations());
    this.invoke = operations.named("Invoke");
    this.verifier = new SigV4Verifier(settings.credentials(), Duration.ofMinutes(5));
    this.metrics = metrics;
    this.urls = new FunctionUrlEndpoint(system, asker, registry, invokes, new PolicyEvaluator(PolicyEvaluator.IdentityPolicies.UNRESTRICTED),
        this::authenticate,
        settings.arns().accountId(), urlTtl(system), metrics);
  }

  /** Function URL targets are cached as long as the Dispatcher caches invoke targets. */
  private static Duration urlTtl(ActorSystem<?> system) {
    var config = system.settings().config();
    return config.hasPath("tributary.dispatcher.target-ttl") ? config.getDuration("tributary.dispatcher.target-ttl")
        : Duration.ofSeconds(1);
  }

  /** How this node's asynchronous queue partitions deliver events: here, or by a hop to a node with a free slot. */
  public AsyncQueueEntity.Deliverer asyncDeliverer() {
    return invokes.deliverer();
  }

  /**
   * What the node's server binds. An invoke whose body has arrived whole skips the routing DSL, whose
   * nested directives and future transformations cost more than the rest of a warm in-process invoke;
   * everything else goes through {@link #route}. Both answer alike: the same checks, errors, metrics
   * and request id (larger invokes take the route, so both paths stay in use). Invokes and URL
   * requests may run a quick in-process handler on this thread ({@link CallerRuns}). Operations of
   * the JSON 1.1 APIs (PutEvents above all) whose body arrived whole skip the DSL too ({@link #json11}).
   */
  public Function<HttpRequest, CompletionStage<HttpResponse>> handler() {
    Function<HttpRequest, CompletionStage<HttpResponse>> routed = route().handler(system);
    return request -> {
      Optional<String> url = FunctionUrlEndpoint.urlId(request);
      if (url.isPresent()) {
        return CallerRuns.call(() -> urls.handle(request, url.get()));
      }
      if (request.entity() instanceof HttpEntity.Strict strict) {
        if (InvokeRoutes.isInvoke(request.method().name(), request.getUri().getPathString())) {
          return CallerRuns.call(() -> invoke(request, strict.getData()));
        }
        if (request.getHeader(Operations.X_AMZ_TARGET).isPresent()) {
          Operations.Match match = operations.resolve(request);
          if (match.operation().json11()) {
            return json11(request, strict.getData(), match);
          }
        }
      }
      return routed.apply(request);
    };
  }

  private CompletionStage<HttpResponse> invoke(HttpRequest request, ByteString body) {
    return direct(request, body, invoke, requestId -> invokes.respond(request, body, requestId),
        timeout -> atLeast(timeout, InvokeForwarder.LONGEST_INVOKE));
  }

  /**
   * A request whose body was read whole, answered by {@code respond} (given the request id) without
   * the routing DSL: the route's checks, errors, metrics and request id; {@code timeout} sets the
   * request's timeout for what it does.
   */
  private CompletionStage<HttpResponse> direct(HttpRequest request, ByteString body, Operation operation,
      java.util.function.Function<String, CompletionStage<HttpResponse>> respond,
      java.util.function.Consumer<org.apache.pekko.http.javadsl.TimeoutAccess> timeout) {
    long start = System.nanoTime();
    String requestId = Invocation.newRequestId();
    CompletionStage<HttpResponse> response;
    try {
      long limit = limit(operation, settings);
      if (body.size() > limit) {
        throw tooLarge(limit, operation.name());
      }
      authenticate(request, body);
      request.getHeader(TimeoutAccess.class).ifPresent(t -> timeout.accept(t.timeoutAccess()));
      response = respond.apply(requestId);
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.exceptionally(failure -> failed(failure, requestId, operation))
        .thenApply(r -> finish(operation.name(), requestId, start, r));
  }

  /** A JSON 1.1 operation whose body arrived whole. */
  private CompletionStage<HttpResponse> json11(HttpRequest request, ByteString body, Operations.Match match) {
    Operation operation = match.operation();
    return direct(request, body, operation, requestId -> operation.handler().handle(new Operation.Call(request,
        match.variables(), body, requestId)), timeout -> timeout.updateTimeout(settings.requestTimeout()));
  }

  /**
   * The server's request timeout is set for invokes, so most need no change: rescheduling the timer
   * on every invoke cost a few percent of a warm one.
   */
  private static void atLeast(org.apache.pekko.http.javadsl.TimeoutAccess timeout, Duration longest) {
    scala.concurrent.duration.Duration current = timeout.getTimeout();
    if (current.isFinite() && current.toMillis() < longest.toMillis()) {
      timeout.updateTimeout(longest);
    }
  }

  /** Every response: counted, and the request id added. */
  private HttpResponse finish(String operation, String requestId, long start, HttpResponse response) {
    metrics.record(operation, response.status().intValue(), System.nanoTime() - start);
    // An idempotent repeat answers with the first request's id, set by its route.
    return response.getHeader(REQUEST_ID).isPresent() ? response
        : response.addHeader(RawHeader.create(REQUEST_ID, requestId));
  }

  private static LambdaException tooLarge(long limit, String operation) {
    return LambdaException.requestTooLarge("Request must be smaller than " + limit + " bytes for the " + operation
        + " operation");
  }

  /** The largest body {@code operation} takes, in bytes. */
  static long limit(Operation operation, ApiSettings settings) {
    return switch (operation.limit()) {
      case DOCUMENT -> settings.maxRequestBytes();
      case CODE -> settings.maxCodeUploadBytes();
      case PAYLOAD -> InvokeRoutes.MAX_PAYLOAD_BYTES;
    };
  }

  /** Built once: only what depends on the request is made per request. */
  private Route route() {
    return extractRequest(request -> {
      Operations.Match match = operations.resolve(request);
      Operation operation = match.operation();
      String requestId = (operation.access() == Access.HOP ? InvokeForwarder.requestId(request)
          : Optional.<String>empty()).orElseGet(Invocation::newRequestId);
      long start = System.nanoTime();
      return mapResponse(response -> finish(operation.name(), requestId, start, response),
          () -> handleExceptions(errors(requestId, operation), () -> switch (operation.access()) {
            case OPEN -> run(operation, new Operation.Call(request, match.variables(), ByteString.emptyByteString(),
                requestId));
            case SIGNED, HOP -> operation.limit() == Limit.PAYLOAD ? read(request, match, requestId)
                : withRequestTimeout(settings.requestTimeout(), () -> read(request, match, requestId));
          }));
    });
  }

  /** An operation's body read within its limit, its signature checked, and the operation run. */
  private Route read(HttpRequest request, Operations.Match match, String requestId) {
    Operation operation = match.operation();
    long limit = limit(operation, settings);
    return handleRejections(bodyRejections(operation), () -> refusedUpFront(request, limit, operation)
        .orElseGet(() -> withSizeLimit(limit, () -> entity(Unmarshaller.entityToByteString(), body -> {
          if (operation.access() == Access.SIGNED) {
            authenticate(request, body);
          }
          Operation.Call call = new Operation.Call(request, match.variables(), body, requestId);
          return operation.limit() == Limit.PAYLOAD
              ? withRequestTimeout(InvokeForwarder.LONGEST_INVOKE, () -> run(operation, call))
              : run(operation, call);
        }))));
  }

  private Route run(Operation operation, Operation.Call call) {
    CompletionStage<HttpResponse> response;
    try {
      response = operation.handler().handle(call);
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(response);
  }

  /**
   * A body whose Content-Length is over the limit is read to its end and dropped before the 413:
   * answering while the client still sends makes the server close a connection with unread bytes,
   * which resets it, and the client can lose the 413 (seen in CI with a 7 MB invoke).
   */
  private Optional<Route> refusedUpFront(HttpRequest request, long limit, Operation operation) {
    OptionalLong length = request.entity().getContentLengthOption();
    if (length.isEmpty() || length.getAsLong() <= limit) {
      return Optional.empty();
    }
    return Optional.of(onComplete(request.discardEntityBytes(system).completionStage(), drained ->
        complete(Responses.error(tooLarge(limit, operation.name()), operation.json11()))));
  }

  private void authenticate(HttpRequest request, ByteString body) {
    if (settings.authEnabled()) {
      verifier.verify(request, body, Instant.now());
    }
  }

  /** A body that cannot be read reaches the routes as a rejection; answer it in AWS's shape. */
  private RejectionHandler bodyRejections(Operation operation) {
    return RejectionHandler.newBuilder().handle(MalformedRequestContentRejection.class, r -> {
      if (r.getCause() instanceof EntityStreamSizeException size) {
        return complete(Responses.error(tooLarge(size.limit(), operation.name()), operation.json11()));
      }
      return complete(Responses.error(LambdaException.invalidRequestContent("Could not read the request body: "
          + r.getCause().getMessage()), operation.json11()));
    }).build();
  }

  private ExceptionHandler errors(String requestId, Operation operation) {
    return ExceptionHandler.newBuilder().matchAny(failure -> complete(failed(failure, requestId, operation))).build();
  }

  /** AWS's error shape for a failure; what is not the caller's doing is logged with the request id. */
  private HttpResponse failed(Throwable failure, String requestId, Operation operation) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof LambdaException e) {
      if (e.status() >= 500) {
        withRequestId(requestId, () -> log.warn("{} failed: {} {}", operation.name(), e.errorType(), e.getMessage()));
      }
      return Responses.error(e, operation.json11());
    }
    if (t instanceof EntityStreamSizeException size) {
      return Responses.error(tooLarge(size.limit(), operation.name()), operation.json11());
    }
    Throwable cause = t;
    withRequestId(requestId, () -> log.error("{} failed unexpectedly", operation.name(), cause));
    return Responses.error(LambdaException.service("An internal error occurred (request " + requestId
        + "); the node's log has the details."), operation.json11());
  }

  private static void withRequestId(String requestId, Runnable logging) {
    try (MDC.MDCCloseable ignored = MDC.putCloseable("requestId", requestId)) {
      logging.run();
    }
  }
}

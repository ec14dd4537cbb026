package io.tributary.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.tributary.api.Destination;
import io.tributary.api.EventSource;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.store.CodeStore;
import io.tributary.cluster.store.FunctionRegistry;
import io.tributary.cluster.store.LogStore;
import io.tributary.cluster.store.MappingRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
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
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The node's HTTP surface: the Lambda-compatible API behind SigV4, health, metrics and presigned
 * code downloads.
 *
 * <p>Every request gets an id, returned as {@code x-amzn-RequestId} and put in the MDC of every
 * log line about it. The body is read once, with the size limit of its route (a code upload may
 * carry a 50 MB zip in base64; anything else the 6 MB of an invoke), verified against its SigV4
 * signature, and handed on as a strict entity. Errors of any kind leave as AWS-shaped JSON: a
 * {@link LambdaException} as it is, an oversized body as 413, anything unexpected as a logged 500.
 */
public final class LambdaApi extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(LambdaApi.class);
  static final String REQUEST_ID = "x-amzn-RequestId";

  private final ApiSettings settings;
  private final FunctionRoutes functions;
  private final CodeStore codeStore;
  private final CodeUrls codeUrls;
  private final SigV4Verifier verifier;
  private final InvokeRoutes invokes;
  private final EventInvokeConfigRoutes eventInvokeConfigs;
  private final EventSourceMappingRoutes mappings;
  private final ActorSystem<?> system;
  private final AsyncQueueRoutes asyncQueues;
  private final LogsRoutes logs;
  private final Metrics metrics;
  private final BooleanSupplier ready;

  public LambdaApi(ActorSystem<?> system, ApiSettings settings, FunctionRegistry registry, CodeStore codeStore,
                   LogStore logStore, Dispatcher.Invoker dispatcher, AsyncQueueEntity.Intake intake,
                   Destination.Resolver destinations, MappingRegistry mappingRegistry, EventSource.Factory sources,
                   Metrics metrics, BooleanSupplier ready) {
    this.settings = settings;
    this.system = system;
    this.codeStore = codeStore;
    this.codeUrls = new CodeUrls(settings.advertisedUrl(), settings.credentials().values().iterator().next(),
        Clock.systemUTC());
    this.functions = new FunctionRoutes(ClusterSharding.get(system), registry, codeStore, codeUrls, settings.arns(),
        destinations, new FunctionRoutes.Settings(settings.runtimes(), settings.accountConcurrency(), settings.minimumUnreserved(),
            settings.askTimeout()), system.executionContext());
    this.invokes = new InvokeRoutes(dispatcher, intake, settings.arns(), new InvokeForwarder(system,
        settings.credentials().values().iterator().next(), Clock.systemUTC()));
    this.logs = new LogsRoutes(logStore);
    FunctionAsk asker = new FunctionAsk(ClusterSharding.get(system), settings.askTimeout(), system.executionContext());
    this.eventInvokeConfigs = new EventInvokeConfigRoutes(asker, settings.arns(), destinations, Clock.systemUTC());
    this.asyncQueues = new AsyncQueueRoutes(asker, intake, settings.arns(), Clock.systemUTC());
    this.mappings = new EventSourceMappingRoutes(system, asker, mappingRegistry, sources, settings.arns(),
        Clock.systemUTC());
    this.verifier = new SigV4Verifier(settings.credentials(), java.time.Duration.ofMinutes(5));
    this.metrics = metrics;
    this.ready = ready;
  }

  /** Operations answered without a signature: health, metrics and (signed by URL) code downloads. */
  private static final Set<String> UNSIGNED = Set.of("Health", "Metrics", "DownloadCode");

  /**
   * What the node's server binds. An invoke whose body has arrived whole skips the routing DSL, whose
   * nested directives and future transformations cost more than the rest of a warm in-process invoke;
   * everything else goes through {@link #route}. Both answer alike: the same checks, errors, metrics
   * and request id (larger invokes take the route, so both paths stay in use).
   */
  public Function<HttpRequest, CompletionStage<HttpResponse>> handler() {
    Function<HttpRequest, CompletionStage<HttpResponse>> routed = route().handler(system);
    return request -> request.entity() instanceof HttpEntity.Strict strict
        && InvokeRoutes.isInvoke(request.method().name(), request.getUri().getPathString())
        ? invoke(request, strict.getData()) : routed.apply(request);
  }

  private CompletionStage<HttpResponse> invoke(HttpRequest request, ByteString body) {
    long start = System.nanoTime();
    String requestId = Invocation.newRequestId();
    CompletionStage<HttpResponse> response;
    try {
      if (body.size() > InvokeRoutes.MAX_PAYLOAD_BYTES) {
        throw tooLarge(InvokeRoutes.MAX_PAYLOAD_BYTES, "Invoke");
      }
      authenticate(request, body);
      request.getHeader(TimeoutAccess.class).ifPresent(t -> atLeast(t.timeoutAccess(), InvokeForwarder.LONGEST_INVOKE));
      response = invokes.respond(request, body, requestId);
    } catch (RuntimeException e) {
      response = CompletableFuture.failedFuture(e);
    }
    return response.exceptionally(failure -> failed(failure, requestId, "Invoke"))
        .thenApply(r -> finish("Invoke", requestId, start, r));
  }

  /**
   * The server's request timeout is set for invokes, so most need no change: rescheduling the timer
   * on every invoke cost a few percent of a warm one.
   */
  private static void atLeast(org.apache.pekko.http.javadsl.TimeoutAccess timeout, java.time.Duration longest) {
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

  /** Built once: only what depends on the request is made per request. */
  private Route route() {
    Route plain = concat(
        path(segment("health").slash("alive"), () -> get(() -> complete("alive"))),
        path(segment("health").slash("ready"), () -> get(() -> ready.getAsBoolean()
            ? complete("ready") : complete(Responses.empty(503).withEntity("not ready")))),
        path("metrics", () -> get(() -> complete(HttpResponse.create().withEntity(
            HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.render()))))),
        path(segment("tributary").slash("code").slash(segment()), this::downloadCode));
    Route operations = concat(logs.route(), functions.route(), eventInvokeConfigs.route(),
        asyncQueues.route(), mappings.route(), extractRequest(this::unknownOperation));
    return extractRequest(request -> {
      String operation = Operations.of(request);
      boolean hop = operation.equals(Operations.FORWARDED_INVOKE);
      String requestId = (hop ? InvokeForwarder.requestId(request) : java.util.Optional.<String>empty())
          .orElseGet(Invocation::newRequestId);
      long limit = limit(operation);
      long start = System.nanoTime();
      return mapResponse(response -> finish(operation, requestId, start, response),
          () -> handleExceptions(errors(requestId, operation), () -> UNSIGNED.contains(operation) ? plain
          : hop || operation.equals("Invoke") ? signed(request, operation, requestId, limit, hop, operations)
          : withRequestTimeout(settings.requestTimeout(),
              () -> signed(request, operation, requestId, limit, hop, operations))));
    });
  }

  /** An operation's body read within its limit, its signature checked, and the operation run. */
  private Route signed(HttpRequest request, String operation, String requestId, long limit, boolean hop,
      Route operations) {
    return handleRejections(bodyRejections(operation), () -> refusedUpFront(request, limit, operation)
              .orElseGet(() -> withSizeLimit(limit,
              () -> entity(Unmarshaller.entityToByteString(), body -> {
                if (hop) {
                  return invokes.hopRoute(request, body);
                }
                authenticate(request, body);
                return operation.equals("Invoke") ? invokes.invoke(request, body, requestId)
                    : mapRequest(r -> r.withEntity(HttpEntities.create(request.entity().getContentType(), body)),
                        () -> operations);
              }))));
  }

  /** Code uploads may carry a 50 MB zip in base64; invokes 6 MB; every other operation a small document. */
  private long limit(String operation) {
    return switch (operation) {
      case "CreateFunction", "UpdateFunctionCode" -> settings.maxCodeUploadBytes();
      case "Invoke", Operations.FORWARDED_INVOKE -> InvokeRoutes.MAX_PAYLOAD_BYTES;
      default -> settings.maxRequestBytes();
    };
  }

  /**
   * A body whose Content-Length is over the limit is read to its end and dropped before the 413:
   * answering while the client still sends makes the server close a connection with unread bytes,
   * which resets it, and the client can lose the 413 (seen in CI with a 7 MB invoke).
   */
  private java.util.Optional<Route> refusedUpFront(HttpRequest request, long limit, String operation) {
    java.util.OptionalLong length = request.entity().getContentLengthOption();
    if (length.isEmpty() || length.getAsLong() <= limit) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(onComplete(request.discardEntityBytes(system).completionStage(), drained ->
        complete(Responses.error(tooLarge(limit, operation)))));
  }

  private void authenticate(HttpRequest request, ByteString body) {
    if (!settings.authEnabled()) {
      return;
    }
    String raw = request.getHeader("Raw-Request-URI").map(HttpHeader::value)
        .orElseGet(() -> request.getUri().toString());
    int q = raw.indexOf('?');
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    request.getHeaders().forEach(h -> headers.add(Map.entry(h.lowercaseName(), h.value())));
    // Pekko moves these two onto the entity; clients sign them as headers.
    if (!request.entity().getContentType().equals(ContentTypes.NO_CONTENT_TYPE)) {
      headers.add(Map.entry("content-type", request.entity().getContentType().toString()));
    }
    request.getHeader("Content-Length").ifPresentOrElse(h -> { }, () ->
        headers.add(Map.entry("content-length", Integer.toString(body.size()))));
    verifier.verify(request.method().name(), q < 0 ? raw : raw.substring(0, q), q < 0 ? null : raw.substring(q + 1),
        headers, body.toArray(), java.time.Instant.now());
  }

  private Route downloadCode(String sha256Hex) {
    return get(() -> parameterOptional("expires", expires -> parameterOptional("signature", signature -> {
      if (!codeUrls.valid(sha256Hex, expires.orElse(null), signature.orElse(null))) {
        return complete(Responses.error(new LambdaException(403, "AccessDeniedException",
            "The code URL has expired or its signature is wrong: call GetFunction again for a fresh Code.Location.")));
      }
      return completeWithFuture(codeStore.find(sha256Hex).thenApply(found -> found
          .map(stored -> HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM,
              stored.size(), Source.range(0, stored.chunks() - 1)
                  .mapAsync(1, i -> codeStore.readChunk(sha256Hex, i))
                  .map(ByteString::fromByteBuffer))))
          .orElseGet(() -> Responses.error(LambdaException.notFound("No code package " + sha256Hex)))));
    })));
  }

  /** A body that cannot be read reaches the routes as a rejection; answer it in AWS's shape. */
  private RejectionHandler bodyRejections(String operation) {
    return RejectionHandler.newBuilder().handle(MalformedRequestContentRejection.class, r -> {
      if (r.getCause() instanceof EntityStreamSizeException size) {
        return complete(Responses.error(tooLarge(size.limit(), operation)));
      }
      return complete(Responses.error(LambdaException.invalidRequestContent("Could not read the request body: "
          + r.getCause().getMessage())));
    }).build();
  }

  private Route unknownOperation(HttpRequest request) {
    return complete(Responses.error(new LambdaException(404, "UnknownOperationException",
        "No Lambda operation matches " + request.method().name() + " " + request.getUri().path()
            + ". Check the path and method against the Lambda API reference.")));
  }

  private ExceptionHandler errors(String requestId, String operation) {
    return ExceptionHandler.newBuilder().matchAny(failure -> complete(failed(failure, requestId, operation))).build();
  }

  /** AWS's error shape for a failure; what is not the caller's doing is logged with the request id. */
  private HttpResponse failed(Throwable failure, String requestId, String operation) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof LambdaException e) {
      if (e.status() >= 500) {
        withRequestId(requestId, () -> log.warn("{} failed: {} {}", operation, e.errorType(), e.getMessage()));
      }
      return Responses.error(e);
    }
    if (t instanceof EntityStreamSizeException size) {
      return Responses.error(tooLarge(size.limit(), operation));
    }
    Throwable cause = t;
    withRequestId(requestId, () -> log.error("{} failed unexpectedly", operation, cause));
    return Responses.error(LambdaException.service("An internal error occurred (request " + requestId
        + "); the node's log has the details."));
  }

  private static void withRequestId(String requestId, Runnable logging) {
    try (MDC.MDCCloseable ignored = MDC.putCloseable("requestId", requestId)) {
      logging.run();
    }
  }

  /** The AWS operation name of a request, for metrics and logs; "Unknown" for anything else. */
  static final class Operations {
    static final String FORWARDED_INVOKE = "ForwardedInvoke";

    private record Rule(String method, Pattern path, String operation) {}

    private static final String FN = "/2015-03-31/functions/[^/]+";
    private static final List<Rule> RULES = List.of(
        new Rule("POST", Pattern.compile("/2015-03-31/functions/?"), "CreateFunction"),
        new Rule("GET", Pattern.compile("/2015-03-31/functions/?"), "ListFunctions"),
        new Rule("GET", Pattern.compile(FN), "GetFunction"),
        new Rule("DELETE", Pattern.compile(FN), "DeleteFunction"),
        new Rule("GET", Pattern.compile(FN + "/configuration"), "GetFunctionConfiguration"),
        new Rule("POST", Pattern.compile(FN + "/invocations"), "Invoke"),
        new Rule("PUT", Pattern.compile(FN + "/configuration"), "UpdateFunctionConfiguration"),
        new Rule("PUT", Pattern.compile(FN + "/code"), "UpdateFunctionCode"),
        new Rule("POST", Pattern.compile(FN + "/versions"), "PublishVersion"),
        new Rule("GET", Pattern.compile(FN + "/versions"), "ListVersionsByFunction"),
        new Rule("POST", Pattern.compile(FN + "/aliases"), "CreateAlias"),
        new Rule("GET", Pattern.compile(FN + "/aliases"), "ListAliases"),
        new Rule("GET", Pattern.compile(FN + "/aliases/[^/]+"), "GetAlias"),
        new Rule("PUT", Pattern.compile(FN + "/aliases/[^/]+"), "UpdateAlias"),
        new Rule("DELETE", Pattern.compile(FN + "/aliases/[^/]+"), "DeleteAlias"),
        new Rule("POST", Pattern.compile(FN + "/policy"), "AddPermission"),
        new Rule("GET", Pattern.compile(FN + "/policy"), "GetPolicy"),
        new Rule("DELETE", Pattern.compile(FN + "/policy/[^/]+"), "RemovePermission"),
        new Rule("PUT", Pattern.compile("/2017-10-31/functions/[^/]+/concurrency"), "PutFunctionConcurrency"),
        new Rule("DELETE", Pattern.compile("/2017-10-31/functions/[^/]+/concurrency"), "DeleteFunctionConcurrency"),
        new Rule("GET", Pattern.compile("/2019-09-30/functions/[^/]+/concurrency"), "GetFunctionConcurrency"),
        new Rule("GET", Pattern.compile("/2017-03-31/tags/[^/]+"), "ListTags"),
        new Rule("POST", Pattern.compile("/2017-03-31/tags/[^/]+"), "TagResource"),
        new Rule("DELETE", Pattern.compile("/2017-03-31/tags/[^/]+"), "UntagResource"),
        new Rule("GET", Pattern.compile("/2016-08-19/account-settings/?"), "GetAccountSettings"),
        new Rule("PUT", Pattern.compile("/2019-09-25/functions/[^/]+/event-invoke-config"),
            "PutFunctionEventInvokeConfig"),
        new Rule("POST", Pattern.compile("/2019-09-25/functions/[^/]+/event-invoke-config"),
            "UpdateFunctionEventInvokeConfig"),
        new Rule("GET", Pattern.compile("/2019-09-25/functions/[^/]+/event-invoke-config"),
            "GetFunctionEventInvokeConfig"),
        new Rule("DELETE", Pattern.compile("/2019-09-25/functions/[^/]+/event-invoke-config"),
            "DeleteFunctionEventInvokeConfig"),
        new Rule("GET", Pattern.compile("/2019-09-25/functions/[^/]+/event-invoke-config/list"),
            "ListFunctionEventInvokeConfigs"),
        new Rule("POST", Pattern.compile("/2015-03-31/event-source-mappings/?"), "CreateEventSourceMapping"),
        new Rule("GET", Pattern.compile("/2015-03-31/event-source-mappings/?"), "ListEventSourceMappings"),
        new Rule("GET", Pattern.compile("/2015-03-31/event-source-mappings/[^/]+"), "GetEventSourceMapping"),
        new Rule("PUT", Pattern.compile("/2015-03-31/event-source-mappings/[^/]+"), "UpdateEventSourceMapping"),
        new Rule("DELETE", Pattern.compile("/2015-03-31/event-source-mappings/[^/]+"), "DeleteEventSourceMapping"),
        new Rule("GET", Pattern.compile("/tributary/event-source-mappings/[^/]+/shards"), "GetEventSourceMappingShards"),
        new Rule("GET", Pattern.compile("/health/(alive|ready)"), "Health"),
        new Rule("POST", Pattern.compile("/"), "Logs"),
        new Rule("GET", Pattern.compile("/metrics"), "Metrics"),
        new Rule("GET", Pattern.compile("/tributary/code/[^/]+"), "DownloadCode"),
        new Rule("POST", Pattern.compile(InvokeForwarder.PATH), FORWARDED_INVOKE),
        new Rule("GET", Pattern.compile("/tributary/functions/[^/]+/async-queue"), "GetAsyncQueue"),
        new Rule("GET", Pattern.compile("/tributary/functions/[^/]+/async-events/[^/]+"), "GetAsyncEvent"));

    /** Once per request: rendering the path from the parsed URI is not free. */
    static String of(HttpRequest request) {
      String method = request.method().name();
      String path = request.getUri().getPathString();
      if (InvokeRoutes.isInvoke(method, path)) {
        return "Invoke";
      }
      for (Rule rule : RULES) {
        if (rule.method().equals(method) && rule.path().matcher(path).matches()) {
          return rule.operation();
        }
      }
      return "Unknown";
    }
  }
}

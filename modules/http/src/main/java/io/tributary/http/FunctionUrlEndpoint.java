package io.tributary.http;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tributary.api.FunctionUrlConfig;
import io.tributary.api.Invocation;
import io.tributary.api.LambdaException;
import io.tributary.cluster.function.FunctionEntity;
import io.tributary.cluster.policy.PolicyEvaluator;
import io.tributary.cluster.store.FunctionRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SystemMaterializer;
import org.apache.pekko.util.ByteString;

/**
 * Requests to function URLs: any method and path on a host {@code <urlId>.lambda-url.<region>.<domain>},
 * on any node. The url-id is resolved through the registry to its function, whose entity has the last
 * word (the URL's configuration and the resource policy), cached for {@code ttl}. Then, as AWS does:
 * CORS preflights are answered from the configuration; {@code NONE} needs the resource policy to
 * allow an anonymous caller, {@code AWS_IAM} a valid SigV4 signature of a caller the policy allows
 * (this installation's account: {@link PolicyEvaluator#functionUrl}); the request
 * becomes a payload 2.0 event ({@link FunctionUrlEvents}) invoked through the same path as Invoke
 * (its Dispatcher, concurrency and forwarding), and the answer becomes the HTTP response.
 */
final class FunctionUrlEndpoint {

  private static final String LAMBDA_URL = ".lambda-url.";
  private static final int URL_ID_LENGTH = 32;
  private static final Pattern CREDENTIAL = Pattern.compile("Credential=([^/,\\s]+)/");
  static final String OPERATION = "InvokeFunctionUrl";
  /** Content types functions answer with, parsed once: most answer one of a few. */
  private static final Map<String, ContentType> CONTENT_TYPES = new java.util.concurrent.ConcurrentHashMap<>(
      Map.of("application/json", ContentTypes.APPLICATION_JSON));
  private static final int CONTENT_TYPES_KEPT = 256;

  /** Checks a request's SigV4 signature; throws LambdaException when it is not valid. */
  interface Signature {
    void verify(HttpRequest request, ByteString body);
  }

  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final FunctionAsk asker;
  private final FunctionRegistry registry;
  private final InvokeRoutes invokes;
  private final PolicyEvaluator policies;
  private final Signature signature;
  private final String accountId;
  private final AsyncLoadingCache<String, Optional<Target>> targets;
  private final Metrics metrics;

  FunctionUrlEndpoint(ActorSystem<?> system, FunctionAsk asker, FunctionRegistry registry, InvokeRoutes invokes,
      PolicyEvaluator policies, Signature signature, String accountId, Duration ttl, Metrics metrics) {
    this.system = system;
    this.materializer = SystemMaterializer.get(system).materializer();
    this.asker = asker;
    this.registry = registry;
    this.invokes = invokes;
    this.policies = policies;
    this.signature = signature;
    this.accountId = accountId;
    this.metrics = metrics;
    this.targets = Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(10_000)
        .buildAsync((urlId, executor) -> resolve(urlId).toCompletableFuture());
  }

  /**
   * A resolved URL and the policy's decision on its callers: anonymous for {@code NONE}, this
   * installation's account for {@code AWS_IAM}. Neither depends on the request, so it is decided
   * once per resolution (a policy change is seen within the cache's ttl, as the URL's own config).
   */
  private record Target(FunctionEntity.UrlTarget target, PolicyEvaluator.Decision decision) {}

  /**
   * The url-id a request's host names, if it names a function URL: {@code <32 letters and
   * digits>.lambda-url.<region>.}, then the configured domain, with or without a port.
   */
  static Optional<String> urlId(HttpRequest request) {
    String host = request.getHeader("Host").map(HttpHeader::value).orElseGet(() -> request.getUri().host().address());
    int end = host.lastIndexOf(':');
    if (end < 0 || host.indexOf(']') > end) {
      end = host.length();
    }
    int region = URL_ID_LENGTH + LAMBDA_URL.length();
    if (end <= region || !host.regionMatches(true, URL_ID_LENGTH, LAMBDA_URL, 0, LAMBDA_URL.length())) {
      return Optional.empty();
    }
    for (int i = 0; i < URL_ID_LENGTH; i++) {
      if (!lowerAlphanumeric(Character.toLowerCase(host.charAt(i)))) {
        return Optional.empty();
      }
    }
    int dot = host.indexOf('.', region);
    if (dot <= region || dot >= end - 1) {
      return Optional.empty();
    }
    for (int i = region; i < dot; i++) {
      char c = Character.toLowerCase(host.charAt(i));
      if (!lowerAlphanumeric(c) && c != '-') {
        return Optional.empty();
      }
    }
    return Optional.of(host.substring(0, URL_ID_LENGTH).toLowerCase(Locale.ROOT));
  }

  private static boolean lowerAlphanumeric(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  private CompletionStage<Optional<Target>> resolve(String urlId) {
    return registry.urlOwner(urlId).thenCompose(owner -> owner.isEmpty()
        ? CompletableFuture.completedFuture(Optional.<Target>empty())
        : asker.<FunctionEntity.UrlTarget>ask(owner.get().functionName(),
                r -> new FunctionEntity.ResolveUrl(owner.get().qualifier(), urlId, r))
            .thenApply(target -> Optional.of(new Target(target, decide(target))))
            .exceptionally(failure -> {
              if (cause(failure) instanceof LambdaException e && e.status() == 404) {
                return Optional.empty();
              }
              throw new CompletionException(cause(failure));
            }));
  }

  private PolicyEvaluator.Decision decide(FunctionEntity.UrlTarget target) {
    String authType = target.url().config().authType();
    return policies.functionUrl(target.policy(), authType.equals(FunctionUrlConfig.AWS_IAM)
        ? PolicyEvaluator.Caller.account(accountId) : PolicyEvaluator.Caller.anonymous(),
        target.url().functionArn(), authType);
  }

  CompletionStage<HttpResponse> handle(HttpRequest request, String urlId) {
    long start = System.nanoTime();
    String requestId = Invocation.newRequestId();
    CompletionStage<HttpResponse> response = body(request)
        .thenCompose(body -> targets.get(urlId).thenCompose(target -> target.isEmpty()
            ? CompletableFuture.completedFuture(forbidden())
            : serve(request, body, target.get(), urlId, requestId)))
        .exceptionally(failure -> failure(cause(failure), requestId));
    return response.thenApply(r -> {
      metrics.record(OPERATION, r.status().intValue(), System.nanoTime() - start);
      return r.addHeader(RawHeader.create(LambdaApi.REQUEST_ID, requestId));
    });
  }

  /**
   * The request's body: at once when it arrived whole (most do), else read within the limit. The
   * read's own stage is a Scala future's, whose plain continuations run on the common pool, a new
   * thread per task on 2 cores: continue on the node's dispatcher instead.
   */
  private CompletableFuture<ByteString> body(HttpRequest request) {
    if (request.entity() instanceof HttpEntity.Strict strict) {
      if (strict.getData().size() > InvokeRoutes.MAX_PAYLOAD_BYTES) {
        return CompletableFuture.failedFuture(new org.apache.pekko.http.scaladsl.model.EntityStreamSizeException(
            InvokeRoutes.MAX_PAYLOAD_BYTES, scala.Option.apply(strict.getData().size())));
      }
      return CompletableFuture.completedFuture(strict.getData());
    }
    return request.entity().toStrict(Duration.ofSeconds(30).toMillis(), InvokeRoutes.MAX_PAYLOAD_BYTES + 1L,
        materializer).toCompletableFuture().thenApplyAsync(HttpEntity.Strict::getData, system.executionContext());
  }

  private CompletionStage<HttpResponse> serve(HttpRequest request, ByteString body, Target resolved,
      String urlId, String requestId) {
    FunctionEntity.UrlTarget target = resolved.target();
    FunctionUrlConfig config = target.url().config();
    Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
    boolean preflight = request.method().name().equals("OPTIONS")
        && request.getHeader("Access-Control-Request-Method").isPresent();
    if (config.cors() != null && preflight && origin.isPresent()) {
      return CompletableFuture.completedFuture(Cors.preflight(config.cors(), origin.get()));
    }
    boolean iam = config.authType().equals(FunctionUrlConfig.AWS_IAM);
    if (iam) {
      try {
        signature.verify(request, body);
      } catch (LambdaException e) {
        return CompletableFuture.completedFuture(forbidden());
      }
    }
    PolicyEvaluator.Decision decision = resolved.decision();
    if (!decision.allowed()) {
      system.log().info("Function URL {} refused a request: {}", urlId, decision.reason());
      return CompletableFuture.completedFuture(forbidden());
    }
    String account = iam ? accountId : "anonymous";
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    request.getHeaders().forEach(h -> {
      if (!h.lowercaseName().equals("timeout-access") && !h.lowercaseName().equals("remote-address")) {
        headers.add(Map.entry(h.lowercaseName(), h.value()));
      }
    });
    HttpEntity entity = request.entity();
    if (!entity.getContentType().equals(ContentTypes.NO_CONTENT_TYPE)) {
      headers.add(Map.entry("content-type", entity.getContentType().toString()));
    }
    String rawQuery = request.getUri().rawQueryString().orElse("");
    String sourceIp = request.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(RemoteAddress::getAddress).map(java.net.InetAddress::getHostAddress).orElse("");
    FunctionUrlEvents.Request event = new FunctionUrlEvents.Request(request.method().name(),
        request.getUri().path(), rawQuery, headers, body.toArray(), sourceIp, request.protocol().value(), urlId,
        request.getHeader("Host").map(HttpHeader::value).orElse(""), account, requestId, Instant.now(),
        iam ? iamContext(request) : null);
    byte[] payload = FunctionUrlEvents.event(event);
    String qualifier = target.url().qualifier().equals("$LATEST") ? null : target.url().qualifier();
    boolean stream = config.invokeMode().equals(FunctionUrlConfig.RESPONSE_STREAM);
    return invokes.invokeForUrl(requestId, functionName(target), qualifier, payload, stream)
        .thenCompose(outcome -> stream ? streamed(outcome) : CompletableFuture.completedFuture(answer(outcome)))
        .thenApply(response -> Cors.onResponse(config.cors(), origin.orElse(null), response));
  }

  /**
   * A RESPONSE_STREAM URL's answer ({@link ResponseStreams#urlResponse}): what ran here or on the
   * node the invoke was forwarded to streams through; a refusal is answered as a buffered URL's.
   */
  private CompletionStage<HttpResponse> streamed(InvokeRoutes.Outcome outcome) {
    if (outcome instanceof InvokeRoutes.Outcome.Ran ran) {
      return ResponseStreams.urlResponse(ResponseStreams.Streamed.of(ran.result()), materializer);
    }
    HttpResponse answered = ((InvokeRoutes.Outcome.Answered) outcome).response();
    if (answered.status().intValue() == 200) {
      return ResponseStreams.urlResponse(ResponseStreams.Streamed.decoded(answered), materializer);
    }
    return CompletableFuture.completedFuture(answer(outcome));
  }

  /**
   * {@code requestContext.authorizer.iam} of an AWS_IAM request: the signing key and its account.
   * Keys have no IAM user of their own yet (the identities issue), so the caller is the account's root.
   */
  private com.fasterxml.jackson.databind.node.ObjectNode iamContext(HttpRequest request) {
    String authorization = request.getHeader("Authorization").map(HttpHeader::value).orElse("");
    Matcher key = CREDENTIAL.matcher(authorization);
    var iam = JsonBody.MAPPER.createObjectNode();
    iam.put("accessKey", key.find() ? key.group(1) : "");
    iam.put("accountId", accountId);
    iam.put("callerId", accountId);
    iam.putNull("cognitoIdentity");
    iam.putNull("principalOrgId");
    iam.put("userArn", "arn:aws:iam::" + accountId + ":root");
    iam.put("userId", accountId);
    return iam;
  }

  private static String functionName(FunctionEntity.UrlTarget target) {
    String arn = target.url().functionArn();
    String rest = arn.substring(arn.indexOf(":function:") + ":function:".length());
    int colon = rest.indexOf(':');
    return colon < 0 ? rest : rest.substring(0, colon);
  }

  /** The invoke's outcome as the URL's answer: the function's response, or AWS's status for what went wrong. */
  private static HttpResponse answer(InvokeRoutes.Outcome outcome) {
    if (outcome instanceof InvokeRoutes.Outcome.Ran ran) {
      return ran.result().failed() ? message(502, "Internal Server Error") : answer(ran.result().payload());
    }
    HttpResponse invoke = ((InvokeRoutes.Outcome.Answered) outcome).response();
    int status = invoke.status().intValue();
    if (status == 200 && invoke.getHeader("X-Amz-Function-Error").isEmpty()) {
      return answer(((HttpEntity.Strict) invoke.entity()).getData().toArray());
    }
    if (status == 200) {
      return message(502, "Internal Server Error");
    }
    if (status == 429) {
      return json(429, "{\"Message\":\"Rate Exceeded.\"}");
    }
    if (status == 413) {
      return json(413, "{\"Message\":\"Request must be smaller than " + InvokeRoutes.MAX_PAYLOAD_BYTES
          + " bytes for the InvokeFunction operation\"}");
    }
    if (status == 404) {
      return forbidden();
    }
    return message(502, "Internal Server Error");
  }

  /** A function's answer as the URL's response ({@link FunctionUrlEvents#response}). */
  private static HttpResponse answer(byte[] payload) {
    FunctionUrlEvents.Response r = FunctionUrlEvents.response(payload);
    ContentType type = ContentTypes.APPLICATION_JSON;
    List<HttpHeader> headers = new ArrayList<>();
    for (Map.Entry<String, String> h : r.headers()) {
      if (h.getKey().equalsIgnoreCase("content-type")) {
        type = contentType(h.getValue());
      } else if (!h.getKey().equalsIgnoreCase("content-length")) {
        headers.add(RawHeader.create(h.getKey(), h.getValue()));
      }
    }
    return HttpResponse.create().withStatus(r.status()).withHeaders(headers)
        .withEntity(HttpEntities.create(type, r.body()));
  }

  private static ContentType contentType(String value) {
    ContentType known = CONTENT_TYPES.get(value);
    if (known != null) {
      return known;
    }
    ContentType parsed = ContentTypes.parse(value);
    if (CONTENT_TYPES.size() < CONTENT_TYPES_KEPT) {
      CONTENT_TYPES.put(value, parsed);
    }
    return parsed;
  }

  private HttpResponse failure(Throwable failure, String requestId) {
    if (failure instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
      return json(413, "{\"Message\":\"Request must be smaller than " + InvokeRoutes.MAX_PAYLOAD_BYTES
          + " bytes for the InvokeFunction operation\"}");
    }
    system.log().warn("Function URL request {} failed: {}", requestId, failure.toString());
    return json(500, "{\"Message\":\"Internal Server Error\"}");
  }

  /** AWS's answer to a URL request it does not allow, or to a URL that does not exist. */
  static HttpResponse forbidden() {
    return json(403, "{\"Message\":\"Forbidden\"}").addHeader(RawHeader.create("x-amzn-ErrorType",
        "AccessDeniedException"));
  }

  private static HttpResponse json(int status, String body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        body));
  }

  /** AWS's answer when the function failed. */
  static HttpResponse internalError() {
    return message(502, "Internal Server Error");
  }

  private static HttpResponse message(int status, String body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8,
        body));
  }

  private static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** CORS as AWS applies a URL's configuration: preflights answered, the function's own CORS headers replaced. */
  static final class Cors {

    private Cors() {}

    static boolean allows(FunctionUrlConfig.Cors cors, String origin) {
      List<String> origins = cors.allowOrigins() == null ? List.of() : cors.allowOrigins();
      return origins.contains("*") || origins.stream().anyMatch(o -> o.equalsIgnoreCase(origin));
    }

    static HttpResponse preflight(FunctionUrlConfig.Cors cors, String origin) {
      HttpResponse response = HttpResponse.create().withStatus(200);
      if (!allows(cors, origin)) {
        return response;
      }
      response = response.addHeader(RawHeader.create("Access-Control-Allow-Origin", allowOrigin(cors, origin)))
          .addHeader(RawHeader.create("Vary", "Origin"));
      if (cors.allowMethods() != null && !cors.allowMethods().isEmpty()) {
        response = response.addHeader(RawHeader.create("Access-Control-Allow-Methods",
            String.join(",", cors.allowMethods())));
      }
      if (cors.allowHeaders() != null && !cors.allowHeaders().isEmpty()) {
        response = response.addHeader(RawHeader.create("Access-Control-Allow-Headers",
            String.join(",", cors.allowHeaders())));
      }
      if (cors.maxAge() != null) {
        response = response.addHeader(RawHeader.create("Access-Control-Max-Age", cors.maxAge().toString()));
      }
      if (Boolean.TRUE.equals(cors.allowCredentials())) {
        response = response.addHeader(RawHeader.create("Access-Control-Allow-Credentials", "true"));
      }
      return response;
    }

    static HttpResponse onResponse(FunctionUrlConfig.Cors cors, String origin, HttpResponse response) {
      if (cors == null) {
        return response;
      }
      List<HttpHeader> kept = new ArrayList<>();
      response.getHeaders().forEach(h -> {
        if (!h.lowercaseName().startsWith("access-control-")) {
          kept.add(h);
        }
      });
      HttpResponse r = response.withHeaders(kept);
      if (origin == null || !allows(cors, origin)) {
        return r;
      }
      r = r.addHeader(RawHeader.create("Access-Control-Allow-Origin", allowOrigin(cors, origin)))
          .addHeader(RawHeader.create("Vary", "Origin"));
      if (cors.exposeHeaders() != null && !cors.exposeHeaders().isEmpty()) {
        r = r.addHeader(RawHeader.create("Access-Control-Expose-Headers", String.join(",", cors.exposeHeaders())));
      }
      if (Boolean.TRUE.equals(cors.allowCredentials())) {
        r = r.addHeader(RawHeader.create("Access-Control-Allow-Credentials", "true"));
      }
      return r;
    }

    /** The request's origin, or {@code *} when any is allowed and credentials are not (a browser refuses {@code *} with them). */
    private static String allowOrigin(FunctionUrlConfig.Cors cors, String origin) {
      boolean any = cors.allowOrigins() != null && cors.allowOrigins().contains("*");
      return any && !Boolean.TRUE.equals(cors.allowCredentials()) ? "*" : origin;
    }
  }
}

package io.tributary.http;

import io.tributary.api.LambdaException;
import io.tributary.cluster.Asks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.Materializer;

/**
 * The hop of an invoke to the node its Dispatcher named: an internal HTTP request that carries the
 * payload (up to 6 MB, more than an actor message should) and the invoke's parameters as headers.
 *
 * <p>The receiving node does not re-verify the caller's SigV4 signature (a hop would have to keep
 * the exact request target and headers it signed); the hop is signed instead with an HMAC over
 * everything it asks for and the payload's hash, keyed from the API credentials every node of the
 * cluster shares, and is accepted for {@link #VALIDITY} only.
 */
final class InvokeForwarder {

  static final String PATH = "/tributary/internal/invoke";
  static final Duration VALIDITY = Duration.ofMinutes(5);
  /** AWS's longest function timeout, and a margin for the hop itself. */
  static final Duration LONGEST_INVOKE = Duration.ofSeconds(910);

  private static final String FUNCTION = "X-Tributary-Function";
  private static final String QUALIFIER = "X-Tributary-Qualifier";
  private static final String LOG_TYPE = "X-Tributary-Log-Type";
  private static final String CLIENT_CONTEXT = "X-Tributary-Client-Context";
  private static final String REQUEST_ID = "X-Tributary-Request-Id";
  private static final String DATE = "X-Tributary-Date";
  private static final String SIGNATURE = "X-Tributary-Signature";
  private static final String STREAM = "X-Tributary-Stream";
  private static final String QUEUED_UNTIL = "X-Tributary-Queued-Until";
  private static final Set<String> PASSED_BACK = Set.of("x-amz-executed-version", "x-amz-function-error",
      "x-amz-log-result", "x-amzn-errortype");

  /**
   * What a forwarded invoke asks the receiving node to do; {@code stream}: answer as
   * InvokeWithResponseStream; {@code queuedUntil}: a delivery of an asynchronous queue, which may
   * wait for a slot until then (epoch millis; 0: an invoke refused at once without one).
   */
  record Hop(String requestId, String function, String qualifier, String logType, String clientContext,
             boolean stream, long queuedUntil) {

    Hop(String requestId, String function, String qualifier, String logType, String clientContext, boolean stream) {
      this(requestId, function, qualifier, logType, clientContext, stream, 0);
    }
  }

  private final ActorSystem<?> system;
  private final byte[] key;
  private final Clock clock;
  private final ConnectionPoolSettings pool;

  InvokeForwarder(ActorSystem<?> system, String secret, Clock clock) {
    this.system = system;
    this.key = SigV4Verifier.hmac(secret.getBytes(StandardCharsets.UTF_8), "tributary-invoke-hop");
    this.clock = clock;
    // An invoke may run for 15 minutes without a byte on the connection; every forwarded invoke
    // needs a connection of its own for as long, and none may be retried (a retry runs it twice).
    this.pool = ConnectionPoolSettings.create(system.classicSystem())
        .withMaxConnections(256)
        .withMaxOpenRequests(1024)
        .withMaxRetries(0)
        .withConnectionSettings(ClientConnectionSettings.create(system.classicSystem()).withIdleTimeout(LONGEST_INVOKE));
  }

  /**
   * Sends {@code hop} to the node at {@code baseUrl}; its answer comes back as the caller's response:
   * whole, or for a streamed hop as it comes (its entity passed on unread).
   */
  CompletionStage<HttpResponse> forward(String baseUrl, Hop hop, byte[] payload) {
    HttpRequest request = request(baseUrl, hop, payload);
    Materializer materializer = Materializer.matFromSystem(system);
    Executor executor = system.executionContext();
    return Asks.on(Http.get(system).singleRequest(request, Http.get(system).defaultClientHttpsContext(), pool,
            system.classicSystem().log()), executor)
        .thenCompose(response -> hop.stream() && response.status().intValue() == 200
            ? java.util.concurrent.CompletableFuture.completedFuture(passedBack(response, response.entity()))
            : Asks.on(response.entity()
            .toStrict(Duration.ofSeconds(30).toMillis(), InvokeRoutes.MAX_PAYLOAD_BYTES + 1024L, materializer), executor)
            .thenApply(strict -> passedBack(response, strict)));
  }

  private static HttpResponse passedBack(HttpResponse response, org.apache.pekko.http.javadsl.model.ResponseEntity entity) {
    HttpResponse back = HttpResponse.create().withStatus(response.status()).withEntity(entity);
    for (HttpHeader header : response.getHeaders()) {
      if (PASSED_BACK.contains(header.lowercaseName())) {
        back = back.addHeader(header);
      }
    }
    return back;
  }

  static boolean isHop(HttpRequest request) {
    return request.getUri().getPathString().equals(PATH);
  }

  /** The request id a hop carries (verified with the rest of the hop by {@link #verify}). */
  static Optional<String> requestId(HttpRequest request) {
    return isHop(request) ? request.getHeader(REQUEST_ID).map(HttpHeader::value) : Optional.empty();
  }

  /** The signed request of a hop. */
  HttpRequest request(String baseUrl, Hop hop, byte[] payload) {
    long date = clock.millis();
    HttpRequest request = HttpRequest.create(baseUrl + PATH).withMethod(HttpMethods.POST)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, payload))
        .addHeader(RawHeader.create(REQUEST_ID, hop.requestId()))
        .addHeader(RawHeader.create(FUNCTION, hop.function()))
        .addHeader(RawHeader.create(LOG_TYPE, hop.logType()))
        .addHeader(RawHeader.create(DATE, Long.toString(date)))
        .addHeader(RawHeader.create(SIGNATURE, signature(hop, date, payload)));
    if (hop.qualifier() != null) {
      request = request.addHeader(RawHeader.create(QUALIFIER, hop.qualifier()));
    }
    if (hop.clientContext() != null) {
      request = request.addHeader(RawHeader.create(CLIENT_CONTEXT, hop.clientContext()));
    }
    if (hop.stream()) {
      request = request.addHeader(RawHeader.create(STREAM, "1"));
    }
    if (hop.queuedUntil() > 0) {
      request = request.addHeader(RawHeader.create(QUEUED_UNTIL, Long.toString(hop.queuedUntil())));
    }
    return request;
  }

  /** The hop a request carries, if its signature holds; otherwise a 403 that says why. */
  Hop verify(HttpRequest request, byte[] payload) {
    String date = header(request, DATE);
    String signature = header(request, SIGNATURE);
    String function = header(request, FUNCTION);
    String requestId = header(request, REQUEST_ID);
    if (date == null || signature == null || function == null || requestId == null) {
      throw forbidden("it lacks the hop headers");
    }
    long at;
    try {
      at = Long.parseLong(date);
    } catch (NumberFormatException e) {
      throw forbidden("its date is not a number");
    }
    if (Math.abs(clock.millis() - at) > VALIDITY.toMillis()) {
      throw forbidden("it is older than " + VALIDITY.toMinutes() + " minutes (are the nodes' clocks in sync?)");
    }
    long queuedUntil;
    try {
      queuedUntil = header(request, QUEUED_UNTIL) == null ? 0 : Long.parseLong(header(request, QUEUED_UNTIL));
    } catch (NumberFormatException e) {
      throw forbidden("its queue deadline is not a number");
    }
    Hop hop = new Hop(requestId, function, header(request, QUALIFIER),
        header(request, LOG_TYPE) == null ? "None" : header(request, LOG_TYPE), header(request, CLIENT_CONTEXT),
        "1".equals(header(request, STREAM)), queuedUntil);
    if (!MessageDigest.isEqual(signature(hop, at, payload).getBytes(StandardCharsets.US_ASCII),
        signature.getBytes(StandardCharsets.US_ASCII))) {
      throw forbidden("its signature does not match (do all nodes share tributary.auth.credentials?)");
    }
    return hop;
  }

  private String signature(Hop hop, long date, byte[] payload) {
    String canonical = String.join("\n", hop.requestId(), hop.function(), String.valueOf(hop.qualifier()),
        hop.logType(), String.valueOf(hop.clientContext()), Long.toString(date),
        HexFormat.of().formatHex(SigV4Verifier.sha256(payload))) + (hop.stream() ? "\nstream" : "")
        + (hop.queuedUntil() > 0 ? "\nqueued-until " + hop.queuedUntil() : "");
    return HexFormat.of().formatHex(SigV4Verifier.hmac(key, canonical));
  }

  private static String header(HttpRequest request, String name) {
    return request.getHeader(name).map(HttpHeader::value).orElse(null);
  }

  private static LambdaException forbidden(String why) {
    return new LambdaException(403, "AccessDeniedException",
        "A forwarded invoke was refused because " + why + ".");
  }
}

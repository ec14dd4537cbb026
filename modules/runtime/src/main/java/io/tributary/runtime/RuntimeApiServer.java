package io.tributary.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.api.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The Lambda Runtime API ({@code /2018-06-01/runtime/...}) of this node. Every execution
 * environment gets its own address (its own port on 127.0.0.1, the value of
 * {@code AWS_LAMBDA_RUNTIME_API}), so the server knows which environment a request comes from
 * without trusting anything the runtime sends. All bindings share one route and one set of
 * settings: no request or idle timeout (a warm runtime waits in {@code /next} for as long as it
 * stays warm), TCP_NODELAY on (with Nagle, every warm invoke paid a ~40 ms delayed ACK).
 */
final class RuntimeApiServer extends AllDirectives {

  /** What an environment answers to its runtime's requests. */
  interface Channel {
    /** Completes with the next invocation; the runtime's {@code /next} waits on it. */
    CompletionStage<NextEvent> next();

    /** False when {@code requestId} is not the invocation in progress. */
    boolean respond(String requestId, byte[] body);

    boolean fail(String requestId, String errorType, byte[] body);

    boolean responseTooLarge(String requestId, long bytes);

    void initError(String errorType, byte[] body);

    /**
     * A response the runtime streams: false when {@code requestId} is not the invocation in
     * progress. The environment reads {@code response.body()} (now, or as its caller asks) and
     * hears how it ended from {@code response.ended()}.
     */
    boolean stream(String requestId, Streamed response);
  }

  /**
   * A response as the runtime streams it: its Content-Type; its bytes, read as the one who runs
   * {@code body} asks, within {@code tributary.runtime.streaming}'s size and bandwidth; and, once
   * they are read, the error the runtime's trailers reported, if any. {@code ended} fails when the
   * bytes stopped short: the runtime's connection broke, or the stream went over its limit
   * ({@link TooLarge}), or the reader cancelled.
   */
  record Streamed(String contentType, Source<ByteString, NotUsed> body, CompletionStage<Trailer> ended,
                  Materializer materializer) {}

  /** The trailers' error: {@code errorType} null when the stream ended well; {@code errorBody} decoded from base64. */
  record Trailer(String errorType, String errorBody) {
    static final Trailer NONE = new Trailer(null, null);
  }

  /** A streamed response went over {@code tributary.runtime.streaming.max-response-size}. */
  static final class TooLarge extends RuntimeException {
    final long limit;

    TooLarge(long limit) {
      super("Response payload size exceeded maximum allowed payload size (" + limit + " bytes).", null, false, false);
      this.limit = limit;
    }
  }

  static final String RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode";
  static final String ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type";
  static final String ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body";

  /** An invocation as {@code /next} hands it to the runtime. */
  record NextEvent(String requestId, long deadlineEpochMs, String invokedFunctionArn, String traceId,
                   String clientContext, String cognitoIdentity, byte[] payload) {}

  private static final String PREFIX = "2018-06-01";
  private final ActorSystem<?> system;
  private final ServerSettings settings;
  private final RuntimeSettings.Streaming streaming;

  RuntimeApiServer(ActorSystem<?> system, RuntimeSettings.Streaming streaming) {
    this.system = system;
    this.streaming = streaming;
    Config overrides = ConfigFactory.parseString("""
        pekko.http.server {
          request-timeout = infinite
          idle-timeout = infinite
          socket-options.tcp-no-delay = on
          parsing.max-content-length = 16m
          server-header = ""
        }""");
    this.settings = ServerSettings.create(overrides.withFallback(system.settings().config()));
  }

  /** Opens the address of one environment; the binding's port goes into {@code AWS_LAMBDA_RUNTIME_API}. */
  CompletionStage<ServerBinding> open(Channel channel) {
    return Http.get(system).newServerAt("127.0.0.1", 0).withSettings(settings).bind(route(channel));
  }

  private Route route(Channel channel) {
    return pathPrefix(PREFIX, () -> pathPrefix("runtime", () -> concat(
        path(PathMatchers.segment("invocation").slash("next"), () -> get(() ->
            onComplete(channel.next(), event -> event.isSuccess()
                ? complete(nextResponse(event.get()))
                // The environment is being stopped: its runtime is killed right after this answer.
                : complete(error(StatusCodes.GONE, "EnvironmentStopped", "This execution environment is stopping."))))),
        path(PathMatchers.segment("invocation").slash(PathMatchers.segment()).slash("response"), id -> post(() ->
            response(channel, id))),
        path(PathMatchers.segment("invocation").slash(PathMatchers.segment()).slash("error"), id -> post(() ->
            optionalHeaderValueByName("Lambda-Runtime-Function-Error-Type", type ->
                entity(Unmarshaller.entityToByteString(), body ->
                    accepted(channel.fail(id, type.orElse("Unhandled"), body.toArray())))))),
        path(PathMatchers.segment("init").slash("error"), () -> post(() ->
            optionalHeaderValueByName("Lambda-Runtime-Function-Error-Type", type ->
                entity(Unmarshaller.entityToByteString(), body -> {
                  channel.initError(type.orElse("Runtime.Unknown"), body.toArray());
                  return accepted(true);
                })))))));
  }

  /**
   * A response over 6 MB is refused (413 to the runtime) and becomes the invocation's error, as on
   * AWS. A streamed one ({@code Lambda-Runtime-Function-Response-Mode: streaming}, or chunked with
   * declared trailers, as AWS's Go runtime sends without the mode) goes to {@link #streamed}.
   *
   * <p>A body that came whole with its headers is answered at once. One still arriving is read with
   * {@code toStrict}, whose stage is a Scala future's: a plain {@code thenApply} on it runs on the common
   * pool, which on 2 cores starts a new thread per task (one per warm invoke, measured), so the route
   * continues from the stage itself.
   */
  private Route response(Channel channel, String id) {
    long limit = InvocationResult.MAX_RESPONSE_BYTES;
    return extractRequest(request -> extractRequestEntity(entity -> extractMaterializer(materializer -> {
      Optional<String> mode = request.getHeader(RESPONSE_MODE).map(HttpHeader::value);
      if (mode.isPresent() && !mode.get().isEmpty() && !mode.get().equals("streaming")) {
        return complete(error(StatusCodes.BAD_REQUEST, "InvalidFunctionResponseMode", "Invalid function response mode"));
      }
      if (mode.isPresent() || (entity.isChunked() && request.getHeader("Trailer").isPresent())) {
        return streamed(channel, id, request, entity, materializer);
      }
      if (entity.getContentLengthOption().orElse(0L) > limit) {
        return tooLarge(channel, id, entity.getContentLengthOption().getAsLong());
      }
      if (entity instanceof HttpEntity.Strict strict) {
        return accepted(channel.respond(id, strict.getData().toArray()));
      }
      return onComplete(entity.withSizeLimit(limit).toStrict(60_000, materializer), result -> result.isSuccess()
          ? accepted(channel.respond(id, result.get().getData().toArray()))
          : tooLarge(channel, id, limit + 1));
    })));
  }

  /**
   * Hands the response to the environment as it streams, then answers the runtime once every byte
   * was read (202), as AWS's Runtime API does.
   */
  private Route streamed(Channel channel, String id, HttpRequest request, HttpEntity entity,
                         Materializer materializer) {
    // Null until the body's end was read: a stream done without it was cancelled by its reader.
    AtomicReference<Trailer> trailer = new AtomicReference<>(entity.isChunked() ? null : Trailer.NONE);
    // The server's max-content-length guards buffered bodies; a stream has its own limit (limits()).
    HttpEntity unlimited = entity.withoutSizeLimit();
    Source<ByteString, ?> bytes = unlimited instanceof HttpEntity.Chunked chunked
        ? chunked.getChunks().map(chunk -> {
            if (chunk.isLastChunk()) {
              trailer.set(trailer(chunk.getTrailerHeaders()));
            }
            return chunk.data();
          }).filter(data -> !data.isEmpty())
        : unlimited.getDataBytes();
    Source<ByteString, NotUsed> limited = bytes.via(limits(streaming)).mapMaterializedValue(m -> NotUsed.getInstance());
    CompletableFuture<Trailer> ended = new CompletableFuture<>();
    Source<ByteString, NotUsed> body = limited.watchTermination((notUsed, done) -> {
      done.whenComplete((ok, failure) -> {
        if (failure != null) {
          ended.completeExceptionally(failure);
        } else if (trailer.get() == null) {
          ended.completeExceptionally(new IllegalStateException("the response's reader went away"));
        } else {
          ended.complete(trailer.get());
        }
      });
      return notUsed;
    });
    // Pekko holds Content-Type in the entity, application/octet-stream (AWS's default too) when none came.
    String contentType = entity.getContentType().toString();
    if (!channel.stream(id, new Streamed(contentType, body, ended, materializer))) {
      return complete(error(StatusCodes.BAD_REQUEST, "InvalidRequestID", "Invalid request ID"));
    }
    return onComplete(ended.handle((t, failure) -> failure == null), ok -> accepted(true));
  }

  /**
   * {@code tributary.runtime.streaming} on a streamed response: bytes up to its size, then a failure
   * with {@link TooLarge}; past its burst, no faster than its bandwidth.
   */
  static Flow<ByteString, ByteString, NotUsed> limits(RuntimeSettings.Streaming streaming) {
    long max = streaming.maxResponseBytes();
    Flow<ByteString, ByteString, NotUsed> limited = Flow.<ByteString>create()
        .statefulMap(() -> new long[1], (seen, data) -> {
          seen[0] += data.size();
          if (seen[0] > max) {
            throw new TooLarge(max);
          }
          return Pair.create(seen, data);
        }, seen -> Optional.empty());
    if (streaming.bytesPerSecond() > 0) {
      limited = limited.throttle((int) Math.min(Integer.MAX_VALUE, streaming.bytesPerSecond()), Duration.ofSeconds(1),
          (int) Math.min(Integer.MAX_VALUE, streaming.burstBytes()), ByteString::size, ThrottleMode.shaping());
    }
    return limited;
  }

  /** The error a stream's trailers report (AWS's runtimes send the body base64-encoded; a bad one is dropped). */
  static Trailer trailer(Iterable<HttpHeader> trailers) {
    String type = null;
    String body = null;
    for (HttpHeader h : trailers) {
      if (h.is(ERROR_TYPE_TRAILER.toLowerCase(java.util.Locale.ROOT))) {
        type = h.value().isBlank() ? null : h.value().strip();
      } else if (h.is(ERROR_BODY_TRAILER.toLowerCase(java.util.Locale.ROOT))) {
        try {
          body = new String(Base64.getDecoder().decode(h.value().strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          body = "";
        }
      }
    }
    return type == null ? Trailer.NONE : new Trailer(type, body == null ? "" : body);
  }

  private Route tooLarge(Channel channel, String id, long bytes) {
    channel.responseTooLarge(id, bytes);
    return complete(error(StatusCodes.REQUEST_ENTITY_TOO_LARGE, "Function.ResponseSizeTooLarge",
        "Response payload size exceeded maximum allowed payload size (" + InvocationResult.MAX_RESPONSE_BYTES
            + " bytes)."));
  }

  private static HttpResponse nextResponse(NextEvent event) {
    List<HttpHeader> headers = new ArrayList<>(List.of(
        RawHeader.create("Lambda-Runtime-Aws-Request-Id", event.requestId()),
        RawHeader.create("Lambda-Runtime-Deadline-Ms", Long.toString(event.deadlineEpochMs())),
        RawHeader.create("Lambda-Runtime-Invoked-Function-Arn", event.invokedFunctionArn()),
        RawHeader.create("Lambda-Runtime-Trace-Id", event.traceId())));
    if (event.clientContext() != null) {
      headers.add(RawHeader.create("Lambda-Runtime-Client-Context", event.clientContext()));
    }
    if (event.cognitoIdentity() != null) {
      headers.add(RawHeader.create("Lambda-Runtime-Cognito-Identity", event.cognitoIdentity()));
    }
    return HttpResponse.create().addHeaders(headers)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ByteString.fromArrayUnsafe(event.payload())));
  }

  private Route accepted(boolean known) {
    return known
        ? complete(HttpResponse.create().withStatus(StatusCodes.ACCEPTED)
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"status\":\"OK\"}")))
        : complete(error(StatusCodes.BAD_REQUEST, "InvalidRequestID", "Invalid request ID"));
  }

  private static HttpResponse error(StatusCode status, String type, String message) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        InvocationResult.errorDocument(type, message)));
  }
}

package io.tributary.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.tributary.api.InvocationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
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
  }

  /** An invocation as {@code /next} hands it to the runtime. */
  record NextEvent(String requestId, long deadlineEpochMs, String invokedFunctionArn, String traceId,
                   String clientContext, String cognitoIdentity, byte[] payload) {}

  private static final String PREFIX = "2018-06-01";
  private final ActorSystem<?> system;
  private final ServerSettings settings;

  RuntimeApiServer(ActorSystem<?> system) {
    this.system = system;
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

  /** A response over 6 MB is refused (413 to the runtime) and becomes the invocation's error, as on AWS. */
  private Route response(Channel channel, String id) {
    long limit = InvocationResult.MAX_RESPONSE_BYTES;
    return extractRequestEntity(entity -> extractMaterializer(materializer -> {
      if (entity.getContentLengthOption().orElse(0L) > limit) {
        return tooLarge(channel, id, entity.getContentLengthOption().getAsLong());
      }
      CompletionStage<ByteString> body = entity.withSizeLimit(limit).toStrict(60_000, materializer)
          .thenApply(strict -> strict.getData());
      return onComplete(body, result -> result.isSuccess()
          ? accepted(channel.respond(id, result.get().toArray()))
          : tooLarge(channel, id, limit + 1));
    }));
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

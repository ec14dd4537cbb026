package io.tributary.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.Arns;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaError;
import io.tributary.api.LambdaException;
import io.tributary.cluster.async.AsyncQueueEntity;
import io.tributary.cluster.async.Intake;
import io.tributary.cluster.invoke.Dispatcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /2015-03-31/functions/{fn}/invocations}: Invoke with AWS's headers in and out. The
 * invocation's request id is the HTTP request's {@code x-amzn-RequestId}, as on AWS, so a log
 * line, a REPORT line and a client's error all name the same id.
 *
 * <p>When this node's Dispatcher names another node to run the invoke, the payload goes there by
 * {@link InvokeForwarder}'s hop, which arrives as ForwardedInvoke and keeps the request id.
 */
final class InvokeRoutes {

  /** AWS's limit for a synchronous request payload. */
  static final int MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
  /** Tributary's own: a repeat of an Event invoke with the same token gets the first one's request id. */
  static final String CLIENT_TOKEN = "X-Tributary-Client-Token";
  private static final String TOKEN_HEADER = "x-tributary-client-token";
  private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[\\x21-\\x7e]{1,128}");
  /** AWS's limit for an asynchronous (Event) payload since October 2025. */
  static final int MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;
  private static final int MAX_CLIENT_CONTEXT_BYTES = 3583;
  /** How long a queued delivery forwarded here may wait for the slot it was sent for. */
  static final Duration FORWARDED_WAIT = Duration.ofSeconds(60);
  /** AWS's limit for the legacy InvokeAsync's payload: 256 KB (an Event Invoke takes up to 1 MB). */
  static final int MAX_INVOKE_ASYNC_PAYLOAD_BYTES = 256 * 1024;

  /** InvokeAsync's answer, AWS's {@code {"Status":202}}. */
  record InvokeAsyncAnswer(int status) {}

  private final Dispatcher.Invoker dispatcher;
  private final Intake intake;
  private final Arns arns;
  private final InvokeForwarder forwarder;

  InvokeRoutes(Dispatcher.Invoker dispatcher, Intake intake,
               Arns arns, InvokeForwarder forwarder) {
    this.dispatcher = dispatcher;
    this.intake = intake;
    this.arns = arns;
    this.forwarder = forwarder;
  }

  /** {@code POST /2015-03-31/functions/<one segment>/invocations}. */
  static boolean isInvoke(String method, String path) {
    int name = "/2015-03-31/functions/".length();
    int end = path.length() - "/invocations".length();
    return method.equals("POST") && path.startsWith("/2015-03-31/functions/")
        && path.endsWith("/invocations") && end > name && path.indexOf('/', name) == end;
  }

  /**
   * Invoke, the legacy InvokeAsync, and the hop of one another node forwarded here. Both carry a payload and may run as long
   * as the longest function; {@link LambdaApi#handler} answers a whole Invoke without the table.
   */
  List<Operation> operations() {
    return List.of(
        Operation.post("Invoke", "/2015-03-31/functions/{FunctionName}/invocations",
            call -> respond(call.request(), call.body(), call.requestId())).limit(Operation.Limit.PAYLOAD),
        Operation.post("InvokeAsync", "/2014-11-13/functions/{FunctionName}/invoke-async/", this::invokeAsync)
            .limit(Operation.Limit.PAYLOAD),
        Operation.post("InvokeWithResponseStream", "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
            this::invokeWithResponseStream).limit(Operation.Limit.PAYLOAD),
        Operation.post("ForwardedInvoke", InvokeForwarder.PATH, call -> hop(call.request(), call.body()))
            .limit(Operation.Limit.PAYLOAD).access(Operation.Access.HOP));
  }

  /**
   * An Invoke, read straight from the request: it is the hot path, and a directive per header and
   * parameter cost more than the invoke's own work. Bad input throws LambdaException.
   */
  CompletionStage<HttpResponse> respond(HttpRequest request, ByteString body, String requestId) {
    Iterator<String> segments = request.getUri().pathSegments().iterator();
    segments.next();
    segments.next();
    String reference = segments.next();
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, reference, request.getUri().query().get("Qualifier").orElse(null));
    String type = null;
    String logType = null;
    String clientContext = null;
    String token = null;
    for (HttpHeader header : request.getHeaders()) {
      switch (header.lowercaseName()) {
        case "x-amz-invocation-type" -> type = type == null ? header.value() : type;
        case "x-amz-log-type" -> logType = logType == null ? header.value() : logType;
        case "x-amz-client-context" -> clientContext = clientContext == null ? header.value() : clientContext;
        case TOKEN_HEADER -> token = token == null ? header.value() : token;
        default -> { }
      }
    }
    return invoke(requestId, ref, Optional.ofNullable(type), Optional.ofNullable(logType),
        Optional.ofNullable(clientContext), Optional.ofNullable(token), body);
  }

  /**
   * An invoke another node forwarded here: run on this node or refused, never forwarded again. A
   * streamed one answers as InvokeWithResponseStream does, which the other node reads as it comes.
   */
  private CompletionStage<HttpResponse> hop(HttpRequest request, ByteString body) {
    byte[] payload = body.toArray();
    InvokeForwarder.Hop hop = forwarder.verify(request, payload);
    String context = hop.clientContext() == null ? null : decodeClientContext(hop.clientContext());
    Invocation invocation = new Invocation(hop.requestId(), arns.functionArn(hop.function(), hop.qualifier()),
        payload, context, null, hop.logType().equals("Tail"), hop.stream());
    if (hop.stream()) {
      return run(hop, invocation, false, true).thenApply(InvokeRoutes::streamResponse);
    }
    if (hop.queuedUntil() > 0) {
      // The sender was told a slot was free here; if another took it meanwhile, this waits a short while.
      Dispatcher.Queued queued = Dispatcher.Queued.until(Math.min(hop.queuedUntil(),
          System.currentTimeMillis() + FORWARDED_WAIT.toMillis()));
      return dispatcher.deliver(hop.function(), hop.qualifier(), invocation, true, queued)
          .thenApply(r -> r instanceof Dispatcher.Ran ran ? response(ran.result(), ran.executedVersion())
              : Responses.error(r instanceof Dispatcher.Refused refused ? refused.error().toException()
                  : LambdaException.service("A forwarded delivery was not run on this node")));
    }
    return dispatch(hop, invocation, false, true);
  }

  /**
   * How an asynchronous queue's partition on this node runs its events: through this node's
   * Dispatcher, which starts each once a slot is free and its turn comes, or names a node that has
   * a slot free, where the payload goes by the same hop as a forwarded invoke. Each such hop's end
   * frees that node's slot for the next event waiting here.
   */
  AsyncQueueEntity.Deliverer deliverer() {
    return (function, qualifier, invocation, queued) -> dispatcher.deliver(function, qualifier, invocation, false,
        queued).thenCompose(result -> {
          if (!(result instanceof Dispatcher.Forward forward)) {
            return CompletableFuture.completedFuture(result);
          }
          InvokeForwarder.Hop hop = new InvokeForwarder.Hop(invocation.requestId(), function, qualifier, "None", null,
              false, queued.untilMillis(forward.async() == null ? null : forward.async().config()));
          return forwarder.forward(forward.url(), hop, invocation.payload())
              .thenApply(response -> delivered(forward, response))
              .whenComplete((delivered, failure) ->
                  dispatcher.forwardEnded(forward, delivered instanceof Dispatcher.Ran));
        });
  }

  /**
   * {@code InvokeWithResponseStream}: Invoke's checks and parameters (no Event type), answered as
   * an event stream of the function's chunks as it sends them, or of its whole payload when it did
   * not stream. Errors found before the function runs are AWS's JSON errors.
   */
  private CompletionStage<HttpResponse> invokeWithResponseStream(Operation.Call call) {
    HttpRequest request = call.request();
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, call.variable(0),
        request.getUri().query().get("Qualifier").orElse(null));
    String type = request.getHeader("X-Amz-Invocation-Type").map(HttpHeader::value).orElse("RequestResponse");
    if (!type.equals("RequestResponse") && !type.equals("DryRun")) {
      throw LambdaException.validation(type, "invocationType",
          "Member must satisfy enum value set: [RequestResponse, DryRun]");
    }
    String log = request.getHeader("X-Amz-Log-Type").map(HttpHeader::value).orElse("None");
    if (!log.equals("None") && !log.equals("Tail")) {
      throw LambdaException.validation(log, "logType", "Member must satisfy enum value set: [Tail, None]");
    }
    ByteString body = call.body();
    if (body.size() > MAX_PAYLOAD_BYTES) {
      throw LambdaException.requestTooLarge("Request must be smaller than " + MAX_PAYLOAD_BYTES
          + " bytes for the InvokeWithResponseStream operation");
    }
    byte[] payload = body.isEmpty() ? "{}".getBytes(StandardCharsets.UTF_8) : body.toArray();
    checkJson(payload);
    Optional<String> clientContext = request.getHeader("X-Amz-Client-Context").map(HttpHeader::value);
    String context = clientContext.map(InvokeRoutes::decodeClientContext).orElse(null);
    String requestId = call.requestId();
    Invocation invocation = new Invocation(requestId, arns.functionArn(ref.name(), ref.qualifier()), payload, context,
        null, log.equals("Tail"), true);
    InvokeForwarder.Hop hop = new InvokeForwarder.Hop(requestId, ref.name(), ref.qualifier(), log,
        clientContext.orElse(null), true);
    boolean dryRun = type.equals("DryRun");
    return run(hop, invocation, dryRun, false).thenApply(InvokeRoutes::streamResponse);
  }

  private static HttpResponse streamResponse(Outcome outcome) {
    return outcome instanceof Outcome.Ran ran
        ? ResponseStreams.invokeStream(ResponseStreams.Streamed.of(ran.result()), ran.executedVersion())
        : ((Outcome.Answered) outcome).response();
  }

  private CompletionStage<HttpResponse> invoke(String requestId, Arns.FunctionRef ref, Optional<String> type,
      Optional<String> logType, Optional<String> clientContext, Optional<String> token, ByteString body) {
    String invocationType = type.orElse("RequestResponse");
    if (!invocationType.equals("RequestResponse") && !invocationType.equals("DryRun")
        && !invocationType.equals("Event")) {
      throw LambdaException.validation(invocationType, "invocationType",
          "Member must satisfy enum value set: [Event, RequestResponse, DryRun]");
    }
    if (invocationType.equals("Event")) {
      // The event's id, in the 202 and everywhere after, comes from the intake: it picks the partition.
      return enqueue(intake.newRequestId(ref.name()), ref, body, token.map(InvokeRoutes::checkToken).orElse(null),
          MAX_EVENT_PAYLOAD_BYTES);
    }
    String log = logType.orElse("None");
    if (!log.equals("None") && !log.equals("Tail")) {
      throw LambdaException.validation(log, "logType", "Member must satisfy enum value set: [Tail, None]");
    }
    if (body.size() > MAX_PAYLOAD_BYTES) {
      throw LambdaException.requestTooLarge("Request must be smaller than " + MAX_PAYLOAD_BYTES
          + " bytes for the Invoke operation");
    }
    byte[] payload = body.isEmpty() ? "{}".getBytes(StandardCharsets.UTF_8) : body.toArray();
    checkJson(payload);
    String context = clientContext.map(InvokeRoutes::decodeClientContext).orElse(null);
    Invocation invocation = new Invocation(requestId, arns.functionArn(ref.name(), ref.qualifier()), payload, context,
        null, log.equals("Tail"));
    InvokeForwarder.Hop hop = new InvokeForwarder.Hop(requestId, ref.name(), ref.qualifier(), log,
        clientContext.orElse(null), false);
    return dispatch(hop, invocation, invocationType.equals("DryRun"), false);
  }

  /**
   * The legacy InvokeAsync (the body is the event, the function name may carry a qualifier): the
   * same queue as an Event Invoke, with AWS's smaller payload limit and AWS's {@code {"Status":202}}.
   */
  private CompletionStage<HttpResponse> invokeAsync(Operation.Call call) {
    Arns.FunctionRef ref = FunctionRoutes.ref(arns, call.variable(0), null);
    return enqueue(intake.newRequestId(ref.name()), ref, call.body(), null, MAX_INVOKE_ASYNC_PAYLOAD_BYTES)
        .thenApply(response -> response.status().intValue() != 202 ? response : response.withEntity(
            HttpEntities.create(ContentTypes.APPLICATION_JSON, Responses.bytes(new InvokeAsyncAnswer(202)))));
  }

  /**
   * An Event invoke: checked like a DryRun (function and qualifier exist), then its payload and its
   * place in the queue are written; 202 only once both are durable.
   */
  private CompletionStage<HttpResponse> enqueue(String requestId, Arns.FunctionRef ref, ByteString body,
                                                String token, int maxPayloadBytes) {
    if (body.size() > maxPayloadBytes) {
      throw LambdaException.requestTooLarge("Request must be smaller than " + maxPayloadBytes
          + " bytes for the InvokeAsync operation");
    }
    byte[] payload = body.isEmpty() ? "{}".getBytes(StandardCharsets.UTF_8) : body.toArray();
    checkJson(payload);
    InvokeForwarder.Hop check = new InvokeForwarder.Hop(requestId, ref.name(), ref.qualifier(), "None", null, false);
    Invocation invocation = new Invocation(requestId, arns.functionArn(ref.name(), ref.qualifier()), payload, null,
        null, false);
    return dispatch(check, invocation, true, false).thenCompose(checked -> {
      if (checked.status().intValue() != 204) {
        return CompletableFuture.completedFuture(checked);
      }
      CompletionStage<String> accepted = token == null
          ? intake.acceptNew(ref.name(), ref.qualifier(), payload)
          : intake.acceptOnce(ref.name(), ref.qualifier(), requestId, payload, token);
      return accepted
          .thenApply(id -> Responses.empty(202).addHeader(RawHeader.create(LambdaApi.REQUEST_ID, id)))
          .exceptionally(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
            throw LambdaException.service("The event was not accepted (" + cause.getMessage()
                + "); nothing was queued, retry the request.");
          });
    });
  }

  /** A forwarded delivery's answer (its entity strict, as {@link InvokeForwarder} passes it back) as the Dispatcher's. */
  static Dispatcher.Result delivered(Dispatcher.Forward forward, HttpResponse response) {
    byte[] body = ((HttpEntity.Strict) response.entity()).getData().toArray();
    if (response.status().intValue() == 200) {
      return new Dispatcher.Ran(new InvocationResult(body,
          response.getHeader("X-Amz-Function-Error").map(HttpHeader::value).orElse(null), null),
          response.getHeader("X-Amz-Executed-Version").map(HttpHeader::value).orElse(null), forward.async());
    }
    String message = new String(body, StandardCharsets.UTF_8);
    String reason = null;
    try {
      JsonNode error = JsonBody.MAPPER.readTree(body);
      message = error.path("message").asText(error.path("Message").asText(message));
      reason = error.hasNonNull("Reason") ? error.get("Reason").asText() : null;
    } catch (IOException e) {
      // Not AWS's error document (a proxy's page, say): its text is the message.
    }
    return new Dispatcher.Refused(new LambdaError(response.status().intValue(),
        response.getHeader("X-Amzn-ErrorType").map(HttpHeader::value).orElse("ServiceException"), message, reason),
        forward.async());
  }

  /**
   * What an invoke came to: the function ran on this node, or the answer was made elsewhere (a
   * refusal, or the node the invoke was forwarded to).
   */
  sealed interface Outcome {
    record Ran(InvocationResult result, String executedVersion) implements Outcome {}

    record Answered(HttpResponse response) implements Outcome {}
  }

  /**
   * A function URL's invoke ({@link FunctionUrlEndpoint}): the same Dispatcher, concurrency and
   * forwarding as Invoke; the endpoint turns the outcome into the URL's answer.
   */
  CompletionStage<Outcome> invokeForUrl(String requestId, String function, String qualifier, byte[] event,
                                        boolean stream) {
    Invocation invocation = new Invocation(requestId, arns.functionArn(function, qualifier), event, null, null, false,
        stream);
    return run(new InvokeForwarder.Hop(requestId, function, qualifier, "None", null, stream), invocation, false,
        false);
  }

  private CompletionStage<HttpResponse> dispatch(InvokeForwarder.Hop hop, Invocation invocation, boolean dryRun,
                                                 boolean forwarded) {
    return run(hop, invocation, dryRun, forwarded).thenApply(outcome -> outcome instanceof Outcome.Ran ran
        ? response(ran.result(), ran.executedVersion()) : ((Outcome.Answered) outcome).response());
  }

  private CompletionStage<Outcome> run(InvokeForwarder.Hop hop, Invocation invocation, boolean dryRun,
                                       boolean forwarded) {
    return dispatcher.invoke(hop.function(), hop.qualifier(), invocation, dryRun, forwarded)
        .thenCompose(r -> {
      if (r instanceof Dispatcher.Forward forward) {
        return forwarder.forward(forward.url(), hop, invocation.payload())
            .exceptionally(failure -> Responses.error(LambdaException.service("The invoke was forwarded to "
                + forward.url() + ", the node with free concurrency, and the hop failed: " + failure.getMessage())))
            .thenApply(Outcome.Answered::new);
      }
      if (r instanceof Dispatcher.Refused refused) {
        return CompletableFuture.completedFuture(new Outcome.Answered(Responses.error(refused.error().toException())));
      }
      if (dryRun) {
        return CompletableFuture.completedFuture(new Outcome.Answered(Responses.empty(204)));
      }
      Dispatcher.Ran ran = (Dispatcher.Ran) r;
      return CompletableFuture.completedFuture(new Outcome.Ran(ran.result(), ran.executedVersion()));
    });
  }

  private static HttpResponse response(InvocationResult result, String executedVersion) {
    HttpResponse response = HttpResponse.create().withStatus(200)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, result.payload()))
        .addHeader(RawHeader.create("X-Amz-Executed-Version", executedVersion));
    if (result.functionError() != null) {
      response = response.addHeader(RawHeader.create("X-Amz-Function-Error", result.functionError()));
    }
    if (result.logTail() != null) {
      response = response.addHeader(RawHeader.create("X-Amz-Log-Result",
          Base64.getEncoder().encodeToString(result.logTail().getBytes(StandardCharsets.UTF_8))));
    }
    return response;
  }

  /** AWS accepts any JSON value as a payload, and only JSON. */
  private static void checkJson(byte[] payload) {
    try (JsonParser parser = JsonBody.MAPPER.getFactory().createParser(payload)) {
      if (parser.nextToken() == null) {
        return;
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        throw new IOException("unexpected content after the JSON value");
      }
    } catch (IOException e) {
      String detail = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
      throw LambdaException.invalidRequestContent("Could not parse request body into json: " + detail);
    }
  }

  private static String checkToken(String token) {
    if (!TOKEN.matcher(token).matches()) {
      throw LambdaException.invalidParameter(CLIENT_TOKEN + " must be 1 to 128 printable ASCII characters"
          + " without spaces.");
    }
    return token;
  }

  private static String decodeClientContext(String base64) {
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw LambdaException.invalidRequestContent("Client context must be valid base64-encoded JSON.");
    }
    if (decoded.length > MAX_CLIENT_CONTEXT_BYTES) {
      throw LambdaException.invalidParameter("Client context must be at most " + MAX_CLIENT_CONTEXT_BYTES
          + " bytes once decoded.");
    }
    checkJson(decoded);
    return new String(decoded, StandardCharsets.UTF_8);
  }
}

package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.InvocationResult;
import io.tributary.api.ResponseStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.JavaFlowSupport;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The answers of streamed invokes, made as the bytes come and never held whole:
 * InvokeWithResponseStream's event stream ({@link EventStream}: {@code PayloadChunk}s, then
 * {@code InvokeComplete} with the error and the log tail), and a {@code RESPONSE_STREAM} function
 * URL's chunked response (with the function's HTTP prelude, if it sent one). A stream that another
 * node ran arrives as that node's event stream and is read back into the same {@link Streamed}.
 */
final class ResponseStreams {

  private ResponseStreams() {}

  /** AWS's InvokeComplete event; empty on success without a log tail. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record InvokeComplete(@JsonProperty("ErrorCode") String errorCode, @JsonProperty("ErrorDetails") String errorDetails,
                        @JsonProperty("LogResult") String logResult) {}

  /** A function's answer on its way: its Content-Type, its bytes, and how it ended. */
  record Streamed(String contentType, Source<ByteString, NotUsed> body, CompletionStage<ResponseStream.End> end) {

    /** What this node ran: a stream as the runtime sends it, or a whole payload as one. */
    static Streamed of(InvocationResult result) {
      ResponseStream stream = result.stream();
      if (stream != null) {
        Source<ByteString, NotUsed> body = JavaFlowSupport.Source.fromPublisher(stream.body())
            .map(ByteString::fromArrayUnsafe);
        return new Streamed(stream.contentType(), body, stream.end());
      }
      ResponseStream.End end = result.failed()
          ? new ResponseStream.End(result.functionError(), new String(result.payload(), StandardCharsets.UTF_8),
              result.logTail(), 0)
          : new ResponseStream.End(null, null, result.logTail(), result.payload().length);
      Source<ByteString, NotUsed> body = result.failed() || result.payload().length == 0 ? Source.empty()
          : Source.single(ByteString.fromArrayUnsafe(result.payload()));
      return new Streamed("application/json", body, CompletableFuture.completedFuture(end));
    }

    /**
     * Another node's InvokeWithResponseStream answer, read back: PayloadChunks are the body,
     * InvokeComplete the end; a stream cut before InvokeComplete ends as a truncated response.
     */
    static Streamed decoded(HttpResponse response) {
      CompletableFuture<ResponseStream.End> end = new CompletableFuture<>();
      long[] bytes = new long[1];
      Source<ByteString, NotUsed> body = response.entity().getDataBytes().via(EventStream.decoder())
          .mapConcat(message -> {
            if (message.eventType().equals("PayloadChunk")) {
              bytes[0] += message.payload().size();
              return List.of(message.payload());
            }
            if (message.eventType().equals("InvokeComplete")) {
              JsonNode complete = JsonBody.MAPPER.readTree(message.payload().toArray());
              end.complete(new ResponseStream.End(text(complete, "ErrorCode"), text(complete, "ErrorDetails"),
                  Optional.ofNullable(text(complete, "LogResult"))
                      .map(b64 -> new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8)).orElse(null),
                  bytes[0]));
            }
            return List.<ByteString>of();
          })
          .watchTermination((ignored, done) -> {
            done.whenComplete((ok, failure) -> end.complete(new ResponseStream.End("Runtime.TruncatedResponse",
                "The stream from the node that ran the function broke off"
                    + (failure == null ? "." : ": " + failure.getMessage()), null, bytes[0])));
            return NotUsed.getInstance();
          });
      String type = response.entity().getContentType().toString();
      return new Streamed(type, body, end);
    }

    private static String text(JsonNode node, String field) {
      JsonNode value = node.get(field);
      return value == null || value.isNull() ? null : value.asText();
    }
  }

  /** InvokeWithResponseStream's 200: the event stream, with the stream's Content-Type as AWS sends it. */
  static HttpResponse invokeStream(Streamed streamed, String executedVersion) {
    Source<ByteString, NotUsed> chunks = streamed.body()
        .recoverWithRetries(1, Throwable.class, Source::empty)
        .mapConcat(ResponseStreams::cut)
        .map(chunk -> EventStream.event("PayloadChunk", "application/octet-stream", chunk));
    Source<ByteString, NotUsed> complete = Source.completionStage(streamed.end())
        .map(end -> EventStream.event("InvokeComplete", "application/json", ByteString.fromArrayUnsafe(
            Responses.bytes(new InvokeComplete(end.errorType(), end.errorDetails(), end.logTail() == null ? null
                : Base64.getEncoder().encodeToString(end.logTail().getBytes(StandardCharsets.UTF_8)))))));
    return HttpResponse.create().withStatus(200)
        .addHeader(RawHeader.create("X-Amz-Executed-Version", executedVersion))
        .withEntity(HttpEntities.createChunked(contentType(streamed.contentType()), chunks.concat(complete)));
  }

  /** Payloads of at most {@link EventStream#MAX_PAYLOAD}, as AWS's event-stream decoders take them. */
  private static List<ByteString> cut(ByteString chunk) {
    if (chunk.size() <= EventStream.MAX_PAYLOAD) {
      return List.of(chunk);
    }
    List<ByteString> parts = new ArrayList<>();
    for (int at = 0; at < chunk.size(); at += EventStream.MAX_PAYLOAD) {
      parts.add(chunk.slice(at, Math.min(chunk.size(), at + EventStream.MAX_PAYLOAD)));
    }
    return parts;
  }

  /** How long a prelude may be before its 8 NUL bytes, as API Gateway reads Lambda's. */
  static final int MAX_PRELUDE = 16 * 1024;
  private static final ByteString DELIMITER = ByteString.fromArray(new byte[8]);

  /** A piece of a streamed URL response: the prelude, once, first; then body bytes. */
  private record Part(JsonNode prelude, ByteString body) {}

  /**
   * A RESPONSE_STREAM URL's answer, once its first bytes (or its end) are there: the function's
   * prelude gives status, headers and cookies ({@code application/vnd.awslambda.http-integration-response}),
   * else 200 with the stream's Content-Type. An error before any byte is AWS's 502; one after the
   * head went out aborts the connection, as a client can only learn of it so.
   */
  static CompletionStage<HttpResponse> urlResponse(Streamed streamed, Materializer materializer) {
    boolean preluded = streamed.contentType().startsWith(ResponseStream.HTTP_INTEGRATION);
    Source<Part, NotUsed> parts = preluded ? withPrelude(streamed.body())
        : streamed.body().map(bytes -> new Part(null, bytes));
    Source<ByteString, NotUsed> failIfFailed = Source.completionStage(streamed.end()).flatMapConcat(end ->
        end.failed() ? Source.failed(new IllegalStateException("the function's stream ended with " + end.errorType()))
            : Source.empty());
    return parts.prefixAndTail(1).runWith(Sink.head(), materializer).thenCompose(pair -> {
      List<Part> first = pair.first();
      Source<ByteString, NotUsed> rest = pair.second().map(Part::body);
      if (first.isEmpty()) {
        return streamed.end().thenApply(end -> end.failed() ? FunctionUrlEndpoint.internalError()
            : HttpResponse.create().withStatus(200).withEntity(HttpEntities.create(
                contentType(preluded ? ResponseStream.DEFAULT_CONTENT_TYPE : streamed.contentType()), new byte[0])));
      }
      Part head = first.get(0);
      Source<ByteString, NotUsed> body = head.prelude() == null ? Source.single(head.body()).concat(rest) : rest;
      body = body.filter(bytes -> !bytes.isEmpty()).concat(failIfFailed);
      if (head.prelude() == null) {
        return CompletableFuture.completedFuture(HttpResponse.create().withStatus(200).withEntity(
            HttpEntities.createChunked(contentType(preluded ? ResponseStream.DEFAULT_CONTENT_TYPE
                : streamed.contentType()), body)));
      }
      return CompletableFuture.completedFuture(fromPrelude(head.prelude(), body));
    }).exceptionally(failure -> FunctionUrlEndpoint.internalError());
  }

  private static HttpResponse fromPrelude(JsonNode prelude, Source<ByteString, NotUsed> body) {
    int status = prelude.path("statusCode").asInt(200);
    ContentType type = contentType(ResponseStream.DEFAULT_CONTENT_TYPE);
    List<HttpHeader> headers = new ArrayList<>();
    var fields = prelude.path("headers").fields();
    while (fields.hasNext()) {
      var h = fields.next();
      String value = h.getValue().isTextual() ? h.getValue().asText() : h.getValue().toString();
      String name = h.getKey().toLowerCase(java.util.Locale.ROOT);
      if (name.equals("content-type")) {
        type = contentType(value);
      } else if (!name.equals("content-length") && !name.equals("transfer-encoding")) {
        headers.add(RawHeader.create(h.getKey(), value));
      }
    }
    prelude.path("cookies").forEach(c -> headers.add(RawHeader.create("Set-Cookie", c.asText())));
    return HttpResponse.create().withStatus(status).withHeaders(headers)
        .withEntity(HttpEntities.createChunked(type, body));
  }

  /** The stream cut into its prelude (the JSON before the first 8 NUL bytes) and body bytes. */
  private static Source<Part, NotUsed> withPrelude(Source<ByteString, NotUsed> bytes) {
    return bytes.statefulMap(() -> new ByteString[] {ByteString.emptyByteString()}, (pending, data) -> {
      if (pending[0] == null) {
        return Pair.create(pending, List.of(new Part(null, data)));
      }
      ByteString all = pending[0].concat(data);
      int at = all.indexOfSlice(DELIMITER);
      if (at < 0) {
        if (all.size() > MAX_PRELUDE) {
          throw new IOException("the function's HTTP prelude has no end (8 NUL bytes) within " + MAX_PRELUDE
              + " bytes");
        }
        pending[0] = all;
        return Pair.create(pending, List.<Part>of());
      }
      pending[0] = null;
      JsonNode prelude = JsonBody.MAPPER.readTree(all.slice(0, at).toArray());
      return Pair.create(pending, List.of(new Part(prelude == null ? JsonBody.MAPPER.createObjectNode() : prelude, null),
          new Part(null, all.drop(at + DELIMITER.size()))));
    }, pending -> pending[0] == null || pending[0].isEmpty() ? Optional.empty()
        : Optional.of(List.of(new Part(null, pending[0]))))
        .mapConcat(list -> list)
        .filter(part -> part.prelude() != null || !part.body().isEmpty());
  }

  private static ContentType contentType(String value) {
    try {
      return ContentTypes.parse(value);
    } catch (RuntimeException e) {
      return ContentTypes.APPLICATION_OCTET_STREAM;
    }
  }
}

package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tributary.api.ResponseStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ResponseStreamsTest {

  private static ActorSystem<Void> system;
  private static Materializer materializer;

  @BeforeAll
  static void start() {
    system = ActorSystem.create(Behaviors.empty(), "response-streams-test");
    materializer = Materializer.matFromSystem(system);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static final CompletableFuture<ResponseStream.End> OK =
      CompletableFuture.completedFuture(new ResponseStream.End(null, null, null, 0));

  private static ResponseStreams.Streamed streamed(String type, CompletableFuture<ResponseStream.End> end,
      String... chunks) {
    return new ResponseStreams.Streamed(type, Source.from(List.of(chunks)).map(ByteString::fromString), end);
  }

  private static HttpResponse url(ResponseStreams.Streamed streamed) throws Exception {
    return ResponseStreams.urlResponse(streamed, materializer).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String body(HttpResponse response) throws Exception {
    return response.entity().toStrict(5_000, materializer).toCompletableFuture().get(10, TimeUnit.SECONDS)
        .getData().utf8String();
  }

  @Test
  void aPreludeCutAcrossChunksStillGivesStatusHeadersAndCookies() throws Exception {
    HttpResponse r = url(streamed(ResponseStream.HTTP_INTEGRATION, OK,
        "{\"statusCode\":404,\"headers\":{\"Content-Type\":\"text/plain\",\"X-A\":\"b\"},", "\"cookies\":[\"c=1\"]}\0\0\0",
        "\0\0\0\0\0not ", "found"));
    assertEquals(404, r.status().intValue());
    assertEquals("text/plain", r.entity().getContentType().mediaType().toString());
    List<String> headers = new java.util.ArrayList<>();
    r.getHeaders().forEach(h -> headers.add(h.name() + ": " + h.value()));
    assertEquals(List.of("X-A: b", "Set-Cookie: c=1"), headers);
    assertEquals("not found", body(r));
  }

  @Test
  void withoutAPreludeTheStreamIsA200OfItsOwnType() throws Exception {
    HttpResponse r = url(streamed("text/event-stream", OK, "data: 1\n\n", "data: 2\n\n"));
    assertEquals(200, r.status().intValue());
    assertEquals("text/event-stream", r.entity().getContentType().mediaType().toString());
    assertEquals("data: 1\n\ndata: 2\n\n", body(r));
  }

  @Test
  void aFailureBeforeAnyByteIsA502AndOneAfterAbortsTheBody() throws Exception {
    CompletableFuture<ResponseStream.End> failed = CompletableFuture.completedFuture(
        new ResponseStream.End("Error", "{\"errorMessage\":\"boom\"}", null, 0));
    HttpResponse early = url(streamed("application/octet-stream", failed));
    assertEquals(502, early.status().intValue());
    assertEquals("Internal Server Error", body(early));
    HttpResponse late = url(streamed("application/octet-stream", failed, "partial"));
    assertEquals(200, late.status().intValue());
    assertThrows(Exception.class, () -> body(late), "the client sees the response cut, not a clean end");
  }

  @Test
  void anInvokeStreamEndsWithInvokeCompleteCarryingTheError() throws Exception {
    CompletableFuture<ResponseStream.End> failed = CompletableFuture.completedFuture(
        new ResponseStream.End("TypeError", "{\"errorType\":\"TypeError\"}", "log line\n", 7));
    HttpResponse r = ResponseStreams.invokeStream(streamed("application/octet-stream", failed, "part", "ial"), "3");
    assertEquals("3", r.getHeader("X-Amz-Executed-Version").orElseThrow().value());
    List<EventStream.Message> messages = r.entity().getDataBytes().via(EventStream.decoder())
        .runWith(org.apache.pekko.stream.javadsl.Sink.seq(), materializer).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals(List.of("PayloadChunk", "PayloadChunk", "InvokeComplete"),
        messages.stream().map(EventStream.Message::eventType).toList());
    assertEquals("{\"ErrorCode\":\"TypeError\",\"ErrorDetails\":\"{\\\"errorType\\\":\\\"TypeError\\\"}\","
        + "\"LogResult\":\"bG9nIGxpbmUK\"}", messages.get(2).payload().decodeString(StandardCharsets.UTF_8));
  }

  @Test
  void aStreamReadBackFromAnotherNodeKeepsItsBytesAndItsEnd() throws Exception {
    CompletableFuture<ResponseStream.End> failed = CompletableFuture.completedFuture(
        new ResponseStream.End("Custom.Broken", "{}", null, 0));
    HttpResponse remote = ResponseStreams.invokeStream(streamed("text/plain", failed, "alpha ", "beta"), "$LATEST");
    ResponseStreams.Streamed back = ResponseStreams.Streamed.decoded(remote);
    assertEquals("text/plain", back.contentType());
    String bytes = back.body().runFold("", (all, b) -> all + b.utf8String(), materializer).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals("alpha beta", bytes);
    assertEquals("Custom.Broken", back.end().toCompletableFuture().get(10, TimeUnit.SECONDS).errorType());
  }

  @Test
  void theDecoderFindsMessagesInBytesCutAnywhere() throws Exception {
    ByteString all = EventStream.event("PayloadChunk", "application/octet-stream", ByteString.fromString("Hello"))
        .concat(EventStream.event("InvokeComplete", "application/json", ByteString.fromString("{}")));
    List<ByteString> cuts = new java.util.ArrayList<>();
    for (int at = 0; at < all.size(); at += 7) {
      cuts.add(all.slice(at, Math.min(all.size(), at + 7)));
    }
    List<EventStream.Message> messages = Source.from(cuts).via(EventStream.decoder())
        .runWith(org.apache.pekko.stream.javadsl.Sink.seq(), materializer).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals(List.of("PayloadChunk", "InvokeComplete"), messages.stream().map(EventStream.Message::eventType).toList());
    assertEquals("Hello", messages.get(0).payload().utf8String());
  }
}

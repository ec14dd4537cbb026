package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaAsyncClient;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import software.amazon.awssdk.services.lambda.model.InvokeResponseStreamUpdate;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamCompleteEvent;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.lambda.model.LogType;

/**
 * Response streaming end to end: InvokeWithResponseStream read by the AWS SDK for Java's async
 * client and by boto3, RESPONSE_STREAM function URLs read by curl, from Node's streamifyResponse, a
 * provided runtime that streams over the Runtime API itself, and an in-process Java stream handler.
 *
 * <p>That nothing holds a stream whole is shown, not timed: a gated function writes its first chunk
 * and then waits for a file that the test creates only once that chunk has reached it. Were the
 * answer buffered anywhere, the function would wait until its timeout and the test would fail.
 */
class ResponseStreamingIT {

  private static final String KEYSPACE = "it_streaming";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String NODE_CODE = """
      const fs = require('node:fs');
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      async function gate(path) {
        const deadline = Date.now() + 20000;
        while (!fs.existsSync(path)) {
          if (Date.now() > deadline) return false;
          await sleep(20);
        }
        return true;
      }
      exports.gated = awslambda.streamifyResponse(async (event, stream) => {
        stream.write('first;');
        stream.write((await gate(event.gate)) ? 'second' : 'the gate never opened');
        stream.end();
      });
      exports.failing = awslambda.streamifyResponse(async (event, stream) => {
        stream.write('partial');
        await sleep(50);
        throw new TypeError('boom mid-stream');
      });
      exports.page = awslambda.streamifyResponse(async (event, stream) => {
        stream = awslambda.HttpResponseStream.from(stream, { statusCode: 201,
          headers: { 'Content-Type': 'text/html', 'X-Made-By': 'stream' }, cookies: ['a=1', 'b=2; Secure'] });
        stream.write('<p>head</p>');
        if (event.rawPath === '/gated') {
          await gate(JSON.parse(event.body).gate);
        }
        stream.end('<p>tail</p>');
      });
      exports.big = awslambda.streamifyResponse(async (event, stream) => {
        const block = Buffer.alloc(1024 * 1024, 'x');
        for (let i = 0; i < event.mib; i++) {
          if (!stream.write(block)) await new Promise((resolve) => stream.once('drain', resolve));
        }
        stream.end();
      });
      exports.buffered = async (event) => ({ ok: true, got: event.n });
      """;
  /** A provided runtime of its own: it streams to the Runtime API with chunked encoding and an error trailer. */
  private static final String PROVIDED_BOOTSTRAP = """
      #!/usr/bin/env python3
      import base64, http.client, json, os
      host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
      while True:
          api = http.client.HTTPConnection(host, int(port))
          api.request("GET", "/2018-06-01/runtime/invocation/next")
          nxt = api.getresponse()
          event = json.loads(nxt.read())
          rid = nxt.getheader("Lambda-Runtime-Aws-Request-Id")
          api.putrequest("POST", "/2018-06-01/runtime/invocation/%s/response" % rid)
          api.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
          api.putheader("Content-Type", "text/plain")
          api.putheader("Transfer-Encoding", "chunked")
          api.putheader("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
          api.endheaders()
          for part in (b"alpha ", b"beta"):
              api.send(b"%x\\r\\n%s\\r\\n" % (len(part), part))
          trailer = b""
          if event.get("fail"):
              body = base64.b64encode(json.dumps({"errorType": "Custom.Broken", "errorMessage": "it broke"}).encode())
              trailer = b"Lambda-Runtime-Function-Error-Type: Custom.Broken\\r\\nLambda-Runtime-Function-Error-Body: %s\\r\\n" % body
          api.send(b"0\\r\\n" + trailer + b"\\r\\n")
          api.getresponse().read()
          api.close()
      """;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE,
      Map.of("tributary.runtime.streaming.max-response-size", "24MiB"));

  private static LambdaClient lambda;
  private static LambdaAsyncClient async;
  private static Path gates;

  @BeforeAll
  static void start() throws Exception {
    lambda = NODE.lambda();
    async = asyncClient(NODE.node().endpoint());
    NODE.closeAfter(async);
    gates = Files.createTempDirectory("stream-gates");
    byte[] zip = Zips.of(Map.of("index.js", NODE_CODE));
    for (String handler : List.of("gated", "failing", "page", "big", "buffered")) {
      lambda.createFunction(b -> b.functionName("node-" + handler).runtime("nodejs20.x").role(ROLE)
          .handler("index." + handler).timeout(30).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    }
    lambda.createFunction(b -> b.functionName("provided-stream").runtime("provided.al2023").role(ROLE)
        .handler("unused").code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(PROVIDED_BOOTSTRAP)))));
  }

  @AfterAll
  static void cleanUp() throws Exception {
    try (var files = Files.walk(gates)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** What the SDK's async client saw of one InvokeWithResponseStream. */
  record Seen(String contentType, String executedVersion, List<String> chunks, InvokeWithResponseStreamCompleteEvent complete) {
    String body() {
      return String.join("", chunks);
    }
  }

  /** The SDK's async client, the one that reads InvokeWithResponseStream, for a node. */
  static LambdaAsyncClient asyncClient(URI endpoint) {
    return LambdaAsyncClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            "AKIATRIBUTARYLOCAL01", "tributary-local-secret-do-not-use-in-production")))
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().readTimeout(Duration.ofSeconds(60)))
        .build();
  }

  private static Seen invokeStream(String function, String payload, LogType logType,
      java.util.function.Consumer<String> onChunk) {
    return invokeStream(async, function, payload, logType, onChunk);
  }

  static Seen invokeStream(LambdaAsyncClient async, String function, String payload, LogType logType,
      java.util.function.Consumer<String> onChunk) {
    List<String> chunks = new CopyOnWriteArrayList<>();
    AtomicReference<InvokeWithResponseStreamCompleteEvent> complete = new AtomicReference<>();
    AtomicReference<String> contentType = new AtomicReference<>();
    AtomicReference<String> version = new AtomicReference<>();
    InvokeWithResponseStreamResponseHandler handler = InvokeWithResponseStreamResponseHandler.builder()
        .onResponse(r -> {
          contentType.set(r.responseStreamContentType());
          version.set(r.executedVersion());
        })
        .subscriber(InvokeWithResponseStreamResponseHandler.Visitor.builder()
            .onPayloadChunk(c -> {
              String text = c.payload().asUtf8String();
              chunks.add(text);
              onChunk.accept(text);
            })
            .onInvokeComplete(complete::set)
            .build())
        .build();
    async.invokeWithResponseStream(b -> b.functionName(function).logType(logType)
        .payload(SdkBytes.fromUtf8String(payload)), handler).orTimeout(60, TimeUnit.SECONDS).join();
    return new Seen(contentType.get(), version.get(), chunks, complete.get());
  }

  @Test
  void theFirstChunkReachesTheSdkBeforeTheFunctionReturns() {
    Path gate = gates.resolve("sdk");
    Seen seen = invokeStream("node-gated", "{\"gate\":\"" + gate + "\"}", LogType.NONE, chunk -> {
      if (chunk.startsWith("first;")) {
        touch(gate);
      }
    });
    assertEquals("first;second", seen.body(), "the function saw the gate open: its first chunk had arrived");
    assertEquals("application/octet-stream", seen.contentType());
    assertEquals("$LATEST", seen.executedVersion());
    assertNull(seen.complete().errorCode());
    assertNull(seen.complete().logResult(), "no log tail unless asked for");
  }

  @Test
  void anErrorInMidStreamArrivesAfterWhatWasSentAsAwsSendsIt() {
    Seen seen = invokeStream("node-failing", "{}", LogType.TAIL, chunk -> { });
    assertEquals("partial", seen.body());
    assertEquals("TypeError", seen.complete().errorCode());
    assertTrue(seen.complete().errorDetails().contains("\"errorMessage\":\"boom mid-stream\""),
        seen.complete().errorDetails());
    String tail = new String(Base64.getDecoder().decode(seen.complete().logResult()), StandardCharsets.UTF_8);
    assertTrue(tail.contains("REPORT RequestId"), tail);
  }

  @Test
  void aFunctionThatDoesNotStreamAnswersInOneChunk() {
    Seen seen = invokeStream("node-buffered", "{\"n\":7}", LogType.NONE, chunk -> { });
    assertEquals(List.of("{\"ok\":true,\"got\":7}"), seen.chunks());
    assertNull(seen.complete().errorCode());
  }

  @Test
  void plainInvokeOfAStreamingFunctionGetsTheWholeStream() {
    var response = lambda.invoke(b -> b.functionName("node-page").payload(SdkBytes.fromUtf8String("{}")));
    String body = response.payload().asUtf8String();
    assertTrue(body.startsWith("{\"statusCode\":201,"), body);
    assertTrue(body.endsWith("\0\0\0\0\0\0\0\0<p>head</p><p>tail</p>"), "the prelude and the body, as AWS returns them");
  }

  @Test
  void aStreamIsBoundByItsOwnLimitNotByTheBufferedOnes() {
    Seen big = invokeStream("node-big", "{\"mib\":20}", LogType.NONE, chunk -> { });
    assertEquals(20 * 1024 * 1024, big.body().length(), "past Invoke's 6 MB and the HTTP server's 16 MB body limit");
    assertNull(big.complete().errorCode());
    Seen seen = invokeStream("node-big", "{\"mib\":30}", LogType.NONE, chunk -> { });
    assertEquals("Function.ResponseSizeTooLarge", seen.complete().errorCode());
    assertTrue(seen.body().length() <= 24 * 1024 * 1024, "nothing past the limit was sent: " + seen.body().length());
    var buffered = lambda.invoke(b -> b.functionName("node-big").payload(SdkBytes.fromUtf8String("{\"mib\":7}")));
    assertEquals("Unhandled", buffered.functionError(), "Invoke keeps its 6 MB limit for a streaming function");
    assertTrue(buffered.payload().asUtf8String().contains("Function.ResponseSizeTooLarge"));
  }

  @Test
  void aProvidedRuntimeStreamsThroughTheRuntimeApi() {
    Seen ok = invokeStream("provided-stream", "{}", LogType.NONE, chunk -> { });
    assertEquals("alpha beta", ok.body());
    assertEquals("text/plain", ok.contentType());
    assertNull(ok.complete().errorCode());
    Seen failed = invokeStream("provided-stream", "{\"fail\":true}", LogType.NONE, chunk -> { });
    assertEquals("alpha beta", failed.body());
    assertEquals("Custom.Broken", failed.complete().errorCode());
    assertTrue(failed.complete().errorDetails().contains("it broke"), failed.complete().errorDetails());
  }

  @Test
  void boto3ReadsTheEventStream() {
    JsonNode out = Boto3.run(NODE.node(), """
        r = lam.invoke_with_response_stream(FunctionName="provided-stream", Payload=b"{}")
        chunks, complete = [], None
        for event in r["EventStream"]:
            if "PayloadChunk" in event:
                chunks.append(event["PayloadChunk"]["Payload"].decode())
            if "InvokeComplete" in event:
                complete = event["InvokeComplete"]
        result = {"status": r["StatusCode"], "type": r["ResponseStreamContentType"], "chunks": "".join(chunks),
                  "complete": complete}
        """, Map.of());
    assertEquals(200, out.get("status").asInt());
    assertEquals("text/plain", out.get("type").asText());
    assertEquals("alpha beta", out.get("chunks").asText());
    assertFalse(out.get("complete").has("ErrorCode"));
  }

  @Test
  void aStreamedFunctionUrlSendsThePreludesStatusHeadersAndCookiesThenTheBodyAsItComes() throws Exception {
    String url = publicStreamingUrl("node-page");
    Path gate = gates.resolve("url");
    URI uri = URI.create(url);
    Process curl = new ProcessBuilder("curl", "-sS", "-i", "-N", "--resolve",
        uri.getHost() + ":" + uri.getPort() + ":127.0.0.1", "-H", "Content-Type: application/json",
        "--data-binary", "{\"gate\":\"" + gate + "\"}", url + "gated").start();
    InputStream out = curl.getInputStream();
    String head = readUntil(out, "<p>head</p>");
    touch(gate);
    String rest = new String(out.readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(curl.waitFor(60, TimeUnit.SECONDS));
    assertTrue(head.startsWith("HTTP/1.1 201"), head);
    String lower = head.toLowerCase(java.util.Locale.ROOT);
    assertTrue(lower.contains("transfer-encoding: chunked"), head);
    assertTrue(lower.contains("content-type: text/html"), head);
    assertTrue(lower.contains("x-made-by: stream"), head);
    assertTrue(lower.contains("set-cookie: a=1") && lower.contains("set-cookie: b=2; secure"), head);
    assertEquals("<p>tail</p>", rest, "the function went on only once the first bytes had reached curl");
  }

  @Test
  void aStreamedFunctionUrlOfAFunctionThatDoesNotStreamPassesItsAnswerAsItIs() throws Exception {
    String url = publicStreamingUrl("node-buffered");
    FunctionUrlIT.Reply reply = FunctionUrlIT.curl(url, "GET", Map.of(), null);
    assertEquals(200, reply.status());
    assertEquals("{\"ok\":true}", reply.body(), "statusCode/body shapes are not applied in RESPONSE_STREAM mode");
  }

  @Test
  void anInProcessJavaStreamHandlerStreams() {
    byte[] zip = Zips.javaHandler("StreamOut", """
        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
        import java.io.*;
        import java.nio.charset.StandardCharsets;
        import java.nio.file.*;
        public class StreamOut implements RequestStreamHandler {
          public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
            String gate = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll(".*\\"gate\\":\\"([^\\"]+)\\".*", "$1");
            out.write("first;".getBytes(StandardCharsets.UTF_8));
            out.flush();
            long deadline = System.currentTimeMillis() + 20000;
            while (!Files.exists(Path.of(gate)) && System.currentTimeMillis() < deadline) {
              try { Thread.sleep(20); } catch (InterruptedException e) { throw new IOException(e); }
            }
            out.write((Files.exists(Path.of(gate)) ? "second" : "the gate never opened").getBytes(StandardCharsets.UTF_8));
          }
        }
        """);
    lambda.createFunction(b -> b.functionName("java-stream").runtime("java17").role(ROLE).handler("StreamOut")
        .timeout(30).environment(e -> e.variables(Map.of("TRIBUTARY_JAVA_MODE", "in-process")))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
    Path gate = gates.resolve("java");
    Seen seen = invokeStream("java-stream", "{\"gate\":\"" + gate + "\"}", LogType.NONE, chunk -> {
      if (chunk.startsWith("first;")) {
        touch(gate);
      }
    });
    assertEquals("first;second", seen.body());
    assertNull(seen.complete().errorCode());
  }

  /** A RESPONSE_STREAM URL of AuthType NONE on {@code function}, with the two statements AWS requires. */
  private static String publicStreamingUrl(String function) {
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(function).authType(FunctionUrlAuthType.NONE)
        .invokeMode(InvokeMode.RESPONSE_STREAM)).functionUrl();
    allowPublic(function);
    return url;
  }

  private static void allowPublic(String function) {
    lambda.addPermission(b -> b.functionName(function).statementId("url").principal("*")
        .action("lambda:InvokeFunctionUrl").functionUrlAuthType(FunctionUrlAuthType.NONE));
    lambda.addPermission(b -> b.functionName(function).statementId("url-invoke").principal("*")
        .action("lambda:InvokeFunction").invokedViaFunctionUrl(true));
  }

  private static String readUntil(InputStream in, String marker) throws Exception {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      seen.write(b);
      if (seen.toString(StandardCharsets.UTF_8).endsWith(marker)) {
        return seen.toString(StandardCharsets.UTF_8);
      }
    }
    throw new AssertionError("the stream ended before " + marker + ": " + seen.toString(StandardCharsets.UTF_8));
  }

  private static void touch(Path file) {
    try {
      Files.writeString(file, "open");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

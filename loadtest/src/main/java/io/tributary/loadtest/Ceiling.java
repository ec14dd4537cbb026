package io.tributary.loadtest;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.LambdaException;
import io.tributary.http.SigV4Verifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.StringUnmarshallers;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The ceiling of the warm benchmarks, run as its own JVM ({@code java -cp ... Ceiling <port>
 * [sigv4]}): a bare Pekko HTTP server answering every request, whatever its method, path and Host,
 * with 200 and the no-op function's answer ({@link UrlBenchmark#BODY}). No actors, no function: what
 * Pekko HTTP alone costs. It uses the node's configuration (dispatcher size, HTTP server settings)
 * with a local actor provider, so the two differ only by what the node does per request. Prints
 * "ceiling ready" once bound, and runs until killed.
 *
 * <p>With {@code sigv4}, a request that carries an {@code Authorization} header is first checked by
 * the node's own {@link SigV4Verifier}, with its development key pair, on the body read as the node
 * reads an invoke's (answered 403 if it fails): the ceiling of what a signed Invoke must cost.
 *
 * <p>For {@link ResponseStreamBenchmark}, {@code GET /chunked?mib=N} answers N MiB of 'x' as a
 * chunked response of 1 MiB chunks, made as they are read, as a streamed function URL's answer is.
 */
public final class Ceiling extends AllDirectives {

  static final int PORT = 9521;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    boolean sigv4 = args.length > 1 && args[1].equals("sigv4");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ceiling",
        ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
    var http = Http.get(system).newServerAt("127.0.0.1", port);
    (sigv4 ? http.bind(verifying(Materializer.matFromSystem(system))) : http.bind(new Ceiling().route()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println("ceiling ready");
  }

  /** The ceiling in its own JVM on {@link #PORT}, with the node's heap and this classpath; {@code sigv4} as above. */
  static Process start(boolean sigv4) throws IOException {
    Path log = Files.createTempFile("tributary-ceiling", ".log");
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-Dpekko.loglevel=WARNING",
        "-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", ""),
        "-cp", System.getProperty("java.class.path"), Ceiling.class.getName(), Integer.toString(PORT),
        sigv4 ? "sigv4" : "plain")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    System.out.println("ceiling starting (log: " + log + ")");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.readString(log).contains("ceiling ready")) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        process.destroy();
        throw new IllegalStateException("the ceiling did not start; see " + log);
      }
      ColdStartBenchmark.sleep(200);
    }
    return process;
  }

  private static final HttpResponse OK = HttpResponse.create()
      .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, UrlBenchmark.BODY));

  /** As the node's handler takes an invoke: the body as it arrived whole, no routing DSL. */
  private static org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> verifying(
      Materializer materializer) {
    SigV4Verifier verifier = new SigV4Verifier(Map.of(InvokeBenchmark.KEY, InvokeBenchmark.SECRET),
        Duration.ofMinutes(5));
    return request -> {
      if (request.getHeader("Authorization").isEmpty()) {
        return CompletableFuture.completedFuture(OK);
      }
      CompletionStage<ByteString> body = request.entity() instanceof HttpEntity.Strict strict
          ? CompletableFuture.completedFuture(strict.getData())
          : request.entity().toStrict(5_000, materializer).thenApply(HttpEntity.Strict::getData);
      return body.thenApply(bytes -> {
        try {
          verifier.verify(request, bytes, Instant.now());
          return OK;
        } catch (LambdaException e) {
          return HttpResponse.create().withStatus(e.status());
        }
      });
    };
  }

  private static final ByteString MIB = ByteString.fromArray("x".repeat(1024 * 1024).getBytes(StandardCharsets.US_ASCII));

  private Route route() {
    return concat(
        path("chunked", () -> parameter(StringUnmarshallers.INTEGER, "mib", mib -> complete(HttpResponse.create()
            .withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM,
                Source.repeat(MIB).take(mib)))))),
        extractRequest(request -> complete(OK)));
  }
}

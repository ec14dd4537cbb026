package io.tributary.loadtest;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.StringUnmarshallers;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The ceiling of {@link UrlBenchmark}, run as its own JVM ({@code java -cp ... Ceiling <port>}): a
 * bare Pekko HTTP server answering every request, whatever its method, path and Host, with 200 and
 * the no-op function's answer ({@link UrlBenchmark#BODY}). No SigV4, no actors, no function: what
 * Pekko HTTP alone costs. It uses the node's configuration (dispatcher size, HTTP server settings)
 * with a local actor provider, so the two differ only by what the node does per request. Prints
 * "ceiling ready" once bound, and runs until killed.
 *
 * <p>For {@link ResponseStreamBenchmark}, {@code GET /chunked?mib=N} answers N MiB of 'x' as a
 * chunked response of 1 MiB chunks, made as they are read, as a streamed function URL's answer is.
 */
public final class Ceiling extends AllDirectives {

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "ceiling",
        ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
    Http.get(system).newServerAt("127.0.0.1", port).bind(new Ceiling().route()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    System.out.println("ceiling ready");
  }

  private static final ByteString MIB = ByteString.fromArray("x".repeat(1024 * 1024).getBytes(StandardCharsets.US_ASCII));

  private Route route() {
    return concat(
        path("chunked", () -> parameter(StringUnmarshallers.INTEGER, "mib", mib -> complete(HttpResponse.create()
            .withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM,
                Source.repeat(MIB).take(mib)))))),
        extractRequest(request -> complete(HttpResponse.create()
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, UrlBenchmark.BODY)))));
  }
}

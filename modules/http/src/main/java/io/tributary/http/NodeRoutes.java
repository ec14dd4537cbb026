package io.tributary.http;

import io.tributary.api.LambdaException;
import io.tributary.cluster.store.CodeStore;
import io.tributary.http.Operation.Access;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * What the node answers without a SigV4 signature: liveness and readiness for orchestrators, the
 * Prometheus metrics, and code downloads by the presigned URLs of GetFunction's
 * {@code Code.Location}, streamed chunk by chunk from the code store.
 */
final class NodeRoutes {

  private final CodeStore codeStore;
  private final CodeUrls codeUrls;
  private final Metrics metrics;
  private final BooleanSupplier ready;

  NodeRoutes(CodeStore codeStore, CodeUrls codeUrls, Metrics metrics, BooleanSupplier ready) {
    this.codeStore = codeStore;
    this.codeUrls = codeUrls;
    this.metrics = metrics;
    this.ready = ready;
  }

  List<Operation> operations() {
    return List.of(
        Operation.get("Health", "/health/alive", call -> done(HttpResponse.create().withEntity("alive")))
            .access(Access.OPEN),
        Operation.get("Health", "/health/ready", call -> done(ready.getAsBoolean()
            ? HttpResponse.create().withEntity("ready") : Responses.empty(503).withEntity("not ready")))
            .access(Access.OPEN),
        Operation.get("Metrics", "/metrics", call -> done(HttpResponse.create().withEntity(
            HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.render())))).access(Access.OPEN),
        Operation.get("DownloadCode", "/tributary/code/{CodeSha256}",
            call -> downloadCode(call.variable(0), call.parameter("expires"), call.parameter("signature")))
            .access(Access.OPEN));
  }

  private CompletionStage<HttpResponse> downloadCode(String sha256Hex, String expires, String signature) {
    if (!codeUrls.valid(sha256Hex, expires, signature)) {
      return done(Responses.error(new LambdaException(403, "AccessDeniedException",
          "The code URL has expired or its signature is wrong: call GetFunction again for a fresh Code.Location.")));
    }
    return codeStore.find(sha256Hex).thenApply(found -> found
        .map(stored -> HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM,
            stored.size(), Source.range(0, stored.chunks() - 1)
                .mapAsync(1, i -> codeStore.readChunk(sha256Hex, i))
                .map(ByteString::fromByteBuffer))))
        .orElseGet(() -> Responses.error(LambdaException.notFound("No code package " + sha256Hex))));
  }

  private static CompletionStage<HttpResponse> done(HttpResponse response) {
    return CompletableFuture.completedFuture(response);
  }
}

package io.tributary.connectors;

import io.tributary.api.Destination;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * An HTTP(S) endpoint: each message one POST of its body as JSON. Any 2xx accepts it; 408, 429
 * and 5xx (and no answer) are retried; any other status rejects it.
 */
final class WebhookDestination implements Destination {
  /** What of a refusal's body goes into the log. */
  private static final int EXCERPT = 300;
  private final HttpClient client;
  private final URI uri;
  private final Duration timeout;

  WebhookDestination(HttpClient client, URI uri, Duration timeout) {
    this.client = client;
    this.uri = uri;
    this.timeout = timeout;
  }

  @Override
  public CompletionStage<Void> send(Message message) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(message.body()));
    if (message.key() != null) {
      request.header("X-Tributary-Message-Id", message.key());
    }
    message.attributes().forEach((name, value) -> request.header("X-Tributary-" + name, String.valueOf(value)));
    return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        return null;
      }
      String body = response.body() == null ? "" : response.body();
      String why = uri + " answered " + status + ": " + (body.length() > EXCERPT ? body.substring(0, EXCERPT) + "…" : body);
      if (status == 408 || status == 429 || status >= 500) {
        throw new CompletionException(new java.io.IOException(why));
      }
      throw new Rejected(why, null);
    });
  }

  @Override
  public String toString() {
    return uri.toString();
  }
}

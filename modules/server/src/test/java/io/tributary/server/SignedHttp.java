package io.tributary.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** Raw requests signed with the SDK's own SigV4 signer, for bodies no SDK would send (malformed JSON). */
final class SignedHttp {

  private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect", "upgrade");
  private final HttpClient http = HttpClient.newHttpClient();
  private final URI endpoint;

  SignedHttp(URI endpoint) {
    this.endpoint = endpoint;
  }

  HttpResponse<String> send(String method, String pathAndQuery, String body) throws Exception {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    return send(method, pathAndQuery, bytes, true);
  }

  HttpResponse<String> send(String method, String pathAndQuery, byte[] bytes, boolean sign) throws Exception {
    return send(method, pathAndQuery, bytes, sign, Map.of());
  }

  /** With {@code headers} signed too, e.g. the {@code X-Amz-Target} of the CloudWatch Logs API. */
  HttpResponse<String> send(String method, String pathAndQuery, byte[] bytes, boolean sign, Map<String, String> headers)
      throws Exception {
    URI uri = URI.create(endpoint + pathAndQuery);
    SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri)
        .putHeader("Content-Type", "application/json");
    headers.forEach(unsigned::putHeader);
    SdkHttpRequest request = unsigned.build();
    HttpRequest.Builder out = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.ofByteArray(bytes));
    if (sign) {
      SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
          .identity(AwsCredentialsIdentity.create(TestNode.ACCESS_KEY, TestNode.SECRET_KEY))
          .request(request)
          .payload(ContentStreamProvider.fromByteArray(bytes))
          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
          .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
      signed.request().headers().forEach((name, values) -> {
        if (!RESTRICTED.contains(name.toLowerCase())) {
          values.forEach(v -> out.header(name, v));
        }
      });
    } else {
      out.header("Content-Type", "application/json");
      headers.forEach(out::header);
    }
    return http.send(out.build(), HttpResponse.BodyHandlers.ofString());
  }
}

package io.tributary.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.http.client.Request;
import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.ResourceConflictException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * What every simulation is pointed at and how hard it pushes, from system properties (given to
 * Maven with -D):
 *
 * <ul>
 *   <li>{@code tributary.endpoint} (http://127.0.0.1:9000): any node of the cluster;
 *   <li>{@code tributary.access-key} / {@code tributary.secret-key} / {@code tributary.region}
 *       (the development pair, us-east-1): every Lambda API request is SigV4-signed with them, one
 *       signature per request, by the AWS SDK's signer through Gatling's {@code sign} hook;
 *   <li>{@code rate} (50) arrivals per second, reached by a ramp of {@code ramp} (10) seconds and
 *       held for {@code duration} (60) seconds: an open model, arrivals do not wait for answers;
 *   <li>{@code p99} (250) ms and {@code errors} (1) %: the assertions the run must pass;
 *   <li>{@code connections} (shared): {@code per-user} for a connection per arrival ({@link #plain}).
 * </ul>
 *
 * <p>Each simulation creates the function it calls if it is not there (a python3.11 echo), so a fresh
 * cluster needs nothing first.
 */
final class Target {

  static final String ENDPOINT = System.getProperty("tributary.endpoint", "http://127.0.0.1:9000");
  static final String ACCESS_KEY = System.getProperty("tributary.access-key", "AKIATRIBUTARYLOCAL01");
  static final String SECRET_KEY = System.getProperty("tributary.secret-key",
      "tributary-local-secret-do-not-use-in-production");
  static final String REGION = System.getProperty("tributary.region", "us-east-1");
  static final double RATE = Double.parseDouble(System.getProperty("rate", "50"));
  static final long RAMP = Long.getLong("ramp", 10);
  static final long DURATION = Long.getLong("duration", 60);
  static final int P99_MS = Integer.getInteger("p99", 250);
  static final double ERRORS_PERCENT = Double.parseDouble(System.getProperty("errors", "1"));

  private static final AwsV4HttpSigner SIGNER = AwsV4HttpSigner.create();
  private static final AwsCredentialsIdentity IDENTITY = AwsCredentialsIdentity.create(ACCESS_KEY, SECRET_KEY);

  private Target() {
  }

  /** The Lambda API, every request signed for service {@code lambda}. */
  static HttpProtocolBuilder lambdaApi() {
    return plain().sign(request -> sign(request, "lambda"));
  }

  /** EventBridge's API on the same endpoint, every request signed for service {@code events}. */
  static HttpProtocolBuilder eventsApi() {
    return plain().sign(request -> sign(request, "events"));
  }

  /**
   * Unsigned HTTP to the endpoint. Virtual users share a pool of keep-alive connections, as the
   * SDKs and internal services' clients do; {@code -Dconnections=per-user} gives each arrival a
   * connection of its own, as browsers would.
   */
  static HttpProtocolBuilder plain() {
    HttpProtocolBuilder protocol = http.baseUrl(ENDPOINT).contentTypeHeader("application/json");
    return "per-user".equals(System.getProperty("connections")) ? protocol : protocol.shareConnections();
  }

  /** The open model: a ramp to {@code rate} arrivals per second, then {@code rate} held. */
  static OpenInjectionStep[] arrivals() {
    return new OpenInjectionStep[] {
        rampUsersPerSec(Math.min(1, RATE)).to(RATE).during(Duration.ofSeconds(RAMP)),
        constantUsersPerSec(RATE).during(Duration.ofSeconds(DURATION))};
  }

  static List<Assertion> assertions() {
    return List.of(global().responseTime().percentile(99.0).lt(P99_MS),
        global().failedRequests().percent().lt(ERRORS_PERCENT));
  }

  /**
   * SigV4 over what Gatling is about to send: method, URL, the headers it set, the body's bytes.
   * Gatling adds its own {@code Host} later; the signer signs the URL's authority, which is what
   * arrives.
   */
  static Request sign(Request request, String service) {
    URI uri = URI.create(request.getUri().toUrl());
    SdkHttpRequest.Builder unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(
        request.getMethod().name())).uri(uri);
    request.getHeaders().forEach(h -> {
      if (!h.getKey().equalsIgnoreCase("host")) {
        unsigned.appendHeader(h.getKey(), h.getValue());
      }
    });
    byte[] body = request.getBody() == null ? new byte[0] : request.getBody().getBytes();
    var signed = SIGNER.sign(r -> r.identity(IDENTITY).request(unsigned.build())
        .payload(ContentStreamProvider.fromByteArray(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, service)
        .putProperty(AwsV4HttpSigner.REGION_NAME, REGION));
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host")) {
        request.getHeaders().set(name, values.get(0));
      }
    });
    return request;
  }

  static LambdaClient lambda() {
    return LambdaClient.builder().endpointOverride(URI.create(ENDPOINT)).region(Region.of(REGION))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  static software.amazon.awssdk.services.eventbridge.EventBridgeClient events() {
    return software.amazon.awssdk.services.eventbridge.EventBridgeClient.builder().endpointOverride(URI.create(ENDPOINT))
        .region(Region.of(REGION))
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  /** Creates {@code name}, a python3.11 function that answers its event, unless it exists. */
  static void echoFunction(LambdaClient lambda, String name) {
    try {
      lambda.getFunction(b -> b.functionName(name));
      return;
    } catch (ResourceNotFoundException absent) {
      // Created below.
    }
    try {
      lambda.createFunction(b -> b.functionName(name).runtime("python3.11").handler("app.handler")
          .role("arn:aws:iam::000000000000:role/gatling").timeout(10)
          .code(c -> c.zipFile(SdkBytes.fromByteArray(zip("app.py",
              "def handler(event, context):\n    return event\n")))));
    } catch (ResourceConflictException raced) {
      // Another run created it meanwhile.
    }
  }

  private static byte[] zip(String name, String content) {
    var bytes = new java.io.ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(name));
      zip.write(content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      zip.closeEntry();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static String function(String fallback) {
    return System.getProperty("function", fallback);
  }
}

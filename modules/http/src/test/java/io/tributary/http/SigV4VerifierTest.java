package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.LambdaException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

class SigV4VerifierTest {

  private static final String KEY_ID = "AKIDEXAMPLE";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  private static final Instant SIGNED_AT = Instant.parse("2026-01-02T03:04:05Z");
  private static final String ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";
  private static final String MISMATCH = "The request signature we calculated does not match the"
      + " signature you provided. Check your AWS Secret Access Key and signing method. Consult the"
      + " service documentation for details.";

  private final SigV4Verifier verifier = new SigV4Verifier(Map.of(KEY_ID, SECRET), Duration.ofMinutes(5));

  /** A request as it arrives: raw path and query exactly as they were on the wire. */
  private record Wire(String method, String path, String query,
      List<Map.Entry<String, String>> headers, byte[] body) {

    Wire withPath(String newPath) {
      return new Wire(method, newPath, query, headers, body);
    }

    Wire withQuery(String newQuery) {
      return new Wire(method, path, newQuery, headers, body);
    }

    Wire withBody(byte[] newBody) {
      return new Wire(method, path, query, headers, newBody);
    }

    Wire withHeaders(List<Map.Entry<String, String>> newHeaders) {
      return new Wire(method, path, query, newHeaders, body);
    }

    Wire withoutHeader(String name) {
      return withHeaders(headers.stream().filter(h -> !h.getKey().equalsIgnoreCase(name)).toList());
    }
  }

  @Test
  void acceptsPostWithJsonBody() {
    Wire wire = sign(request(SdkHttpMethod.POST, "/2015-03-31/functions/my-fn/invocations")
        .putHeader("Content-Type", "application/json")
        .putHeader("X-Amz-Invocation-Type", "RequestResponse"), json("{\"hello\": \"world\"}"));

    assertEquals(KEY_ID, verify(wire, SIGNED_AT.plusSeconds(1)));
  }

  @Test
  void acceptsFunctionArnInPath() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions/" + SdkHttpUtils.urlEncode(ARN)), new byte[0]);

    assertEquals("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn",
        wire.path());
    assertEquals(KEY_ID, verify(wire, SIGNED_AT));
  }

  @Test
  void acceptsQueryWithQualifierMarkerAndMaxItems() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions/" + SdkHttpUtils.urlEncode(ARN) + "/aliases")
        .putRawQueryParameter("Qualifier", "$LATEST")
        .putRawQueryParameter("MaxItems", "50")
        .putRawQueryParameter("Marker", ""), new byte[0]);

    assertTrue(wire.query().contains("Qualifier=%24LATEST"), wire.query());
    assertEquals(KEY_ID, verify(wire, SIGNED_AT));
    assertEquals(KEY_ID, verify(wire.withQuery("MaxItems=50&Qualifier=$LATEST&Marker"), SIGNED_AT));
  }

  @Test
  void normalisesQueryEncodingOfSpacesAndReservedCharacters() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions")
        .putRawQueryParameter("Marker", "a b+c/=~*$:é")
        .putRawQueryParameter("FunctionVersion", "ALL"), new byte[0]);

    assertEquals(KEY_ID, verify(wire.withQuery("FunctionVersion=ALL&Marker=a+b%2bc/%3d%7E*$:%C3%A9"), SIGNED_AT));
  }

  @Test
  void acceptsOneMegabyteBody() {
    byte[] body = new byte[1024 * 1024];
    Arrays.fill(body, (byte) 'x');
    Wire wire = sign(request(SdkHttpMethod.POST, "/2015-03-31/functions/my-fn/invocations"), body);

    assertEquals(KEY_ID, verify(wire, SIGNED_AT));
  }

  @Test
  void acceptsAnyRegionAndCanonicalisesHeaderValues() {
    Wire wire = sign(request(SdkHttpMethod.PUT, "/2017-10-31/functions/my-fn/concurrency")
        .putHeader("X-Custom", List.of("  a   b\tc ", "d")), json("{}"), r -> r.putProperty(AwsV4HttpSigner.REGION_NAME, "eu-central-1"));
    List<Map.Entry<String, String>> headers = new ArrayList<>(wire.headers());
    headers.replaceAll(h -> h.getKey().equals("X-Custom") ? Map.entry("x-CUSTOM", h.getValue() + "  ") : h);

    assertEquals(KEY_ID, verify(wire.withHeaders(headers), SIGNED_AT));
  }

  @Test
  void acceptsUnsignedPayloadOverHttps() {
    Wire wire = sign(request(SdkHttpMethod.POST, "/2015-03-31/functions/my-fn/invocations").protocol("https"),
        json("{}"), r -> r.putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false));

    assertTrue(wire.headers().contains(Map.entry("x-amz-content-sha256", "UNSIGNED-PAYLOAD")), wire.headers().toString());
    assertEquals(KEY_ID, verify(wire, SIGNED_AT));
  }

  @Test
  void acceptsPresignedUrlUntilItExpires() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions/" + SdkHttpUtils.urlEncode(ARN))
        .putRawQueryParameter("Qualifier", "$LATEST"), new byte[0],
        r -> r.putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4HttpSigner.AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, Duration.ofMinutes(15)));

    assertTrue(wire.query().contains("X-Amz-Signature="), wire.query());
    assertEquals(KEY_ID, verify(wire, SIGNED_AT.plus(Duration.ofMinutes(14))));
    assertError("InvalidSignatureException",
        "Signature expired: 20260102T030405Z is now earlier than 20260102T030406Z (20260102T031906Z - 15 min.)",
        wire, SIGNED_AT.plus(Duration.ofSeconds(901)));
    assertError("InvalidSignatureException", MISMATCH,
        wire.withQuery(wire.query().replace("%24LATEST", "1")), SIGNED_AT);
  }

  @Test
  void rejectsTamperedBody() {
    Wire wire = sign(request(SdkHttpMethod.POST, "/2015-03-31/functions/my-fn/invocations"), json("{\"a\":1}"));

    assertError("InvalidSignatureException", MISMATCH, wire.withBody(json("{\"a\":2}")), SIGNED_AT);
    assertError("InvalidSignatureException", MISMATCH,
        wire.withBody(json("{\"a\":2}")).withoutHeader("x-amz-content-sha256"), SIGNED_AT);
  }

  @Test
  void rejectsTamperedPathAndQuery() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions/" + SdkHttpUtils.urlEncode(ARN))
        .putRawQueryParameter("Qualifier", "1"), new byte[0]);

    assertError("InvalidSignatureException", MISMATCH, wire.withPath(wire.path().replace("my-fn", "other")), SIGNED_AT);
    assertError("InvalidSignatureException", MISMATCH, wire.withPath(wire.path().replace("%3A", ":")), SIGNED_AT);
    assertError("InvalidSignatureException", MISMATCH, wire.withQuery("Qualifier=2"), SIGNED_AT);
  }

  @Test
  void rejectsWrongSecret() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]);
    SigV4Verifier other = new SigV4Verifier(Map.of(KEY_ID, "not-the-secret"), Duration.ofMinutes(5));

    LambdaException e = assertThrows(LambdaException.class,
        () -> other.verify(wire.method(), wire.path(), wire.query(), wire.headers(), wire.body(), SIGNED_AT));
    assertEquals("InvalidSignatureException", e.errorType());
    assertEquals(MISMATCH, e.getMessage());
  }

  @Test
  void rejectsUnknownAccessKey() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0],
        r -> r.identity(AwsCredentialsIdentity.create("AKIDUNKNOWN", SECRET)));

    assertError("UnrecognizedClientException", "The security token included in the request is invalid.", wire, SIGNED_AT);
  }

  @Test
  void rejectsDatesOutsideTheClockSkew() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]);

    assertEquals(KEY_ID, verify(wire, SIGNED_AT.plus(Duration.ofMinutes(5))));
    assertError("InvalidSignatureException",
        "Signature expired: 20260102T030405Z is now earlier than 20260102T030406Z (20260102T030906Z - 5 min.)",
        wire, SIGNED_AT.plus(Duration.ofSeconds(301)));
    assertError("InvalidSignatureException",
        "Signature not yet current: 20260102T030405Z is still later than 20260102T030404Z (20260102T025904Z + 5 min.)",
        wire, SIGNED_AT.minus(Duration.ofSeconds(301)));
  }

  @Test
  void rejectsMissingAuthentication() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]).withoutHeader("Authorization");

    assertError("MissingAuthenticationTokenException", "Missing Authentication Token", wire, SIGNED_AT);
  }

  @Test
  void rejectsMalformedAuthorization() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]);
    String scope = KEY_ID + "/20260102/us-east-1/lambda/aws4_request";

    assertError("IncompleteSignatureException",
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."
            + " Authorization=AWS4-HMAC-SHA256 Credential=" + scope,
        withAuthorization(wire, "AWS4-HMAC-SHA256 Credential=" + scope), SIGNED_AT);
    assertError("IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter."
            + " Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of"
            + " either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc",
        withAuthorization(wire, "Bearer abc").withoutHeader("X-Amz-Date"), SIGNED_AT);
    assertError("IncompleteSignatureException",
        "'junk' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 junk'.",
        withAuthorization(wire, "AWS4-HMAC-SHA256 junk"), SIGNED_AT);
    assertError("IncompleteSignatureException",
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20260102'",
        withAuthorization(wire, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102, SignedHeaders=host, Signature=00"),
        SIGNED_AT);
  }

  @Test
  void rejectsCredentialScopedToAnotherServiceOrDay() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0],
        r -> r.putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3"));
    assertError("InvalidSignatureException", "Credential should be scoped to correct service: 'lambda'. ", wire, SIGNED_AT);

    Wire otherDay = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]);
    String authorization = header(otherDay, "Authorization").replace("/20260102/", "/20260101/");
    assertError("InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP:"
            + " '20260101' != '20260102', from 'x-amz-date'.",
        withAuthorization(otherDay, authorization), SIGNED_AT);
  }

  @Test
  void rejectsADateNotInBasicIsoFormat() {
    Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0]);
    for (String date : List.of("2026-01-02T00:00:00Z", "20260102T000000", "20261302T000000Z", "2026010xT000000Z",
        "2026+102T000000Z")) {
      List<Map.Entry<String, String>> headers = wire.headers().stream()
          .map(h -> h.getKey().equalsIgnoreCase("X-Amz-Date") ? Map.entry(h.getKey(), date) : h).toList();
      assertError("IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '" + date
          + "'. See http://en.wikipedia.org/wiki/ISO_8601", wire.withHeaders(headers), SIGNED_AT);
    }
  }

  /** Requests captured on the wire from AWS CLI v1 (botocore 1.43.11) and the SDK v2 LambdaClient 2.51.3. */
  static Stream<Arguments> capturedRequests() {
    return Stream.of(
        Arguments.of("aws lambda get-function --function-name <arn> --qualifier $LATEST", """
            GET /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn?Qualifier=%24LATEST HTTP/1.1
            Host: 127.0.0.1:18767
            Accept-Encoding: identity
            X-Amz-Date: 20261122T055955Z
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=a7eb6637932adce14468c403e26ce94a49ab6179173d2623011db62d62429c77
            amz-sdk-invocation-id: 02aa7b44-7a90-44c9-8f85-b760d8367179
            amz-sdk-request: attempt=1

            """),
        Arguments.of("aws lambda invoke --function-name my-fn --payload ...", """
            POST /2015-03-31/functions/my-fn/invocations HTTP/1.1
            Host: 127.0.0.1:18767
            Accept-Encoding: identity
            X-Amz-Date: 20261122T055955Z
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=f602531684f2b30eb1312924973efa0ab25e11b7eb9317bbf5ca6fc9c1cc28e5
            amz-sdk-invocation-id: 93c31721-3df0-49a7-a5c4-97a8fdcb62a2
            amz-sdk-request: attempt=1
            Content-Length: 21

            {"hello": "world  x"}"""),
        Arguments.of("aws lambda list-versions-by-function --function-name <arn> --marker 'a b+c/=~*$:é'", """
            GET /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/versions?Marker=a%20b%2Bc%2F%3D~%2A%24%3A%C3%A9&MaxItems=7 HTTP/1.1
            Host: 127.0.0.1:18766
            Accept-Encoding: identity
            X-Amz-Date: 20261122T055948Z
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/eu-west-3/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=ea7b2515e2270157a75d0a632b3814a189001e27aa3f234bf4049f22d67699c5
            amz-sdk-invocation-id: e2799b2c-866a-475b-9901-8f17dbb34b9d
            amz-sdk-request: attempt=1

            """),
        Arguments.of("aws lambda list-functions --master-region ALL --function-version ALL", """
            GET /2015-03-31/functions?MasterRegion=ALL&FunctionVersion=ALL HTTP/1.1
            Host: 127.0.0.1:18766
            Accept-Encoding: identity
            X-Amz-Date: 20261122T055948Z
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/eu-west-3/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=ebb8a28bd96c9ef6c30c5f5e9ffae3318bc45039ff55340354c727fb2ce26037
            amz-sdk-invocation-id: 91840393-12e3-4442-89fc-7996b4341d4a
            amz-sdk-request: attempt=1

            """),
        Arguments.of("botocore SigV4Auth with a Date header instead of X-Amz-Date", """
            PUT /2015-03-31/functions/my-fn/concurrency HTTP/1.1
            Host: 127.0.0.1:9000
            Content-Type: application/json
            X-Custom:   a   b\tc \s
            Date: Fri, 02 Jan 2026 03:04:05 -0000
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/ap-southeast-2/lambda/aws4_request, SignedHeaders=content-type;date;host;x-custom, Signature=463976c8247b908eaccf0a3b18da09263b85c5686cdbe6dc94e4b345a5261d2b
            Content-Length: 35

            {"ReservedConcurrentExecutions": 5}"""),
        Arguments.of("LambdaClient.invoke", """
            POST /2015-03-31/functions/my-fn/invocations HTTP/1.1
            Host: 127.0.0.1:18768
            amz-sdk-invocation-id: 1bf73dd6-931b-0f65-a166-e3d3923618a8
            amz-sdk-request: attempt=1; max=1
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-west-2/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=25e7b95fba5db1e4b0e698cf2ead1e3c302eec68e73190599a3a87983b1a03b4
            Content-Type: application/json
            x-amz-content-sha256: 1a67f95b601b6a02d07e5fa33423ea39ea53b7dca3cce0da42b0cd9e5801584c
            X-Amz-Date: 20261122T060019Z
            Content-Length: 21
            Connection: keep-alive

            {"hello": "world  x"}"""),
        Arguments.of("LambdaClient.getFunction(<arn>, $LATEST)", """
            GET /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn?Qualifier=%24LATEST HTTP/1.1
            Host: 127.0.0.1:18768
            amz-sdk-invocation-id: 91715df6-b74b-8370-5907-ed491d56e109
            amz-sdk-request: attempt=1; max=1
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-west-2/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date, Signature=13716e8368b840806b6c900aaa1f731665c4c2c5e56af37c4171a43a541ff174
            x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            X-Amz-Date: 20261122T060019Z
            Connection: keep-alive

            """),
        Arguments.of("LambdaClient.listFunctions(marker 'a b+c/=~*$:é', maxItems 5)", """
            GET /2015-03-31/functions?Marker=a%20b%2Bc%2F%3D~%2A%24%3A%C3%A9&MaxItems=5 HTTP/1.1
            Host: 127.0.0.1:18768
            amz-sdk-invocation-id: 60c83d7e-8cf3-0786-2857-b14ca8140f6c
            amz-sdk-request: attempt=1; max=1
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-west-2/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date, Signature=6d86015d43f902fe3017357c0188c584afc866ade15b00b3bf6dbbe0549ad2ea
            x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            X-Amz-Date: 20261122T060019Z
            Connection: keep-alive

            """));
  }

  /** AWS's canonical URI: segments resolved, the raw path encoded once more; plain API paths only gain %25. */
  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("canonicalUris")
  void canonicalisesThePathAsAwsDoes(String rawPath, String canonical) {
    assertEquals(canonical, SigV4Verifier.canonicalUri(rawPath));
  }

  static Stream<Arguments> canonicalUris() {
    return Stream.of(
        Arguments.of("/2015-03-31/functions/my-fn/invocations", "/2015-03-31/functions/my-fn/invocations"),
        Arguments.of("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/invocations"),
        Arguments.of("/", "/"),
        Arguments.of("", "/"),
        Arguments.of("/a/b/", "/a/b/"),
        Arguments.of("/a/.hidden/...", "/a/.hidden/..."),
        Arguments.of("/a//b", "/a/b"),
        Arguments.of("//", "/"),
        Arguments.of("/a/./b/../c/", "/a/c/"),
        Arguments.of("/a/..", "/"),
        Arguments.of("/a/.", "/a"),
        Arguments.of("a/b", "/a/b"),
        Arguments.of("/a b/c:d", "/a%20b/c%3Ad"),
        Arguments.of("/caf\u00e9", "/caf%C3%A9"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("capturedRequests")
  void acceptsCapturedRequests(String description, String raw) {
    Wire wire = parse(raw);
    String date = header(wire, "X-Amz-Date");
    Instant signedAt = date != null
        ? Instant.from(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX").parse(date))
        : Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(header(wire, "Date")));

    assertEquals(KEY_ID, verify(wire, signedAt.plusSeconds(2)));
    assertError("InvalidSignatureException", MISMATCH, wire.withPath(wire.path() + "x"), signedAt);
  }

  @Test
  void signingKeysKeptStayBoundedWhateverTheRegionsCallersSignFor() {
    int regions = SigV4Verifier.SIGNING_KEYS_KEPT + 500;
    for (int i = 0; i < regions; i++) {
      String region = "region-" + i;
      Wire wire = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0],
          r -> r.putProperty(AwsV4HttpSigner.REGION_NAME, region));
      assertEquals(KEY_ID, verify(wire, SIGNED_AT));
    }
    assertTrue(verifier.signingKeysKept() <= SigV4Verifier.SIGNING_KEYS_KEPT,
        "kept " + verifier.signingKeysKept() + " signing keys");
    Wire again = sign(request(SdkHttpMethod.GET, "/2015-03-31/functions"), new byte[0],
        r -> r.putProperty(AwsV4HttpSigner.REGION_NAME, "region-0"));
    assertEquals(KEY_ID, verify(again, SIGNED_AT), "an evicted key is derived again");
  }

  private static SdkHttpRequest.Builder request(SdkHttpMethod method, String encodedPath) {
    return SdkHttpRequest.builder().method(method).protocol("http").host("localhost").port(9000).encodedPath(encodedPath);
  }

  private static Wire sign(SdkHttpRequest.Builder request, byte[] body) {
    return sign(request, body, r -> { });
  }

  private static Wire sign(SdkHttpRequest.Builder request, byte[] body,
      Consumer<SignRequest.Builder<AwsCredentialsIdentity>> customise) {
    SdkHttpRequest signed = AwsV4HttpSigner.create().sign(r -> {
      r.identity(AwsCredentialsIdentity.create(KEY_ID, SECRET))
          .request(request.build())
          .payload(ContentStreamProvider.fromByteArray(body))
          .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
          .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
          .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, Clock.fixed(SIGNED_AT, ZoneOffset.UTC));
      customise.accept(r);
    }).request();
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    signed.forEachHeader((name, values) -> values.forEach(value -> headers.add(Map.entry(name, value))));
    return new Wire(signed.method().name(), signed.encodedPath(), signed.encodedQueryParameters().orElse(null),
        headers, body);
  }

  private static Wire parse(String raw) {
    int split = raw.indexOf("\n\n");
    String[] lines = raw.substring(0, split).split("\n");
    String[] requestLine = lines[0].split(" ");
    String target = requestLine[1];
    int question = target.indexOf('?');
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.add(Map.entry(lines[i].substring(0, colon), lines[i].substring(colon + 1)));
    }
    return new Wire(requestLine[0], question < 0 ? target : target.substring(0, question),
        question < 0 ? null : target.substring(question + 1), headers,
        raw.substring(split + 2).getBytes(StandardCharsets.UTF_8));
  }

  private static String header(Wire wire, String name) {
    return wire.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name))
        .map(h -> h.getValue().strip()).findFirst().orElse(null);
  }

  private static Wire withAuthorization(Wire wire, String authorization) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(wire.withoutHeader("Authorization").headers());
    headers.add(Map.entry("Authorization", authorization));
    return wire.withHeaders(headers);
  }

  private static byte[] json(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private String verify(Wire wire, Instant now) {
    return verifier.verify(wire.method(), wire.path(), wire.query(), wire.headers(), wire.body(), now);
  }

  private void assertError(String errorType, String message, Wire wire, Instant now) {
    LambdaException e = assertThrows(LambdaException.class, () -> verify(wire, now));
    assertEquals(403, e.status());
    assertEquals(errorType, e.errorType());
    assertEquals(message, e.getMessage());
  }
}

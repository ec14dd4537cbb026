package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FunctionUrlEventsTest {

  private static final String ID = "abcdefghijklmnopqrstuvwxyz012345";

  private static FunctionUrlEvents.Request request(String method, String query, List<Map.Entry<String, String>> headers,
      byte[] body) {
    return new FunctionUrlEvents.Request(method, "/my/path", query, headers, body, "203.0.113.7", "HTTP/1.1", ID,
        ID + ".lambda-url.us-east-1.localhost", "anonymous", "req-1", Instant.parse("2026-12-07T13:05:00Z"), null);
  }

  private static ObjectNode event(FunctionUrlEvents.Request request) {
    try {
      return (ObjectNode) JsonBody.MAPPER.readTree(FunctionUrlEvents.event(request));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aRequestBecomesAwsPayloadFormat20() {
    ObjectNode event = event(request("GET", "a=1&a=2&name=J%C3%BCrgen&flag",
        List.of(Map.entry("User-Agent", "curl/7.88"), Map.entry("X-Multi", "one"), Map.entry("x-multi", "two"),
            Map.entry("Cookie", "s=1; theme=dark")), new byte[0]));
    assertEquals("2.0", event.get("version").asText());
    assertEquals("$default", event.get("routeKey").asText());
    assertEquals("/my/path", event.get("rawPath").asText());
    assertEquals("a=1&a=2&name=J%C3%BCrgen&flag", event.get("rawQueryString").asText());
    assertEquals("one,two", event.get("headers").get("x-multi").asText());
    assertFalse(event.get("headers").has("cookie"), "cookies are listed apart");
    assertEquals("[\"s=1\",\"theme=dark\"]", event.get("cookies").toString());
    assertEquals("{\"a\":\"1,2\",\"name\":\"Jürgen\",\"flag\":\"\"}", event.get("queryStringParameters").toString());
    var context = event.get("requestContext");
    assertEquals("anonymous", context.get("accountId").asText());
    assertEquals(ID, context.get("apiId").asText());
    assertEquals(ID, context.get("domainPrefix").asText());
    assertEquals("GET", context.get("http").get("method").asText());
    assertEquals("203.0.113.7", context.get("http").get("sourceIp").asText());
    assertEquals("curl/7.88", context.get("http").get("userAgent").asText());
    assertEquals("$default", context.get("stage").asText());
    assertEquals("07/Dec/2026:13:05:00 +0000", context.get("time").asText());
    assertEquals(1796648700000L, context.get("timeEpoch").asLong());
    assertFalse(event.has("body"));
    assertFalse(event.get("isBase64Encoded").asBoolean());
  }

  @Test
  void textBodiesStayTextAndOthersAreBase64() {
    ObjectNode json = event(request("POST", "", List.of(Map.entry("Content-Type", "application/json")),
        "{\"x\":1}".getBytes(StandardCharsets.UTF_8)));
    assertEquals("{\"x\":1}", json.get("body").asText());
    assertFalse(json.get("isBase64Encoded").asBoolean());
    ObjectNode binary = event(request("POST", "",
        List.of(Map.entry("Content-Type", "application/octet-stream")), new byte[] {(byte) 0xff, 0, 1}));
    assertEquals("/wAB", binary.get("body").asText());
    assertTrue(binary.get("isBase64Encoded").asBoolean());
  }

  @Test
  void anAnswerWithAStatusCodeIsTheResponseAndAnythingElseIsAJsonBody() {
    var shaped = FunctionUrlEvents.response(("{\"statusCode\": 201, \"headers\": {\"Content-Type\": \"text/plain\","
        + " \"x-id\": \"7\"}, \"cookies\": [\"a=1\", \"b=2; Secure\"], \"body\": \"created\"}")
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(201, shaped.status());
    assertEquals(List.of(Map.entry("Content-Type", "text/plain"), Map.entry("x-id", "7"), Map.entry("set-cookie", "a=1"),
        Map.entry("set-cookie", "b=2; Secure")), shaped.headers());
    assertEquals("created", new String(shaped.body(), StandardCharsets.UTF_8));

    var base64 = FunctionUrlEvents.response("{\"statusCode\": 200, \"body\": \"/wAB\", \"isBase64Encoded\": true}"
        .getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(new byte[] {(byte) 0xff, 0, 1}, base64.body());

    var plain = FunctionUrlEvents.response("{\"sum\": 6}".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, plain.status());
    assertEquals(List.of(Map.entry("content-type", "application/json")), plain.headers());
    assertEquals("{\"sum\": 6}", new String(plain.body(), StandardCharsets.UTF_8));
    assertEquals("\"hello\"", new String(FunctionUrlEvents.response("\"hello\"".getBytes(StandardCharsets.UTF_8))
        .body(), StandardCharsets.UTF_8));
  }

  @Test
  void aStatusCodeSpelledWithEscapesIsStillAResponse() {
    var escaped = FunctionUrlEvents.response("{\"status\\u0043ode\": 418, \"body\": \"teapot\"}"
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(418, escaped.status());
    assertEquals("teapot", new String(escaped.body(), StandardCharsets.UTF_8));
  }

  @Test
  void onlyAFunctionUrlHostNamesAUrlId() {
    assertEquals(java.util.Optional.of(ID), urlId(ID + ".lambda-url.us-east-1.localhost"));
    assertEquals(java.util.Optional.of(ID), urlId(ID.toUpperCase(java.util.Locale.ROOT)
        + ".LAMBDA-URL.eu-west-3.example.com:9000"));
    assertEquals(java.util.Optional.empty(), urlId("127.0.0.1:9000"));
    assertEquals(java.util.Optional.empty(), urlId("localhost"));
    assertEquals(java.util.Optional.empty(), urlId(ID + ".lambda-url.us-east-1"), "a domain must follow the region");
    assertEquals(java.util.Optional.empty(), urlId(ID + ".lambda-url.us_east_1.localhost"));
    assertEquals(java.util.Optional.empty(), urlId(ID.substring(1) + "!.lambda-url.us-east-1.localhost"));
    assertEquals(java.util.Optional.empty(), urlId("x" + ID + ".lambda-url.us-east-1.localhost"));
  }

  private static java.util.Optional<String> urlId(String host) {
    return FunctionUrlEndpoint.urlId(org.apache.pekko.http.javadsl.model.HttpRequest.create("/")
        .addHeader(org.apache.pekko.http.javadsl.model.headers.Host.create(host.contains(":")
            ? host.substring(0, host.lastIndexOf(':')) : host,
            host.contains(":") ? Integer.parseInt(host.substring(host.lastIndexOf(':') + 1)) : 0)));
  }
}

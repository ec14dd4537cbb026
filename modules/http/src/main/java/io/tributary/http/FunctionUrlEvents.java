package io.tributary.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The two translations of a function URL request, as AWS makes them: the HTTP request into the
 * payload format 2.0 event the function receives, and the function's answer into the HTTP response.
 * Pure: no I/O, so both are unit-tested directly.
 */
final class FunctionUrlEvents {

  private FunctionUrlEvents() {}

  /** What the endpoint knows of one request, in the order the event lists it. */
  record Request(String method, String rawPath, String rawQueryString, List<Map.Entry<String, String>> headers,
                 byte[] body, String sourceIp, String protocol, String urlId, String domainName, String accountId,
                 String requestId, Instant time, ObjectNode iam) {}

  /** The HTTP answer: status, headers in order (repeatable, as Set-Cookie), body bytes. */
  record Response(int status, List<Map.Entry<String, String>> headers, byte[] body) {}

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  /**
   * AWS's event: headers lower-cased with repeated values comma-joined (cookies apart, in
   * {@code cookies}); query parameters likewise; the body as text when it is UTF-8 text, else
   * base64 with {@code isBase64Encoded}; no {@code body} when the request has none.
   */
  static ObjectNode event(Request r) {
    ObjectNode event = JsonBody.MAPPER.createObjectNode();
    event.put("version", "2.0");
    event.put("routeKey", "$default");
    event.put("rawPath", r.rawPath());
    event.put("rawQueryString", r.rawQueryString());
    Map<String, String> headers = new LinkedHashMap<>();
    List<String> cookies = new ArrayList<>();
    for (Map.Entry<String, String> h : r.headers()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (name.equals("cookie")) {
        for (String cookie : h.getValue().split(";")) {
          if (!cookie.isBlank()) {
            cookies.add(cookie.strip());
          }
        }
      } else {
        headers.merge(name, h.getValue(), (a, b) -> a + "," + b);
      }
    }
    if (!cookies.isEmpty()) {
      ArrayNode list = event.putArray("cookies");
      cookies.forEach(list::add);
    }
    ObjectNode headerNode = event.putObject("headers");
    headers.forEach(headerNode::put);
    Map<String, String> query = query(r.rawQueryString());
    if (!query.isEmpty()) {
      ObjectNode q = event.putObject("queryStringParameters");
      query.forEach(q::put);
    }
    ObjectNode context = event.putObject("requestContext");
    context.put("accountId", r.accountId());
    context.put("apiId", r.urlId());
    if (r.iam() != null) {
      context.putObject("authorizer").set("iam", r.iam());
    }
    context.put("domainName", r.domainName());
    context.put("domainPrefix", r.urlId());
    ObjectNode http = context.putObject("http");
    http.put("method", r.method());
    http.put("path", r.rawPath());
    http.put("protocol", r.protocol());
    http.put("sourceIp", r.sourceIp());
    http.put("userAgent", headers.getOrDefault("user-agent", ""));
    context.put("requestId", r.requestId());
    context.put("routeKey", "$default");
    context.put("stage", "$default");
    context.put("time", TIME.format(r.time()));
    context.put("timeEpoch", r.time().toEpochMilli());
    if (r.body().length > 0) {
      String text = text(r.body(), headers.get("content-type"));
      event.put("body", text != null ? text : Base64.getEncoder().encodeToString(r.body()));
      event.put("isBase64Encoded", text == null);
    } else {
      event.put("isBase64Encoded", false);
    }
    return event;
  }

  /** Query parameters as AWS lists them: decoded, a repeated name's values comma-joined. */
  static Map<String, String> query(String raw) {
    Map<String, String> params = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return params;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      params.merge(name, value, (a, b) -> a + "," + b);
    }
    return params;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  /** The body as a string when its content type is textual and it is valid UTF-8; null means base64. */
  private static String text(byte[] body, String contentType) {
    String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
    boolean textual = type.startsWith("text/") || type.contains("json") || type.contains("xml")
        || type.contains("javascript") || type.contains("x-www-form-urlencoded");
    if (!textual) {
      return null;
    }
    var decoder = StandardCharsets.UTF_8.newDecoder();
    try {
      return decoder.decode(java.nio.ByteBuffer.wrap(body)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  /**
   * The function's answer as AWS maps it: an object with {@code statusCode} is a response
   * ({@code headers}, {@code cookies} as Set-Cookie, {@code body}, base64 when
   * {@code isBase64Encoded}); any other JSON value is a 200 {@code application/json} body, itself.
   */
  static Response response(byte[] payload) {
    JsonNode answer;
    try {
      answer = JsonBody.MAPPER.readTree(payload);
    } catch (java.io.IOException e) {
      return new Response(200, List.of(Map.entry("content-type", "application/json")), payload);
    }
    if (answer == null || !answer.isObject() || !answer.has("statusCode")) {
      return new Response(200, List.of(Map.entry("content-type", "application/json")), payload);
    }
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    JsonNode given = answer.path("headers");
    boolean typed = false;
    if (given.isObject()) {
      var fields = given.fields();
      while (fields.hasNext()) {
        var f = fields.next();
        typed |= f.getKey().equalsIgnoreCase("content-type");
        headers.add(Map.entry(f.getKey(), f.getValue().isTextual() ? f.getValue().asText() : f.getValue().toString()));
      }
    }
    if (!typed) {
      headers.add(Map.entry("content-type", "application/json"));
    }
    answer.path("cookies").forEach(c -> headers.add(Map.entry("set-cookie", c.asText())));
    JsonNode body = answer.get("body");
    byte[] bytes;
    if (body == null || body.isNull()) {
      bytes = new byte[0];
    } else if (!body.isTextual()) {
      bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    } else if (answer.path("isBase64Encoded").asBoolean(false)) {
      bytes = Base64.getMimeDecoder().decode(body.asText());
    } else {
      bytes = body.asText().getBytes(StandardCharsets.UTF_8);
    }
    return new Response(answer.path("statusCode").asInt(200), headers, bytes);
  }
}

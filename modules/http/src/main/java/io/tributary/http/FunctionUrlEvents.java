package io.tributary.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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

  private static final byte[] STATUS_CODE = "statusCode".getBytes(StandardCharsets.US_ASCII);
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  /**
   * AWS's event, as JSON: headers lower-cased with repeated values comma-joined (cookies apart, in
   * {@code cookies}); query parameters likewise; the body as text when it is UTF-8 text, else
   * base64 with {@code isBase64Encoded}; no {@code body} when the request has none. Written
   * straight to bytes: this runs once per URL request.
   */
  static byte[] event(Request r) {
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
    ByteArrayOutputStream out = new ByteArrayOutputStream(512 + r.body().length * 4 / 3);
    try (JsonGenerator g = JsonBody.MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("version", "2.0");
      g.writeStringField("routeKey", "$default");
      g.writeStringField("rawPath", r.rawPath());
      g.writeStringField("rawQueryString", r.rawQueryString());
      if (!cookies.isEmpty()) {
        g.writeArrayFieldStart("cookies");
        for (String cookie : cookies) {
          g.writeString(cookie);
        }
        g.writeEndArray();
      }
      writeObject(g, "headers", headers);
      Map<String, String> query = query(r.rawQueryString());
      if (!query.isEmpty()) {
        writeObject(g, "queryStringParameters", query);
      }
      g.writeObjectFieldStart("requestContext");
      g.writeStringField("accountId", r.accountId());
      g.writeStringField("apiId", r.urlId());
      if (r.iam() != null) {
        g.writeObjectFieldStart("authorizer");
        g.writeFieldName("iam");
        g.writeTree(r.iam());
        g.writeEndObject();
      }
      g.writeStringField("domainName", r.domainName());
      g.writeStringField("domainPrefix", r.urlId());
      g.writeObjectFieldStart("http");
      g.writeStringField("method", r.method());
      g.writeStringField("path", r.rawPath());
      g.writeStringField("protocol", r.protocol());
      g.writeStringField("sourceIp", r.sourceIp());
      g.writeStringField("userAgent", headers.getOrDefault("user-agent", ""));
      g.writeEndObject();
      g.writeStringField("requestId", r.requestId());
      g.writeStringField("routeKey", "$default");
      g.writeStringField("stage", "$default");
      g.writeStringField("time", time(r.time()));
      g.writeNumberField("timeEpoch", r.time().toEpochMilli());
      g.writeEndObject();
      if (r.body().length > 0) {
        String text = text(r.body(), headers.get("content-type"));
        g.writeStringField("body", text != null ? text : Base64.getEncoder().encodeToString(r.body()));
        g.writeBooleanField("isBase64Encoded", text == null);
      } else {
        g.writeBooleanField("isBase64Encoded", false);
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static void writeObject(JsonGenerator g, String name, Map<String, String> fields) throws IOException {
    g.writeObjectFieldStart(name);
    for (Map.Entry<String, String> f : fields.entrySet()) {
      g.writeStringField(f.getKey(), f.getValue());
    }
    g.writeEndObject();
  }

  /** The last second formatted: requests arrive thousands a second and the format has seconds. */
  private record Second(long epochSecond, String text) {}

  private static volatile Second lastSecond = new Second(Long.MIN_VALUE, "");

  private static String time(Instant t) {
    Second last = lastSecond;
    if (last.epochSecond() != t.getEpochSecond()) {
      last = new Second(t.getEpochSecond(), TIME.format(t));
      lastSecond = last;
    }
    return last.text();
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
    if (!mayHaveStatusCode(payload)) {
      return new Response(200, List.of(Map.entry("content-type", "application/json")), payload);
    }
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

  /** False when no key of the payload can be {@code statusCode}: the word is absent, and no escape could spell it. */
  private static boolean mayHaveStatusCode(byte[] payload) {
    byte[] word = STATUS_CODE;
    outer:
    for (int i = 0; i < payload.length; i++) {
      if (payload[i] == '\\') {
        return true;
      }
      if (i <= payload.length - word.length) {
        for (int j = 0; j < word.length; j++) {
          if (payload[i + j] != word[j]) {
            continue outer;
          }
        }
        return true;
      }
    }
    return false;
  }
}

package io.tributary.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;

/**
 * One operation of the node's API, declared once: AWS's name (what metrics and logs call it), its
 * method and path, how large its body may be, who may call it, and what answers it. Routing, the
 * body limit, the signature check and the metrics all come from this declaration ({@link Operations}).
 *
 * <p>A path is written as AWS's documentation writes it: literal segments and {@code {Name}}
 * variables, each variable one non-empty segment, percent-decoded. A path that ends in {@code /}
 * matches with or without that slash ({@code /2015-03-31/functions/} is both
 * {@code /2015-03-31/functions} and {@code /2015-03-31/functions/}); {@code /} is the root alone.
 * A path may end in one query parameter that AWS's model writes into it
 * ({@code /2018-10-31/layers?find=LayerVersion}): the request must carry that parameter with that
 * value, and then it is this operation rather than the one of the same path without it.
 */
record Operation(String name, String method, Path path, Limit limit, Access access, Handler handler, String target) {

  /** How large the body may be: settings give the first two, AWS the third. */
  enum Limit {
    /** A JSON document: {@code tributary.http.max-request-size}. */
    DOCUMENT,
    /** A deployment package in base64: {@code tributary.http.max-code-upload-size}. */
    CODE,
    /** An invoke's payload: AWS's 6 MB; the request may also run as long as the longest function. */
    PAYLOAD
  }

  /** Who may call it. */
  enum Access {
    /** Signed with SigV4 by a holder of the API credentials. */
    SIGNED,
    /** Anyone: health, metrics, and code downloads (signed by their URL). */
    OPEN,
    /** Another node, by the HMAC of {@link InvokeForwarder}. */
    HOP
  }

  /** What answers the operation; a {@link io.tributary.api.LambdaException} thrown is AWS's error. */
  @FunctionalInterface
  interface Handler {
    CompletionStage<HttpResponse> handle(Call call);
  }

  /**
   * One request of the operation: the path's variables in their order, the body read whole (empty
   * for {@link Access#OPEN} operations, which read none), and the request id it answers with.
   */
  record Call(HttpRequest request, List<String> variables, ByteString body, String requestId) {

    String variable(int index) {
      return variables.get(index);
    }

    /** A parameter of the query, its first value; null when absent. */
    String parameter(String name) {
      return request.getUri().query().get(name).orElse(null);
    }

    /** The query's parameters; of a repeated one, the last. */
    Map<String, String> query() {
      return request.getUri().query().toMap();
    }

    /** The body as a record of AWS's request shape ({@link JsonBody}). */
    <T> T read(Class<T> shape) {
      return JsonBody.read(body.toArray(), shape);
    }
  }

  static Operation get(String name, String path, Handler handler) {
    return new Operation(name, "GET", Path.of(path), Limit.DOCUMENT, Access.SIGNED, handler, null);
  }

  static Operation post(String name, String path, Handler handler) {
    return new Operation(name, "POST", Path.of(path), Limit.DOCUMENT, Access.SIGNED, handler, null);
  }

  static Operation put(String name, String path, Handler handler) {
    return new Operation(name, "PUT", Path.of(path), Limit.DOCUMENT, Access.SIGNED, handler, null);
  }

  static Operation delete(String name, String path, Handler handler) {
    return new Operation(name, "DELETE", Path.of(path), Limit.DOCUMENT, Access.SIGNED, handler, null);
  }

  /**
   * An operation of a JSON 1.1 API ({@code POST /}, named by its {@code X-Amz-Target} header, as
   * EventBridge's are): {@code target} is the header's value, {@code AWSEvents.PutEvents}; its name
   * the part after the dot. Its errors are the JSON 1.1 protocol's ({@code __type}, {@code message}).
   */
  static Operation target(String target, Handler handler) {
    return new Operation(target.substring(target.indexOf('.') + 1), "POST", Path.of("/"), Limit.DOCUMENT,
        Access.SIGNED, handler, target);
  }

  /** Whether this is an operation of a JSON 1.1 API ({@link #target(String, Handler)}). */
  boolean json11() {
    return target != null;
  }

  Operation limit(Limit newLimit) {
    return new Operation(name, method, path, newLimit, access, handler, target);
  }

  Operation access(Access newAccess) {
    return new Operation(name, method, path, limit, newAccess, handler, target);
  }

  /**
   * A path pattern: its segments ({@code null} for a variable), whether a trailing slash may follow,
   * and the query parameter it names ({@code find=LayerVersion}), or null.
   */
  record Path(String pattern, List<String> segments, boolean optionalSlash, String query) {

    static Path of(String pattern) {
      if (!pattern.startsWith("/")) {
        throw new IllegalArgumentException("A path starts with /: " + pattern);
      }
      int q = pattern.indexOf('?');
      String query = q < 0 ? null : pattern.substring(q + 1);
      String path = q < 0 ? pattern : pattern.substring(0, q);
      boolean slash = path.length() > 1 && path.endsWith("/");
      String body = path.substring(1, slash ? path.length() - 1 : path.length());
      List<String> segments = new ArrayList<>();
      if (!body.isEmpty()) {
        for (String segment : body.split("/", -1)) {
          segments.add(segment.startsWith("{") && segment.endsWith("}") ? null : segment);
        }
      }
      return new Path(pattern, Collections.unmodifiableList(segments), slash, query);
    }

    /** Whether a request's raw query (null: none) carries the parameter this path names, if it names one. */
    boolean accepts(String rawQuery) {
      if (query == null) {
        return true;
      }
      if (rawQuery == null) {
        return false;
      }
      for (String parameter : rawQuery.split("&")) {
        if (parameter.equals(query)) {
          return true;
        }
      }
      return false;
    }

    /**
     * The variables of {@code raw} (a request's path, percent-encoded, split at every {@code /}
     * after the first), or null when it is not this path.
     */
    List<String> match(String[] raw) {
      int n = segments.size();
      boolean trailing = raw.length == n + 1 && raw[n].isEmpty();
      if (raw.length != n && !(trailing && (optionalSlash || n == 0))) {
        return null;
      }
      List<String> variables = List.of();
      for (int i = 0; i < n; i++) {
        String expected = segments.get(i);
        if (expected == null) {
          if (raw[i].isEmpty()) {
            return null;
          }
          if (variables.isEmpty()) {
            variables = new ArrayList<>(2);
          }
          variables.add(decode(raw[i]));
        } else if (!expected.equals(raw[i])) {
          return null;
        }
      }
      return variables;
    }

    /** Splits a request's path into its raw segments; {@code /} is one empty segment. */
    static String[] split(String path) {
      return path.isEmpty() ? new String[] {""} : path.substring(1).split("/", -1);
    }

    /** Percent-decoding of one segment, as a path is decoded ({@code +} stays a plus). */
    static String decode(String segment) {
      if (segment.indexOf('%') < 0) {
        return segment;
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
      for (int i = 0; i < segment.length(); i++) {
        char c = segment.charAt(i);
        if (c == '%' && isHex(segment, i + 1) && isHex(segment, i + 2)) {
          bytes.write(Integer.parseInt(segment, i + 1, i + 3, 16));
          i += 2;
        } else {
          bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        }
      }
      return bytes.toString(StandardCharsets.UTF_8);
    }

    private static boolean isHex(String s, int i) {
      return i < s.length() && Character.digit(s.charAt(i), 16) >= 0;
    }
  }
}

package io.tributary.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * One origin for browser tests: a JDK {@link HttpServer} on 127.0.0.1 and a port of its own.
 * Browsers count the port in the origin, so two of these are two origins, and a page opened on one
 * is cross-origin to the other (both are the same <em>site</em>, 127.0.0.1: cookies are shared by
 * them, CORS is not).
 *
 * <p>It serves a small HTML page at {@code /} for {@link HeadlessBrowser#open(String)}, and any
 * other path with the {@link #route(String, Function) route} a test sets, which sees the whole
 * request and returns the whole answer, headers included, so a test decides exactly which CORS
 * headers the browser gets. Paths with no route get 404. Every request is recorded with its method,
 * path, headers (names lower-cased, repeated values joined with ", ") and body, so a test can see
 * what the browser sent, preflights included, and what it never sent.
 *
 * <pre>
 * try (OriginServer page = OriginServer.start(); OriginServer api = OriginServer.start()) {
 *   api.route("/hello", request -> OriginServer.Response.text(200, "hello")
 *       .with("Access-Control-Allow-Origin", page.origin()));
 *   browser.open(page.url("/"));
 *   assertEquals("hello", browser.fetch(api.url("/hello"), Map.of()).answered().body());
 *   assertEquals(page.origin(), api.requests("/hello").get(0).header("origin"));
 * }
 * </pre>
 */
final class OriginServer implements AutoCloseable {

  /** A request as the server got it; header names lower-cased. */
  record Request(String method, String path, String query, Map<String, String> headers, String body) {
    /** The header's value, repeated values joined with ", "; null if absent. */
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** An answer: status, headers exactly as given, and a text body (none if empty). */
  record Response(int status, Map<String, String> headers, String body) {
    Response {
      headers = Map.copyOf(headers);
    }

    static Response text(int status, String body) {
      return new Response(status, Map.of("Content-Type", "text/plain; charset=utf-8"), body);
    }

    static Response empty(int status) {
      return new Response(status, Map.of(), "");
    }

    /** This answer with one more header. */
    Response with(String name, String value) {
      Map<String, String> more = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      more.putAll(headers);
      more.put(name, value);
      return new Response(status, more, body);
    }
  }

  static {
    // The JDK server writes headers and body apart; with Nagle on, each answer then waits out the
    // client's 40 ms delayed ACK. Read once, when the JVM's first HttpServer starts.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final String PAGE = """
      <!doctype html>
      <html><head><meta charset="utf-8"><title>tributary test page</title></head>
      <body>tributary test page</body></html>
      """;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Map<String, Function<Request, Response>> routes = new ConcurrentHashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();

  private OriginServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts a server on 127.0.0.1 and a free port. */
  static OriginServer start() {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ExecutorService executor = Executors.newCachedThreadPool(r -> {
      Thread thread = new Thread(r, "origin-server-" + server.getAddress().getPort());
      thread.setDaemon(true);
      return thread;
    });
    OriginServer origin = new OriginServer(server, executor);
    server.createContext("/", origin::handle);
    server.setExecutor(executor);
    server.start();
    return origin;
  }

  /** {@code http://127.0.0.1:<port>}, as a browser writes it in {@code Origin}. */
  String origin() {
    return "http://127.0.0.1:" + port();
  }

  /** The port it listens on, at 127.0.0.1. */
  int port() {
    return server.getAddress().getPort();
  }

  /** The absolute URL of {@code path} on this origin. */
  String url(String path) {
    return origin() + path;
  }

  /** Answers requests for {@code path} (exact, without the query) with {@code responder}. */
  void route(String path, Function<Request, Response> responder) {
    routes.put(path, responder);
  }

  /** The requests for {@code path} so far, in arrival order. */
  List<Request> requests(String path) {
    return requests.stream().filter(r -> r.path().equals(path)).toList();
  }

  /** The methods of the requests for {@code path} so far, in arrival order, e.g. {@code [OPTIONS, PUT]}. */
  List<String> methods(String path) {
    return requests(path).stream().map(Request::method).toList();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Map<String, String> headers = new TreeMap<>();
      exchange.getRequestHeaders().forEach((name, values) ->
          headers.put(name.toLowerCase(Locale.ROOT), String.join(", ", values)));
      String path = exchange.getRequestURI().getPath();
      Request request = new Request(exchange.getRequestMethod(), path, exchange.getRequestURI().getRawQuery(),
          Map.copyOf(headers), new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      requests.add(request);
      Function<Request, Response> route = routes.get(path);
      Response response;
      if (route != null) {
        try {
          response = route.apply(request);
        } catch (RuntimeException e) {
          response = Response.text(500, "the route for " + path + " failed: " + e);
        }
      } else if (path.equals("/")) {
        response = new Response(200, Map.of("Content-Type", "text/html; charset=utf-8"), PAGE);
      } else {
        response = Response.text(404, "no route for " + path);
      }
      byte[] body = response.body().getBytes(StandardCharsets.UTF_8);
      response.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        exchange.getResponseBody().write(body);
      }
    }
  }
}

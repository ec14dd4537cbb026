package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.server.HeadlessBrowser.Answered;
import io.tributary.server.HeadlessBrowser.Fetched;
import io.tributary.server.HeadlessBrowser.Refused;
import io.tributary.server.OriginServer.Request;
import io.tributary.server.OriginServer.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The headless browser enforces CORS, so a test built on {@link HeadlessBrowser} proves a server's
 * CORS headers by what a page's script can and cannot do, not by reading the headers itself. A page
 * on one origin ({@code page}, 127.0.0.1 and one port) fetches from an endpoint on another
 * ({@code api}, 127.0.0.1 and another port), whose every answer each test sets; {@code api} records
 * what the browser sent. Each test uses paths of its own, so the browser's preflight cache carries
 * nothing from one test to another, and each starts on a freshly loaded page. One browser serves
 * the class; it needs no Cassandra or other server.
 */
class HeadlessBrowserIT {

  private static final String ALLOW_ORIGIN = "Access-Control-Allow-Origin";

  @RegisterExtension
  static final HeadlessBrowser.PerClass BROWSER = new HeadlessBrowser.PerClass();

  private static OriginServer page;
  private static OriginServer api;
  private static HeadlessBrowser browser;
  private static final List<Long> FETCH_MILLIS = new ArrayList<>();

  @BeforeAll
  static void startServers() {
    page = OriginServer.start();
    api = OriginServer.start();
  }

  @BeforeEach
  void openPage() {
    browser = BROWSER.get();
    browser.open(page.url("/"));
  }

  @AfterAll
  static void stopServers() {
    if (browser != null) {
      List<Long> sorted = FETCH_MILLIS.stream().sorted().toList();
      System.out.printf("headless chromium %s: started in %d ms; %d fetches, median %d ms, slowest %d ms%n",
          browser.version(), browser.startup().toMillis(), sorted.size(),
          sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2), sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1));
    }
    page.close();
    api.close();
  }

  @Test
  void anAllowedOriginLetsTheScriptReadTheAnswer() {
    api.route("/allowed", request -> Response.text(200, "hello from the api").with(ALLOW_ORIGIN, page.origin()));
    api.route("/anyone", request -> Response.text(200, "hello, anyone").with(ALLOW_ORIGIN, "*"));
    api.route("/forbidden", request -> Response.text(403, "Forbidden").with(ALLOW_ORIGIN, page.origin()));

    Answered allowed = fetch("/allowed", Map.of()).answered();
    assertEquals(200, allowed.status());
    assertEquals("hello from the api", allowed.body());
    assertEquals(page.origin(), api.requests("/allowed").get(0).header("origin"),
        "the browser tells the server which origin the script comes from");
    assertEquals("hello, anyone", fetch("/anyone", Map.of()).answered().body(), "* allows every origin");
    Answered forbidden = fetch("/forbidden", Map.of()).answered();
    assertEquals(403, forbidden.status(), "an error status reaches the script when its answer allows the origin");
    assertEquals("Forbidden", forbidden.body());
  }

  @Test
  void aFunctionUrlStyleLocalhostNameReachesTheLoopbackServerWithoutDns() {
    api.route("/named", request -> Response.text(200, "host " + request.header("host"))
        .with(ALLOW_ORIGIN, page.origin()));
    String host = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost:" + api.port();

    assertEquals("host " + host, fetchUrl("http://" + host + "/named", Map.of()).answered().body(),
        "Chromium resolves *.localhost to loopback itself and sends the name as Host");
  }

  @Test
  void withoutTheOriginAllowedTheRequestIsSentButItsAnswerHidden() {
    api.route("/private", request -> Response.text(200, "secret"));
    api.route("/elsewhere", request -> Response.text(200, "secret").with(ALLOW_ORIGIN, "http://127.0.0.1:1"));

    Refused none = fetch("/private", Map.of()).refused();
    assertEquals("TypeError", none.error(), "the script learns nothing but a TypeError");
    assertTrue(none.reason().contains("No 'Access-Control-Allow-Origin' header is present"), none.reason());
    assertEquals(List.of("GET"), api.methods("/private"),
        "a simple GET is sent without a preflight: the server acts on it, only its answer is hidden");

    Refused other = fetch("/elsewhere", Map.of()).refused();
    assertTrue(other.reason().contains("that is not equal to the supplied origin"), other.reason());
  }

  @Test
  void aPutWithACustomHeaderIsSentOnlyAfterAPreflightAllowsBoth() {
    api.route("/put", preflighted(request -> Response.text(200, "stored " + request.body()),
        Map.of("Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "X-Trace")));

    Answered answer = fetch("/put", put()).answered();
    assertEquals("stored {\"n\":1}", answer.body());
    assertEquals(List.of("OPTIONS", "PUT"), api.methods("/put"), "the preflight comes first");
    Request preflight = api.requests("/put").get(0);
    assertEquals(page.origin(), preflight.header("origin"));
    assertEquals("PUT", preflight.header("access-control-request-method"));
    assertEquals("x-trace", preflight.header("access-control-request-headers"));
    assertNull(preflight.header("x-trace"), "the preflight names the custom header but does not carry it");
    assertEquals("", preflight.body());
    assertEquals("abc", api.requests("/put").get(1).header("x-trace"));
  }

  @Test
  void aPreflightThatDoesNotAllowTheHeaderTheMethodOrAnswersAnErrorStopsTheRequest() {
    Function<Request, Response> store = request -> Response.text(200, "stored");
    api.route("/put-no-header", preflighted(store, Map.of("Access-Control-Allow-Methods", "PUT")));
    api.route("/put-no-method", preflighted(store,
        Map.of("Access-Control-Allow-Methods", "GET, POST", "Access-Control-Allow-Headers", "X-Trace")));
    api.route("/put-preflight-403", request -> request.method().equals("OPTIONS")
        ? Response.empty(403).with(ALLOW_ORIGIN, page.origin()).with("Access-Control-Allow-Methods", "PUT")
            .with("Access-Control-Allow-Headers", "X-Trace")
        : store.apply(request).with(ALLOW_ORIGIN, page.origin()));

    Refused noHeader = fetch("/put-no-header", put()).refused();
    assertTrue(noHeader.reason().contains(
        "Request header field x-trace is not allowed by Access-Control-Allow-Headers in preflight response"),
        noHeader.reason());
    Refused noMethod = fetch("/put-no-method", put()).refused();
    assertTrue(noMethod.reason().contains("Method PUT is not allowed by Access-Control-Allow-Methods"),
        noMethod.reason());
    Refused notOk = fetch("/put-preflight-403", put()).refused();
    assertTrue(notOk.reason().contains("It does not have HTTP ok status"), notOk.reason());
    for (String path : List.of("/put-no-header", "/put-no-method", "/put-preflight-403")) {
      assertEquals(List.of("OPTIONS"), api.methods(path), path + ": the PUT itself is never sent");
    }
  }

  @Test
  void maxAgeLetsTheBrowserSkipTheNextPreflight() {
    Function<Request, Response> store = request -> Response.text(200, "stored");
    api.route("/cached", preflighted(store, Map.of("Access-Control-Allow-Methods", "PUT",
        "Access-Control-Allow-Headers", "X-Trace", "Access-Control-Max-Age", "600")));
    api.route("/uncached", preflighted(store, Map.of("Access-Control-Allow-Methods", "PUT",
        "Access-Control-Allow-Headers", "X-Trace", "Access-Control-Max-Age", "0")));

    for (int i = 0; i < 2; i++) {
      fetch("/cached", put()).answered();
      fetch("/uncached", put()).answered();
    }
    assertEquals(List.of("OPTIONS", "PUT", "PUT"), api.methods("/cached"), "one preflight for 600 s");
    assertEquals(List.of("OPTIONS", "PUT", "OPTIONS", "PUT"), api.methods("/uncached"),
        "max-age 0: a preflight every time");
  }

  @Test
  void exposeHeadersDecidesWhichResponseHeadersTheScriptReads() {
    api.route("/exposed", request -> Response.text(200, "ok").with(ALLOW_ORIGIN, page.origin())
        .with("X-Request-Id", "42").with("Access-Control-Expose-Headers", "X-Request-Id"));
    api.route("/unexposed", request -> Response.text(200, "ok").with(ALLOW_ORIGIN, page.origin())
        .with("X-Request-Id", "42"));

    Answered exposed = fetch("/exposed", Map.of()).answered();
    assertEquals("42", exposed.headers().get("x-request-id"));
    Answered unexposed = fetch("/unexposed", Map.of()).answered();
    assertFalse(unexposed.headers().containsKey("x-request-id"),
        "a header not exposed stays hidden from the script: " + unexposed.headers());
    assertEquals("text/plain; charset=utf-8", unexposed.headers().get("content-type"),
        "safelisted headers are always readable");
    assertEquals("ok", unexposed.body());
  }

  @Test
  void credentialsNeedAllowCredentialsAndTheExactOrigin() {
    // 127.0.0.1 is one site whatever the port: the page's cookie is the api's too.
    assertEquals("session=abc", browser.executeAsync(
        "document.cookie = 'session=abc; path=/'; arguments[arguments.length - 1](document.cookie);").asText());
    try {
      api.route("/credentialed", request -> Response.text(200, "hello " + request.header("cookie"))
          .with(ALLOW_ORIGIN, page.origin()).with("Access-Control-Allow-Credentials", "true"));
      api.route("/credentials-not-allowed", request -> Response.text(200, "secret")
          .with(ALLOW_ORIGIN, page.origin()));
      api.route("/credentials-to-anyone", request -> Response.text(200, "secret")
          .with(ALLOW_ORIGIN, "*").with("Access-Control-Allow-Credentials", "true"));
      Map<String, String> include = Map.of("credentials", "include");

      assertEquals("hello session=abc", fetch("/credentialed", include).answered().body());
      assertEquals("hello null", fetch("/credentialed", Map.of()).answered().body(),
          "without credentials: 'include' the cookie stays home");

      Refused notAllowed = fetch("/credentials-not-allowed", include).refused();
      assertTrue(notAllowed.reason().contains("Access-Control-Allow-Credentials"), notAllowed.reason());
      assertEquals("session=abc", api.requests("/credentials-not-allowed").get(0).header("cookie"),
          "the cookie was sent; only the answer is hidden");
      Refused toAnyone = fetch("/credentials-to-anyone", include).refused();
      assertTrue(toAnyone.reason().contains("must not be the wildcard '*'"), toAnyone.reason());
    } finally {
      browser.executeAsync(
          "document.cookie = 'session=; path=/; max-age=0'; arguments[arguments.length - 1](null);");
    }
  }

  /**
   * A PUT with a custom header: a request CORS preflights twice over. Its text body keeps the
   * safelisted {@code text/plain} type, so {@code x-trace} is the only header the preflight names.
   */
  private static Map<String, Object> put() {
    return Map.of("method", "PUT", "headers", Map.of("X-Trace", "abc"), "body", "{\"n\":1}");
  }

  /**
   * Answers a preflight with 204, this page's origin and {@code allow}; any other request with
   * {@code answer} and this page's origin.
   */
  private static Function<Request, Response> preflighted(Function<Request, Response> answer,
      Map<String, String> allow) {
    return request -> {
      if (request.method().equals("OPTIONS")) {
        Response preflight = Response.empty(204).with(ALLOW_ORIGIN, page.origin());
        for (Map.Entry<String, String> header : allow.entrySet()) {
          preflight = preflight.with(header.getKey(), header.getValue());
        }
        return preflight;
      }
      return answer.apply(request).with(ALLOW_ORIGIN, page.origin());
    };
  }

  private static Fetched fetch(String path, Map<String, ?> init) {
    return fetchUrl(api.url(path), init);
  }

  private static Fetched fetchUrl(String url, Map<String, ?> init) {
    long t0 = System.nanoTime();
    Fetched fetched = browser.fetch(url, init);
    synchronized (FETCH_MILLIS) {
      FETCH_MILLIS.add((System.nanoTime() - t0) / 1_000_000);
    }
    return fetched;
  }
}

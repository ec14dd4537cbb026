package io.tributary.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * A real browser for tests in which the browser itself must judge what a server answers, CORS
 * above all: Debian's headless Chromium driven by {@code chromedriver} over the W3C WebDriver
 * protocol (plain JSON over HTTP, through the JDK's {@link HttpClient}; no Selenium).
 *
 * <p>Lifecycle. {@link #start()} checks that {@code /usr/bin/chromedriver} and
 * {@code /usr/bin/chromium} exist (Debian's {@code chromium-driver} and {@code chromium}; other
 * paths through {@code -Dtributary.it.chromedriver} and {@code -Dtributary.it.chromium}). If one
 * is missing the test is skipped with the {@code apt-get} line that installs it, except under
 * {@code CI=true}, where it fails: CI installs both ({@code .ci/run}), so a skip there would hide
 * a broken machine. It then starts {@code chromedriver} on a free loopback port, waits for its
 * {@code /status} to be ready, and creates one session: Chromium with {@code --headless=new},
 * {@code --no-sandbox} (the tests run as root), {@code --disable-gpu},
 * {@code --disable-dev-shm-usage}, {@code --no-proxy-server} and a fresh profile. Everything the
 * browser writes (profile, crash database, since {@code HOME} points there too, and chromedriver's
 * log) is in one temporary directory. {@link #close()} deletes the session (chromedriver quits the
 * browser), stops chromedriver, kills whatever is left (chromedriver's descendants, and any process
 * whose command line names the temporary directory, such as Chromium's crash handlers, which detach
 * from their parent), and removes the directory. A JVM that exits without {@code close()} runs the
 * same clean-up from a shutdown hook (a JVM killed with {@code SIGKILL} leaves the browser running).
 * One browser serves a whole test class: starting one takes about a second, a fetch 15 to 25 ms.
 *
 * <p>Use. {@link #open(String)} loads a page (its origin is the origin of every script run next);
 * {@link #executeAsync(String, Object...)} runs a script there and returns the JSON value it passes
 * to its callback, the last of its {@code arguments}; {@link #fetch(String, Map)} is the common
 * case, a {@code fetch} from the page, with the browser's console lines that explain a refusal. A
 * test class takes its browser from a {@link PerClass} extension, which starts it when a test first
 * asks and closes it after the class; a missing browser then skips only the tests that ask for it,
 * each reported as skipped with the reason (Failsafe reports a class aborted in {@code @BeforeAll}
 * as no tests run, so that skip would go unseen):
 *
 * <pre>
 * &#64;RegisterExtension static final HeadlessBrowser.PerClass BROWSER = new HeadlessBrowser.PerClass();
 * static final OriginServer PAGE = OriginServer.start();   // closed in &#64;AfterAll
 *
 * &#64;Test void corsAllowsThePage() {
 *   HeadlessBrowser browser = BROWSER.get();
 *   browser.open(PAGE.url("/"));
 *   HeadlessBrowser.Answered answer = browser.fetch(functionUrl,
 *       Map.of("method", "PUT", "headers", Map.of("X-Trace", "1"))).answered();
 *   assertEquals("1", answer.headers().get("x-trace-echo"));
 *   assertTrue(browser.fetch(otherUrl, Map.of()).refused().reason().contains("blocked by CORS policy"));
 * }
 * </pre>
 *
 * Every call has a timeout (session start 60 s, page load and scripts 15 s); a WebDriver error
 * becomes an {@link IllegalStateException} with WebDriver's error and message and the tail of
 * chromedriver's log.
 */
final class HeadlessBrowser implements AutoCloseable {

  /**
   * What a {@code fetch} from the page came to. {@link #answered()} and {@link #refused()} take the
   * outcome a test expects, and fail it with the other outcome's details.
   */
  sealed interface Fetched permits Answered, Refused {
    default Answered answered() {
      if (this instanceof Answered answered) {
        return answered;
      }
      throw new AssertionError("the browser refused the fetch: " + ((Refused) this).reason());
    }

    default Refused refused() {
      if (this instanceof Refused refused) {
        return refused;
      }
      throw new AssertionError("the browser let the script read the answer: " + this);
    }
  }

  /**
   * The script got a response: its status, the headers the script can read (names lower-cased;
   * under CORS only the safelisted ones and those in {@code Access-Control-Expose-Headers}), and the
   * body as text.
   */
  record Answered(int status, Map<String, String> headers, String body) implements Fetched {}

  /**
   * The fetch rejected: the error's name and message as the script saw them (a CORS refusal is a
   * {@code TypeError} "Failed to fetch", which says nothing more, by design), and {@code console},
   * the lines the browser logged meanwhile, which say why
   * ("... has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header ...").
   */
  record Refused(String error, String message, List<String> console) implements Fetched {
    /** The browser's explanation, the console lines joined, or the script's message if none. */
    String reason() {
      return console.isEmpty() ? error + ": " + message : String.join("\n", console);
    }
  }

  /**
   * One browser for a test class, as a JUnit 5 extension: {@link #get()} starts it on first use
   * and returns the same one after; after the class it is closed. If the browser is not installed,
   * every {@code get()} aborts its test with the reason (a failure under {@code CI=true}), without
   * trying again.
   */
  static final class PerClass implements AfterAllCallback {
    private HeadlessBrowser browser;
    private RuntimeException unavailable;

    synchronized HeadlessBrowser get() {
      if (unavailable != null) {
        throw unavailable;
      }
      if (browser == null) {
        try {
          browser = start();
        } catch (TestAbortedException | IllegalStateException e) {
          unavailable = e;
          throw e;
        }
      }
      return browser;
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) {
      if (browser != null) {
        browser.close();
        browser = null;
      }
    }
  }

  static final Path CHROMEDRIVER =
      Path.of(System.getProperty("tributary.it.chromedriver", "/usr/bin/chromedriver"));
  static final Path CHROMIUM = Path.of(System.getProperty("tributary.it.chromium", "/usr/bin/chromium"));

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration DRIVER_READY = Duration.ofSeconds(20);
  private static final Duration SESSION_START = Duration.ofSeconds(60);
  private static final Duration SCRIPT = Duration.ofSeconds(15);
  /** A WebDriver call waits this much longer than the browser's own timeout, so the browser's error wins. */
  private static final Duration MARGIN = Duration.ofSeconds(10);

  private static final String FETCH = """
      const [url, init, done] = arguments;
      fetch(url, init).then(async response => {
        const headers = {};
        response.headers.forEach((value, name) => { headers[name] = value; });
        done({status: response.status, headers, body: await response.text()});
      }).catch(e => done({error: e.name, message: String(e.message)}));
      """;

  private final Path dir;
  private final Process driver;
  private final URI endpoint;
  private final HttpClient http;
  private final Thread shutdownHook;
  private String session;
  private String browserVersion = "";
  private Duration startup = Duration.ZERO;

  private HeadlessBrowser(Path dir, Process driver, URI endpoint, HttpClient http) {
    this.dir = dir;
    this.driver = driver;
    this.endpoint = endpoint;
    this.http = http;
    this.shutdownHook = new Thread(() -> {
      stopProcesses();
      deleteTree(dir);
    }, "headless-browser-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts chromedriver and a headless Chromium session. Skips the calling test (aborts it with
   * JUnit's assumption failure) when either is not installed, unless {@code CI=true}.
   */
  static HeadlessBrowser start() {
    requireInstalled(CHROMEDRIVER, "chromium-driver");
    requireInstalled(CHROMIUM, "chromium");
    Path dir;
    try {
      dir = Files.createTempDirectory("tributary-browser-");
      Files.createDirectories(dir.resolve("home"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long started = System.nanoTime();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    IllegalStateException failure = null;
    // The free port is chosen before chromedriver binds it; another process can take it meanwhile.
    for (int attempt = 1; attempt <= 3; attempt++) {
      int port = freePort();
      Process driver = startDriver(dir, port);
      HeadlessBrowser browser = new HeadlessBrowser(dir, driver, URI.create("http://127.0.0.1:" + port), http);
      try {
        browser.awaitReady();
        browser.createSession();
        browser.startup = Duration.ofNanos(System.nanoTime() - started);
        return browser;
      } catch (RuntimeException e) {
        boolean portTaken = !driver.isAlive() && browser.log().contains("bind");
        browser.stopProcesses();
        Runtime.getRuntime().removeShutdownHook(browser.shutdownHook);
        failure = e instanceof IllegalStateException ise ? ise : new IllegalStateException(e.getMessage(), e);
        if (!portTaken) {
          break;
        }
      }
    }
    deleteTree(dir);
    throw failure;
  }

  /** Loads {@code url} and waits for its load event (at most 15 s). */
  void open(String url) {
    command("POST", "/url", Map.of("url", url), SCRIPT);
  }

  /**
   * Runs {@code script} in the open page as a W3C "execute async script": the body of a function
   * whose {@code arguments} are {@code args} (as JSON) followed by a callback. The script calls the
   * callback once with its result, and this returns that result as JSON (a DOM node or a function
   * cannot be returned). A script that throws, or calls no callback within 15 s, fails with
   * WebDriver's {@code javascript error} or {@code script timeout}.
   */
  JsonNode executeAsync(String script, Object... args) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("script", script);
    body.put("args", Arrays.asList(args));
    return command("POST", "/execute/async", body, SCRIPT);
  }

  /**
   * {@code fetch(url, init)} from the open page, as a script on the page's origin would call it;
   * {@code init} is fetch's options ({@code method}, {@code headers}, {@code body},
   * {@code credentials}, {@code mode}...).
   */
  Fetched fetch(String url, Map<String, ?> init) {
    consoleLines();
    JsonNode out = executeAsync(FETCH, url, init == null ? Map.of() : init);
    if (out.has("error")) {
      List<String> console = consoleLines();
      if (console.isEmpty()) {
        sleep(200);
        console = consoleLines();
      }
      return new Refused(out.get("error").asText(), out.get("message").asText(), console);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    out.get("headers").fields().forEachRemaining(h -> headers.put(h.getKey(), h.getValue().asText()));
    return new Answered(out.get("status").asInt(), headers, out.get("body").asText());
  }

  /**
   * The browser's console and network log lines since the last call (chromedriver keeps them until
   * read), each as Chromium prints it: {@code "http://127.0.0.1:4711/ - Access to fetch at ..."}.
   */
  List<String> consoleLines() {
    JsonNode entries = command("POST", "/se/log", Map.of("type", "browser"), SCRIPT);
    List<String> lines = new ArrayList<>();
    entries.forEach(e -> lines.add(e.path("message").asText()));
    return lines;
  }

  /** The browser's version as its session reports it, e.g. {@code 156.0.8078.129}. */
  String version() {
    return browserVersion;
  }

  /** How long {@link #start()} took: chromedriver ready and the browser's session created. */
  Duration startup() {
    return startup;
  }

  @Override
  public void close() {
    try {
      if (session != null && driver.isAlive()) {
        send("DELETE", "/session/" + session, null, SESSION_START);
      }
    } catch (RuntimeException e) {
      // The processes are killed below either way.
    } finally {
      session = null;
      stopProcesses();
      deleteTree(dir);
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down: the hook runs and finds nothing left.
      }
    }
  }

  private static void requireInstalled(Path binary, String debianPackage) {
    if (Files.isExecutable(binary)) {
      return;
    }
    String why = debianPackage + " is not installed (no " + binary + "): apt-get install --no-install-recommends "
        + debianPackage;
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new IllegalStateException(why + ". CI=true, so this fails instead of skipping: .ci/run installs it");
    }
    Assumptions.abort(why);
  }

  private static Process startDriver(Path dir, int port) {
    ProcessBuilder builder = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port,
        "--allowed-ips=127.0.0.1", "--log-path=" + dir.resolve("chromedriver.log"))
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("chromedriver.out").toFile());
    // Chromium keeps its crash database under $HOME/.config: here, not in the user's home.
    builder.environment().put("HOME", dir.resolve("home").toString());
    builder.environment().remove("XDG_CONFIG_HOME");
    builder.environment().remove("XDG_CACHE_HOME");
    try {
      return builder.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start " + CHROMEDRIVER + ": " + e.getMessage(), e);
    }
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + DRIVER_READY.toNanos();
    while (true) {
      if (!driver.isAlive()) {
        throw new IllegalStateException(CHROMEDRIVER + " exited with status " + driver.exitValue()
            + " before it was ready" + logTail());
      }
      try {
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(endpoint.resolve("/status"))
            .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (status.statusCode() == 200 && JSON.readTree(status.body()).at("/value/ready").asBoolean()) {
          return;
        }
      } catch (ConnectException e) {
        // Not listening yet.
      } catch (IOException e) {
        throw new IllegalStateException("chromedriver's /status failed: " + e + logTail(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while chromedriver started", e);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("chromedriver was not ready within " + DRIVER_READY.toSeconds() + " s"
            + logTail());
      }
      sleep(50);
    }
  }

  private void createSession() {
    Map<String, Object> chromeOptions = Map.of(
        "binary", CHROMIUM.toString(),
        "args", List.of("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--user-data-dir=" + dir.resolve("profile"), "--no-first-run", "--no-default-browser-check",
            // Tests talk to loopback only; a CI machine's http_proxy must not take their requests.
            "--no-proxy-server"));
    Map<String, Object> capabilities = Map.of(
        "browserName", "chrome",
        "pageLoadStrategy", "normal",
        "timeouts", Map.of("script", SCRIPT.toMillis(), "pageLoad", SCRIPT.toMillis(), "implicit", 0),
        "goog:loggingPrefs", Map.of("browser", "ALL"),
        "goog:chromeOptions", chromeOptions);
    JsonNode created = send("POST", "/session", Map.of("capabilities", Map.of("alwaysMatch", capabilities)),
        SESSION_START);
    session = created.get("sessionId").asText();
    browserVersion = created.at("/capabilities/browserVersion").asText();
  }

  private JsonNode command(String method, String path, Object body, Duration timeout) {
    if (session == null) {
      throw new IllegalStateException("the browser is closed");
    }
    return send(method, "/session/" + session + path, body, timeout);
  }

  /** One WebDriver call: the {@code value} of its answer, or WebDriver's error as an exception. */
  private JsonNode send(String method, String path, Object body, Duration timeout) {
    HttpResponse<String> response;
    try {
      HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body), StandardCharsets.UTF_8);
      response = http.send(HttpRequest.newBuilder(endpoint.resolve(path))
          .timeout(timeout.plus(MARGIN))
          .header("Content-Type", "application/json; charset=utf-8")
          .method(method, publisher).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("WebDriver " + method + " " + path + " failed: " + e
          + (driver.isAlive() ? "" : " (chromedriver has exited)") + logTail(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during WebDriver " + method + " " + path, e);
    }
    JsonNode value;
    try {
      value = JSON.readTree(response.body()).path("value");
    } catch (IOException e) {
      throw new IllegalStateException("WebDriver " + method + " " + path + " answered " + response.statusCode()
          + " with a body that is not JSON: " + response.body(), e);
    }
    if (response.statusCode() != 200) {
      throw new IllegalStateException("WebDriver " + method + " " + path + " answered " + response.statusCode()
          + ": " + value.path("error").asText() + ": " + value.path("message").asText() + logTail());
    }
    return value;
  }

  /** Kills chromedriver and every process of this browser; safe to call more than once. */
  private void stopProcesses() {
    List<ProcessHandle> browser = new ArrayList<>(driver.descendants().toList());
    driver.destroy();
    try {
      if (!driver.waitFor(5, TimeUnit.SECONDS)) {
        driver.destroyForcibly();
      }
    } catch (InterruptedException e) {
      driver.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    String mark = dir.toString();
    try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
      all.filter(p -> p.info().commandLine().map(c -> c.contains(mark)).orElse(false)).forEach(browser::add);
    }
    browser.forEach(ProcessHandle::destroyForcibly);
  }

  private String log() {
    try {
      Path log = dir.resolve("chromedriver.out");
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** The last lines of chromedriver's output and log, for an error message. */
  private String logTail() {
    StringBuilder tail = new StringBuilder();
    for (String name : List.of("chromedriver.out", "chromedriver.log")) {
      try {
        Path file = dir.resolve(name);
        if (Files.exists(file)) {
          List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
          tail.append("\n--- ").append(name).append(" (last lines) ---\n")
              .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
        }
      } catch (IOException | UncheckedIOException e) {
        tail.append("\n(").append(name).append(" unreadable: ").append(e.getMessage()).append(')');
      }
    }
    return tail.toString();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // A temporary directory left behind is not worth failing a test for.
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}

package io.tributary.http;

import com.typesafe.config.Config;
import io.tributary.api.Arns;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The {@code tributary.*} settings the API layer reads (defaults and comments in reference.conf). */
public record ApiSettings(
    String host,
    int port,
    String advertisedUrl,
    Arns arns,
    Map<String, String> credentials,
    boolean authEnabled,
    Set<String> runtimes,
    int accountConcurrency,
    int minimumUnreserved,
    Duration askTimeout,
    Duration requestTimeout,
    long maxRequestBytes,
    long maxCodeUploadBytes) {

  public static ApiSettings fromConfig(Config root) {
    Config c = root.getConfig("tributary");
    Map<String, String> credentials = new LinkedHashMap<>();
    for (Config pair : c.getConfigList("auth.credentials")) {
      credentials.put(pair.getString("access-key-id"), pair.getString("secret-access-key"));
    }
    if (credentials.isEmpty()) {
      throw new IllegalArgumentException("tributary.auth.credentials is empty: configure at least one access key pair");
    }
    String host = c.getString("http.host");
    int port = c.getInt("http.port");
    String advertised = c.getString("http.advertised-url");
    return new ApiSettings(host, port, advertised.isEmpty() ? "http://" + host + ":" + port : advertised,
        new Arns(c.getString("region"), c.getString("account-id")), credentials, c.getBoolean("auth.enabled"),
        runtimes(c), c.getInt("concurrency.account-limit"),
        c.getInt("concurrency.minimum-unreserved"), c.getDuration("http.ask-timeout"),
        c.getDuration("http.request-timeout"), c.getBytes("http.max-request-size"), c.getBytes("http.max-code-upload-size"));
  }

  /** The same settings offering exactly {@code available} runtime ids (those whose interpreter is installed). */
  public ApiSettings withRuntimes(Set<String> available) {
    return new ApiSettings(host, port, advertisedUrl, arns, credentials, authEnabled, Set.copyOf(available),
        accountConcurrency, minimumUnreserved, askTimeout, requestTimeout, maxRequestBytes, maxCodeUploadBytes);
  }

  /** The runtime ids this node can run: those with an interpreter in {@code tributary.runtime.interpreters}. */
  private static Set<String> runtimes(Config c) {
    Set<String> runtimes = new java.util.TreeSet<>();
    if (c.hasPath("runtime.interpreters")) {
      c.getConfig("runtime.interpreters").root().forEach((id, value) -> {
        if (!String.valueOf(value.unwrapped()).isBlank()) {
          runtimes.add(id);
        }
      });
    }
    return runtimes;
  }
}

package io.tributary.http;

import com.typesafe.config.Config;
import io.tributary.api.Arns;
import io.tributary.api.Runtimes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code tributary.*} settings the API layer reads (defaults and comments in reference.conf),
 * and the runtime ids the node's interpreters offer.
 */
public record ApiSettings(
    String host,
    int port,
    String advertisedUrl,
    Arns arns,
    Map<String, String> credentials,
    boolean authEnabled,
    Map<String, Runtimes.Offer> runtimes,
    int accountConcurrency,
    int minimumUnreserved,
    Duration askTimeout,
    Duration requestTimeout,
    long maxRequestBytes,
    long maxCodeUploadBytes,
    Urls urls) {

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
        Map.of(), c.getInt("concurrency.account-limit"),
        c.getInt("concurrency.minimum-unreserved"), c.getDuration("http.ask-timeout"),
        c.getDuration("http.request-timeout"), c.getBytes("http.max-request-size"), c.getBytes("http.max-code-upload-size"),
        new Urls(c.getString("urls.scheme"), c.getString("urls.domain"),
            c.getInt("urls.port") > 0 ? c.getInt("urls.port") : port));
  }

  /** Where function URLs live: {@code <scheme>://<urlId>.lambda-url.<region>.<domain>[:<port>]/}. */
  public record Urls(String scheme, String domain, int port) {

    String url(String region, String urlId) {
      boolean defaultPort = port <= 0 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
      return scheme + "://" + urlId + ".lambda-url." + region + "." + domain + (defaultPort ? "" : ":" + port) + "/";
    }
  }

  /** The same settings offering exactly the runtime ids of {@code offers} (the node's interpreters). */
  public ApiSettings withRuntimes(Map<String, Runtimes.Offer> offers) {
    return new ApiSettings(host, port, advertisedUrl, arns, credentials, authEnabled, Map.copyOf(offers),
        accountConcurrency, minimumUnreserved, askTimeout, requestTimeout, maxRequestBytes, maxCodeUploadBytes, urls);
  }
}

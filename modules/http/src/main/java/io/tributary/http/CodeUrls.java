package io.tributary.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Presigned download URLs for function code, as GetFunction's {@code Code.Location}: like AWS's
 * presigned S3 URLs they need no credentials, expire after 10 minutes, and any node of the cluster
 * accepts them, because the signing key derives from configuration every node shares.
 */
final class CodeUrls {

  static final Duration VALIDITY = Duration.ofMinutes(10);

  private final String baseUrl;
  private final byte[] key;
  private final Clock clock;

  CodeUrls(String baseUrl, String secret, Clock clock) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.key = SigV4Verifier.hmac(secret.getBytes(StandardCharsets.UTF_8), "tributary-code-url");
    this.clock = clock;
  }

  String url(String sha256Hex) {
    long expires = clock.instant().plus(VALIDITY).getEpochSecond();
    return baseUrl + "/tributary/code/" + sha256Hex + "?expires=" + expires + "&signature=" + signature(sha256Hex, expires);
  }

  boolean valid(String sha256Hex, String expires, String signature) {
    if (expires == null || signature == null) {
      return false;
    }
    long at;
    try {
      at = Long.parseLong(expires);
    } catch (NumberFormatException e) {
      return false;
    }
    return at >= clock.instant().getEpochSecond() && MessageDigest.isEqual(
        signature(sha256Hex, at).getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
  }

  private String signature(String sha256Hex, long expires) {
    return HexFormat.of().formatHex(SigV4Verifier.hmac(key, sha256Hex + "\n" + expires));
  }

}

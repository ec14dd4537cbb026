package io.tributary.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tributary.api.LambdaException;
import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.util.ByteString;

/**
 * Verifies AWS Signature Version 4 on a Lambda API request the way AWS does, so unmodified AWS
 * SDKs and CLIs are accepted.
 *
 * <p>The signature comes from the {@code Authorization} header ({@code AWS4-HMAC-SHA256
 * Credential=AKID/yyyymmdd/region/lambda/aws4_request, SignedHeaders=a;b, Signature=hex}) with the
 * time in {@code X-Amz-Date} (or {@code Date}), or from a presigned query
 * ({@code X-Amz-Credential}, {@code X-Amz-Date}, {@code X-Amz-Expires}, {@code
 * X-Amz-SignedHeaders}, {@code X-Amz-Signature}). The canonical request is rebuilt from the request
 * exactly as received:
 *
 * <ol>
 *   <li>the method;
 *   <li>the canonical URI: the raw (already once percent-encoded) path with empty, {@code .} and
 *       {@code ..} segments resolved, then percent-encoded a second time, keeping only RFC 3986
 *       unreserved characters and {@code /} (so {@code arn%3Aaws} becomes {@code arn%253Aaws});
 *   <li>the canonical query: every parameter (but {@code X-Amz-Signature}) decoded ({@code +} is a
 *       space) and re-encoded to RFC 3986, with {@code =} even when the value is empty, sorted by
 *       name then value and joined with {@code &};
 *   <li>one {@code name:value} line per signed header, in {@code SignedHeaders} order: the name in
 *       lower case, each received value trimmed with inner runs of white space collapsed to one
 *       space, repeated headers joined with {@code ,};
 *   <li>the {@code SignedHeaders} list;
 *   <li>the payload hash: {@code X-Amz-Content-Sha256} when sent (either {@code UNSIGNED-PAYLOAD},
 *       or a hash that must match the body), else the hex SHA-256 of the body.
 * </ol>
 *
 * <p>The string to sign is {@code AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex sha256(canonical
 * request)>}, the key is derived from the secret through the scope's date, region (any region is
 * accepted), service ({@code lambda}, {@code logs} for the log API, {@code events} for event buses) and
 * {@code aws4_request}, and the hex HMAC is
 * compared with the one sent in constant time. Every failure is a 403 with the error type and
 * message AWS sends.
 */
public final class SigV4Verifier {

  private static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final String SERVICE = "lambda";
  /** The node also answers CloudWatch Logs ("logs") and EventBridge ("events") calls, with the same keys. */
  private static final java.util.Set<String> SERVICES = java.util.Set.of(SERVICE, "logs", "events");
  /** Signing keys a node keeps: one per access key, day, region and service in use, so a few. */
  static final int SIGNING_KEYS_KEPT = 1_000;
  private final Cache<String, byte[]> signingKeys = Caffeine.newBuilder().maximumSize(SIGNING_KEYS_KEPT).build();
  private static final String TERMINATOR = "aws4_request";
  private static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
  private static final Duration MAX_PRESIGNED_VALIDITY = Duration.ofDays(7);
  private static final DateTimeFormatter BASIC_ISO =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final HexFormat HEX = HexFormat.of();
  private static final HexFormat UPPER_HEX = HexFormat.of().withUpperCase();

  private final Map<String, String> secretKeyByAccessKeyId;
  private final Duration allowedClockSkew;

  public SigV4Verifier(Map<String, String> secretKeyByAccessKeyId, Duration allowedClockSkew) {
    this.secretKeyByAccessKeyId = Map.copyOf(secretKeyByAccessKeyId);
    this.allowedClockSkew = allowedClockSkew;
  }

  /**
   * {@link #verify(String, String, String, List, byte[], Instant)} for a request as Pekko HTTP
   * received it, its body already read.
   */
  public String verify(HttpRequest request, ByteString body, Instant now) {
    String raw = request.getHeader("Raw-Request-URI").map(HttpHeader::value)
        .orElseGet(() -> request.getUri().toString());
    int q = raw.indexOf('?');
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    request.getHeaders().forEach(h -> headers.add(Map.entry(h.lowercaseName(), h.value())));
    // Pekko moves these two onto the entity; clients sign them as headers.
    if (!request.entity().getContentType().equals(ContentTypes.NO_CONTENT_TYPE)) {
      headers.add(Map.entry("content-type", request.entity().getContentType().toString()));
    }
    request.getHeader("Content-Length").ifPresentOrElse(h -> { }, () ->
        headers.add(Map.entry("content-length", Integer.toString(body.size()))));
    return verify(request.method().name(), q < 0 ? raw : raw.substring(0, q), q < 0 ? null : raw.substring(q + 1),
        headers, body.toArray(), now);
  }

  /** Returns the access key id of the caller, or throws LambdaException with AWS's 403 shape. */
  public String verify(String method, String rawPath, String rawQuery,
      List<Map.Entry<String, String>> headers, byte[] body, Instant now) {
    HeaderTable headerValues = new HeaderTable(headers);
    List<String[]> query = canonicalQueryParameters(rawQuery);
    String authorization = headerValues.first("authorization");
    Signed signed = authorization != null
        ? fromHeader(authorization, headerValues)
        : fromQuery(query);
    String[] scope = checkedScope(signed.credential());
    Instant time = parseTime(signed);
    // A valid X-Amz-Date is already in the form the string to sign needs; only a Date header is reformatted.
    String amzDate = signed.timeSource().equals("date") ? BASIC_ISO.format(time) : signed.time();
    if (!scope[1].equals(amzDate.substring(0, 8))) {
      throw invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
          + " from HTTP: '" + scope[1] + "' != '" + amzDate.substring(0, 8) + "', from '"
          + signed.timeSource() + "'.");
    }
    checkTime(signed, time, now);
    String secret = secretKeyByAccessKeyId.get(scope[0]);
    if (secret == null) {
      throw error("UnrecognizedClientException",
          "The security token included in the request is invalid.");
    }

    StringBuilder canonical = new StringBuilder(512).append(method.toUpperCase(Locale.ROOT)).append('\n')
        .append(canonicalUri(rawPath)).append('\n');
    boolean firstParameter = true;
    for (String[] p : query) {
      if (!(signed.presigned() && p[0].equals("X-Amz-Signature"))) {
        canonical.append(firstParameter ? "" : "&").append(p[0]).append('=').append(p[1]);
        firstParameter = false;
      }
    }
    canonical.append('\n');
    appendCanonicalHeaders(canonical, signed.signedHeaders(), headerValues);
    canonical.append('\n').append(signed.signedHeaders()).append('\n')
        .append(payloadHash(headerValues.first("x-amz-content-sha256"), body));
    String credential = signed.credential();
    String stringToSign = new StringBuilder(160).append(ALGORITHM).append('\n').append(amzDate).append('\n')
        .append(credential, credential.indexOf('/') + 1, credential.length()).append('\n')
        .append(HEX.formatHex(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)))).toString();
    byte[] expected = hmac(signingKey(secret, credential, scope), stringToSign);
    if (!MessageDigest.isEqual(expected, hexOrEmpty(signed.signature()))) {
      throw signatureMismatch();
    }
    return scope[0];
  }

  /** The bytes a hex signature (either case) stands for; none when it is not hex, which no HMAC equals. */
  private static byte[] hexOrEmpty(String hex) {
    try {
      return HEX.parseHex(hex);
    } catch (IllegalArgumentException e) {
      return new byte[0];
    }
  }

  /**
   * The key derived from the secret for one day, region and service: four HMACs that are the same
   * for every request of that day, so they are computed once and kept; past {@link #SIGNING_KEYS_KEPT}
   * Caffeine evicts those least likely to be used again (any region is accepted, so callers choose
   * how many keys there are).
   * The credential, {@code AKID/day/region/service/aws4_request}, names exactly that.
   */
  private byte[] signingKey(String secret, String credential, String[] scope) {
    return signingKeys.get(credential, unused -> {
      byte[] key = ("AWS4" + secret).getBytes(StandardCharsets.UTF_8);
      for (int i = 1; i < scope.length; i++) {
        key = hmac(key, scope[i]);
      }
      return key;
    });
  }

  /** How many signing keys are kept now. */
  long signingKeysKept() {
    signingKeys.cleanUp();
    return signingKeys.estimatedSize();
  }

  /** The signature parameters, from the Authorization header or from a presigned query. */
  private record Signed(String credential, String signedHeaders, String signature,
      String time, String timeSource, Duration presignedValidity) {

    boolean presigned() {
      return presignedValidity != null;
    }
  }

  /**
   * {@code AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…}, read in place: comma
   * separated {@code name=value} pairs, each trimmed, trailing empty ones ignored.
   */
  private static Signed fromHeader(String header, HeaderTable headerValues) {
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    int space = header.indexOf(' ');
    if (space == ALGORITHM.length() && header.startsWith(ALGORITHM)) {
      int from = space + 1;
      int end = header.length();
      while (end > from && header.charAt(end - 1) == ',') {
        end--;
      }
      boolean any = from == header.length();
      while (from < end || any) {
        any = false;
        int comma = header.indexOf(',', from);
        int stop = comma < 0 || comma > end ? end : comma;
        int start = from;
        int last = stop;
        while (start < last && header.charAt(start) <= ' ') {
          start++;
        }
        while (last > start && header.charAt(last - 1) <= ' ') {
          last--;
        }
        int equals = header.indexOf('=', start);
        if (equals < 0 || equals >= last) {
          throw incomplete("'" + header.substring(start, last) + "' not a valid key=value pair (missing equal-sign)"
              + " in Authorization header: '" + header + "'.");
        }
        String value = header.substring(equals + 1, last);
        if (isName(header, start, equals, "Credential")) {
          credential = value;
        } else if (isName(header, start, equals, "SignedHeaders")) {
          signedHeaders = value;
        } else if (isName(header, start, equals, "Signature")) {
          signature = value;
        }
        from = stop + 1;
      }
    }
    StringBuilder missing = new StringBuilder();
    if (credential == null) {
      missing.append("Authorization header requires 'Credential' parameter. ");
    }
    if (signature == null) {
      missing.append("Authorization header requires 'Signature' parameter. ");
    }
    if (signedHeaders == null) {
      missing.append("Authorization header requires 'SignedHeaders' parameter. ");
    }
    String amzDate = headerValues.first("x-amz-date");
    String date = headerValues.first("date");
    if (amzDate == null && date == null) {
      missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a "
          + "'Date' header. ");
    }
    if (missing.length() > 0) {
      throw incomplete(missing + "Authorization=" + header);
    }
    return new Signed(credential, signedHeaders, signature, amzDate != null ? amzDate : date,
        amzDate != null ? "x-amz-date" : "date", null);
  }

  private static boolean isName(String header, int start, int end, String name) {
    return end - start == name.length() && header.startsWith(name, start);
  }

  private static Signed fromQuery(List<String[]> query) {
    Map<String, String> parameters = new LinkedHashMap<>();
    for (String[] parameter : query) {
      if (parameter[0].startsWith("X-Amz-")) {
        parameters.putIfAbsent(parameter[0],
            URLDecoder.decode(parameter[1], StandardCharsets.UTF_8));
      }
    }
    if (!parameters.containsKey("X-Amz-Algorithm") && !parameters.containsKey("X-Amz-Credential")
        && !parameters.containsKey("X-Amz-Signature")) {
      throw error("MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    for (String name : List.of("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
        "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")) {
      if (!parameters.containsKey(name)) {
        throw incomplete("AWS query-string parameters must include '" + name
            + "'. Re-examine the query-string parameters.");
      }
    }
    if (!ALGORITHM.equals(parameters.get("X-Amz-Algorithm"))) {
      throw incomplete("X-Amz-Algorithm only supports '" + ALGORITHM + "'");
    }
    Duration validity;
    try {
      validity = Duration.ofSeconds(Long.parseLong(parameters.get("X-Amz-Expires")));
    } catch (NumberFormatException e) {
      validity = Duration.ZERO;
    }
    if (validity.isZero() || validity.isNegative()
        || validity.compareTo(MAX_PRESIGNED_VALIDITY) > 0) {
      throw incomplete("X-Amz-Expires must be between 1 and 604800 seconds, got '"
          + parameters.get("X-Amz-Expires") + "'");
    }
    return new Signed(parameters.get("X-Amz-Credential"), parameters.get("X-Amz-SignedHeaders"),
        parameters.get("X-Amz-Signature"), parameters.get("X-Amz-Date"), "x-amz-date", validity);
  }

  /** Splits {@code AKID/yyyymmdd/region/service/aws4_request}; any region is accepted. */
  private static String[] checkedScope(String credential) {
    String[] scope = credential.split("/", -1);
    if (scope.length != 5) {
      throw incomplete("Credential must have exactly 5 slash-delimited elements, "
          + "e.g. keyid/date/region/service/term, got '" + credential + "'");
    }
    if (!SERVICES.contains(scope[3])) {
      throw invalid("Credential should be scoped to correct service: '" + SERVICE + "'. ");
    }
    if (!TERMINATOR.equals(scope[4])) {
      throw invalid("Credential should be scoped with a valid terminator: '" + TERMINATOR
          + "', not '" + scope[4] + "'. ");
    }
    if (scope[2].isEmpty()) {
      throw invalid("Credential should be scoped to a valid region. ");
    }
    return scope;
  }

  private static Instant parseTime(Signed signed) {
    try {
      return signed.timeSource().equals("date")
          ? Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(signed.time()))
          : basicIso(signed.time());
    } catch (DateTimeParseException e) {
      throw incomplete("Date must be in ISO-8601 'basic format'. Got '" + signed.time()
          + "'. See http://en.wikipedia.org/wiki/ISO_8601");
    }
  }

  /** {@code yyyyMMdd'T'HHmmss'Z'}, parsed by hand: it is on every request, and a formatter's parse is slow. */
  private static Instant basicIso(String time) {
    if (time.length() != 16 || time.charAt(8) != 'T' || time.charAt(15) != 'Z') {
      throw new DateTimeParseException("not yyyyMMdd'T'HHmmss'Z'", time, 0);
    }
    for (int i = 0; i < 15; i++) {
      if (i != 8 && (time.charAt(i) < '0' || time.charAt(i) > '9')) {
        throw new DateTimeParseException("not yyyyMMdd'T'HHmmss'Z'", time, i);
      }
    }
    try {
      return LocalDateTime.of(Integer.parseInt(time, 0, 4, 10), Integer.parseInt(time, 4, 6, 10),
          Integer.parseInt(time, 6, 8, 10), Integer.parseInt(time, 9, 11, 10), Integer.parseInt(time, 11, 13, 10),
          Integer.parseInt(time, 13, 15, 10)).toInstant(ZoneOffset.UTC);
    } catch (NumberFormatException | java.time.DateTimeException e) {
      throw new DateTimeParseException("not yyyyMMdd'T'HHmmss'Z'", time, 0);
    }
  }

  private void checkTime(Signed signed, Instant time, Instant now) {
    Duration validity = signed.presigned() ? signed.presignedValidity() : allowedClockSkew;
    if (now.isAfter(time.plus(validity))) {
      throw invalid("Signature expired: " + BASIC_ISO.format(time) + " is now earlier than "
          + BASIC_ISO.format(now.minus(validity)) + " (" + BASIC_ISO.format(now) + " - "
          + minutesOrSeconds(validity) + ")");
    }
    if (time.isAfter(now.plus(allowedClockSkew))) {
      throw invalid("Signature not yet current: " + BASIC_ISO.format(time) + " is still later than "
          + BASIC_ISO.format(now.plus(allowedClockSkew)) + " (" + BASIC_ISO.format(now) + " + "
          + minutesOrSeconds(allowedClockSkew) + ")");
    }
  }

  private static String minutesOrSeconds(Duration duration) {
    return duration.toSecondsPart() == 0
        ? duration.toMinutes() + " min."
        : duration.toSeconds() + " sec.";
  }

  /** Resolves empty, {@code .} and {@code ..} segments, then encodes the raw path a second time. */
  static String canonicalUri(String rawPath) {
    if (rawPath == null || rawPath.isEmpty()) {
      return "/";
    }
    if (isPlain(rawPath)) {
      return rawPath.indexOf('%') < 0 ? rawPath : rawPath.replace("%", "%25");
    }
    Deque<String> segments = new ArrayDeque<>();
    for (String segment : rawPath.split("/")) {
      if (segment.equals("..")) {
        segments.pollLast();
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        segments.addLast(segment);
      }
    }
    String path = "/" + String.join("/", segments)
        + (rawPath.endsWith("/") && !segments.isEmpty() ? "/" : "");
    return encode(path.getBytes(StandardCharsets.UTF_8), true);
  }

  /**
   * True when resolving segments and encoding again change nothing but each {@code %}: an absolute
   * path of unreserved characters, {@code /} and {@code %}, without empty, {@code .} or {@code ..}
   * segments. Every API path is; it saves the general path's copies on every request.
   */
  private static boolean isPlain(String path) {
    if (path.charAt(0) != '/') {
      return false;
    }
    int segment = 1;
    for (int i = 1; i <= path.length(); i++) {
      char c = i == path.length() ? '/' : path.charAt(i);
      if (c == '/') {
        int length = i - segment;
        boolean last = i == path.length();
        if ((length == 0 && !last) || (length == 1 && path.charAt(segment) == '.')
            || (length == 2 && path.charAt(segment) == '.' && path.charAt(segment + 1) == '.')) {
          return false;
        }
        segment = i + 1;
      } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~' || c == '%')) {
        return false;
      }
    }
    return true;
  }

  /** Sorted {name, value} pairs, both RFC 3986 encoded; parameters without a name are dropped. */
  static List<String[]> canonicalQueryParameters(String rawQuery) {
    List<String[]> parameters = new ArrayList<>();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&")) {
        int equals = pair.indexOf('=');
        String name = encode(decode(equals < 0 ? pair : pair.substring(0, equals)), false);
        String value = equals < 0 ? "" : encode(decode(pair.substring(equals + 1)), false);
        if (!name.isEmpty()) {
          parameters.add(new String[] {name, value});
        }
      }
    }
    parameters.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
    return parameters;
  }

  private static void appendCanonicalHeaders(StringBuilder canonical, String signedHeaders, HeaderTable headerValues) {
    for (String name : signedHeaders.split(";")) {
      canonical.append(name).append(':');
      headerValues.appendValues(canonical, name.toLowerCase(Locale.ROOT));
      canonical.append('\n');
    }
  }

  /**
   * The request's headers by lower-case name, in arrival order. A request has a dozen: scanning them
   * costs less than hashing them into lists.
   */
  private static final class HeaderTable {
    private final String[] names;
    private final String[] values;

    HeaderTable(List<Map.Entry<String, String>> headers) {
      names = new String[headers.size()];
      values = new String[headers.size()];
      int i = 0;
      for (Map.Entry<String, String> header : headers) {
        names[i] = header.getKey().toLowerCase(Locale.ROOT);
        values[i++] = header.getValue();
      }
    }

    /** The first value of header {@code name}, stripped; null when absent. */
    String first(String name) {
      for (int i = 0; i < names.length; i++) {
        if (names[i].equals(name)) {
          return values[i].strip();
        }
      }
      return null;
    }

    /** Every value of header {@code name}, trimmed and collapsed, joined with {@code ,}. */
    void appendValues(StringBuilder out, String name) {
      boolean any = false;
      for (int i = 0; i < names.length; i++) {
        if (names[i].equals(name)) {
          if (any) {
            out.append(',');
          }
          appendTrimmedCollapsed(out, values[i]);
          any = true;
        }
      }
    }
  }

  /** The value without leading and trailing white space (what {@code \s} matches), inner runs of it as one space. */
  static void appendTrimmedCollapsed(StringBuilder out, String value) {
    boolean written = false;
    boolean space = false;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r') {
        space = written;
      } else {
        if (space) {
          out.append(' ');
          space = false;
        }
        out.append(c);
        written = true;
      }
    }
  }

  private static String payloadHash(String declared, byte[] body) {
    if (UNSIGNED_PAYLOAD.equals(declared)) {
      return declared;
    }
    String actual = HEX.formatHex(sha256(body));
    if (declared != null && !declared.equalsIgnoreCase(actual)) {
      throw signatureMismatch();
    }
    return declared != null ? declared : actual;
  }

  private static byte[] decode(String encoded) {
    byte[] bytes = encoded.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream decoded = new ByteArrayOutputStream(bytes.length);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '%' && i + 2 < bytes.length
          && HexFormat.isHexDigit(bytes[i + 1]) && HexFormat.isHexDigit(bytes[i + 2])) {
        decoded.write(
            HexFormat.fromHexDigit(bytes[i + 1]) * 16 + HexFormat.fromHexDigit(bytes[i + 2]));
        i += 2;
      } else {
        decoded.write(bytes[i] == '+' ? ' ' : bytes[i]);
      }
    }
    return decoded.toByteArray();
  }

  private static String encode(byte[] bytes, boolean keepSlash) {
    StringBuilder encoded = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
        encoded.append(c);
      } else {
        encoded.append('%').append(UPPER_HEX.toHexDigits(b));
      }
    }
    return encoded.toString();
  }

  // One per thread: the provider lookup of getInstance costs more than hashing a small request.
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });
  private static final ThreadLocal<Mac> HMAC = ThreadLocal.withInitial(() -> {
    try {
      return Mac.getInstance("HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  });

  static byte[] sha256(byte[] bytes) {
    return SHA256.get().digest(bytes);
  }

  /** The key the thread's Mac was last initialised with: requests of a day share one signing key. */
  private static final ThreadLocal<byte[]> HMAC_KEY = new ThreadLocal<>();

  static byte[] hmac(byte[] key, String data) {
    Mac mac = HMAC.get();
    if (HMAC_KEY.get() != key) {
      try {
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
      HMAC_KEY.set(key);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  private static LambdaException signatureMismatch() {
    return invalid("The request signature we calculated does not match the signature you provided."
        + " Check your AWS Secret Access Key and signing method. Consult the service documentation"
        + " for details.");
  }

  private static LambdaException incomplete(String message) {
    return error("IncompleteSignatureException", message);
  }

  private static LambdaException invalid(String message) {
    return error("InvalidSignatureException", message);
  }

  private static LambdaException error(String errorType, String message) {
    return new LambdaException(403, errorType, message);
  }
}

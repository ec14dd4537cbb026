package io.tributary.api;

import java.util.List;

/**
 * A function URL of {@code $LATEST} or an alias, in Lambda's names. {@code urlId} is chosen once, at
 * creation, and names the URL's host ({@code <urlId>.lambda-url.<region>.<domain>}) on every node
 * for as long as the URL exists. The persisted form: a field added later needs a default here.
 */
public record FunctionUrlConfig(
    String urlId,
    String authType,
    Cors cors,
    String invokeMode,
    String creationTime,
    String lastModifiedTime) {

  public static final String NONE = "NONE";
  public static final String AWS_IAM = "AWS_IAM";
  public static final String BUFFERED = "BUFFERED";
  public static final String RESPONSE_STREAM = "RESPONSE_STREAM";

  public FunctionUrlConfig {
    invokeMode = invokeMode == null ? BUFFERED : invokeMode;
  }

  /** AWS's {@code Cors}; null members are absent, as in AWS's answers. */
  public record Cors(Boolean allowCredentials, List<String> allowHeaders, List<String> allowMethods,
                     List<String> allowOrigins, List<String> exposeHeaders, Integer maxAge) {}

  /** This configuration with what an update names; null keeps a member. */
  public FunctionUrlConfig updated(String newAuthType, Cors newCors, String newInvokeMode, String now) {
    return new FunctionUrlConfig(urlId, newAuthType != null ? newAuthType : authType, newCors != null ? newCors : cors,
        newInvokeMode != null ? newInvokeMode : invokeMode, creationTime, now);
  }
}

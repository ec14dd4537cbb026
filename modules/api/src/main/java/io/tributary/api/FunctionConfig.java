package io.tributary.api;

import java.util.List;
import java.util.Map;

/**
 * The configuration of one function version ({@code $LATEST} or a published number), in Lambda's
 * own names. It is the persisted form too: a field added later must get a default in the compact
 * constructor, because events written before it exist read it as null.
 *
 * <p>{@code codeUnzippedSize} and each layer's sizes and hash are Tributary's own: what the 250 MB limit
 * counts and where a node finds the content (0 for code stored before it was recorded).
 *
 * <p>Fields Tributary accepts without acting on them yet (TracingConfig, KMSKeyArn, DeadLetterConfig,
 * EphemeralStorage, Architectures) are kept and echoed, as AWS does.
 */
public record FunctionConfig(
    String functionName,
    String version,
    String runtime,
    String role,
    String handler,
    String description,
    int timeout,
    int memorySize,
    Map<String, String> environment,
    String codeSha256,
    long codeSize,
    String codeSha256Hex,
    long codeUnzippedSize,
    List<String> architectures,
    int ephemeralStorageSize,
    String tracingMode,
    String kmsKeyArn,
    String deadLetterTargetArn,
    LoggingConfig loggingConfig,
    List<Layer> layers,
    String lastModified,
    String revisionId,
    String state,
    String lastUpdateStatus) {

  public static final String LATEST = "$LATEST";
  public static final int DEFAULT_TIMEOUT = 3;
  public static final int DEFAULT_MEMORY_SIZE = 128;
  public static final int DEFAULT_EPHEMERAL_STORAGE = 512;

  public FunctionConfig {
    version = version == null ? LATEST : version;
    description = description == null ? "" : description;
    timeout = timeout == 0 ? DEFAULT_TIMEOUT : timeout;
    memorySize = memorySize == 0 ? DEFAULT_MEMORY_SIZE : memorySize;
    environment = environment == null ? Map.of() : Map.copyOf(environment);
    architectures = architectures == null || architectures.isEmpty() ? List.of("x86_64") : List.copyOf(architectures);
    ephemeralStorageSize = ephemeralStorageSize == 0 ? DEFAULT_EPHEMERAL_STORAGE : ephemeralStorageSize;
    tracingMode = tracingMode == null ? "PassThrough" : tracingMode;
    loggingConfig = loggingConfig == null ? LoggingConfig.defaults(functionName) : loggingConfig;
    layers = layers == null ? List.of() : List.copyOf(layers);
    state = state == null ? "Active" : state;
    lastUpdateStatus = lastUpdateStatus == null ? "Successful" : lastUpdateStatus;
  }

  /**
   * Lambda's {@code LoggingConfig}; the defaults are AWS's. As a request it may be partial (null members
   * are absent): {@link #over} merges it onto the function's current one.
   */
  public record LoggingConfig(String logFormat, String applicationLogLevel, String systemLogLevel, String logGroup) {
    public static LoggingConfig defaults(String functionName) {
      return new LoggingConfig("Text", null, null, "/aws/lambda/" + functionName);
    }

    /**
     * This request's members over {@code current}, as CreateFunction and UpdateFunctionConfiguration
     * merge them: an absent member keeps its value; levels exist only with {@code LogFormat: JSON}, where
     * an absent one is {@code INFO}; a function switched to {@code Text} loses its levels. Levels asked
     * for with {@code Text} are refused with AWS's InvalidParameterValueException.
     */
    public LoggingConfig over(LoggingConfig current) {
      String format = logFormat != null ? logFormat : current.logFormat();
      if (!"JSON".equals(format) && (applicationLogLevel != null || systemLogLevel != null)) {
        throw LambdaException.invalidParameter("LogLevel is not supported when LogFormat is set to \"Text\". Remove"
            + " LogLevel from your request or change the LogFormat to \"Json\" and try again.");
      }
      boolean json = "JSON".equals(format);
      return new LoggingConfig(format,
          json ? first(applicationLogLevel, current.applicationLogLevel(), "INFO") : null,
          json ? first(systemLogLevel, current.systemLogLevel(), "INFO") : null,
          logGroup != null ? logGroup : current.logGroup());
    }

    private static String first(String asked, String current, String otherwise) {
      return asked != null ? asked : current != null ? current : otherwise;
    }
  }

  /**
   * A layer version the function uses: its ARN as AWS shows it ({@code arn:…:layer:name:N}), its zip's
   * size, and what a node needs to find and count its content.
   */
  public record Layer(String arn, long codeSize, String codeSha256Hex, long unzippedSize) {}

  /** Most layers a function may use, as in AWS. */
  public static final int MAX_LAYERS = 5;

  /**
   * AWS's check that the function's code and its layers, unzipped, fit in 250 MB together.
   *
   * @throws LambdaException 400 {@code InvalidParameterValueException} with AWS's message
   */
  public void checkUnzippedSize() {
    long total = codeUnzippedSize + layers.stream().mapToLong(Layer::unzippedSize).sum();
    if (!layers.isEmpty() && total > CodePackage.MAX_UNZIPPED_BYTES) {
      throw LambdaException.invalidParameter("Function code combined with layers exceeds the maximum allowed size of "
          + CodePackage.MAX_UNZIPPED_BYTES + " bytes. The actual size is " + total + " bytes.");
    }
  }

  public FunctionConfig withVersion(String newVersion, String newDescription, String newRevisionId, String now) {
    return new FunctionConfig(functionName, newVersion, runtime, role, handler, newDescription, timeout, memorySize,
        environment, codeSha256, codeSize, codeSha256Hex, codeUnzippedSize, architectures, ephemeralStorageSize,
        tracingMode, kmsKeyArn, deadLetterTargetArn, loggingConfig, layers, now, newRevisionId, state, lastUpdateStatus);
  }

  public FunctionConfig withCode(String newSha256, long newSize, String newSha256Hex, long newUnzippedSize,
      String newRevisionId, String now) {
    return new FunctionConfig(functionName, version, runtime, role, handler, description, timeout, memorySize,
        environment, newSha256, newSize, newSha256Hex, newUnzippedSize, architectures, ephemeralStorageSize, tracingMode,
        kmsKeyArn, deadLetterTargetArn, loggingConfig, layers, now, newRevisionId, state, lastUpdateStatus);
  }

  public FunctionConfig withRevision(String newRevisionId, String now) {
    return new FunctionConfig(functionName, version, runtime, role, handler, description, timeout, memorySize,
        environment, codeSha256, codeSize, codeSha256Hex, codeUnzippedSize, architectures, ephemeralStorageSize,
        tracingMode, kmsKeyArn, deadLetterTargetArn, loggingConfig, layers, now, newRevisionId, state, lastUpdateStatus);
  }

  /**
   * Whether publishing this {@code $LATEST} would produce a version different from {@code published}:
   * AWS returns the existing version when neither code nor configuration changed.
   */
  public boolean publishesSameAs(FunctionConfig published) {
    return published != null
        && withVersion(LATEST, "", "", "").equals(published.withVersion(LATEST, "", "", ""));
  }
}

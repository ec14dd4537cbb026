package io.tributary.api;

/**
 * A function's (or one qualifier's) configuration of asynchronous invocation, as
 * PutFunctionEventInvokeConfig stores it. Null members are unset: AWS's defaults apply (2 retries,
 * 6 hours, no destination).
 */
public record EventInvokeConfig(Integer maximumRetryAttempts, Integer maximumEventAgeInSeconds, String onSuccess,
                                String onFailure, long lastModifiedMillis) {

  public static final int DEFAULT_RETRY_ATTEMPTS = 2;
  public static final int DEFAULT_EVENT_AGE_SECONDS = 21_600;

  /** UpdateFunctionEventInvokeConfig: what {@code patch} sets replaces what this config had. */
  public EventInvokeConfig updatedWith(EventInvokeConfig patch) {
    return new EventInvokeConfig(
        patch.maximumRetryAttempts() != null ? patch.maximumRetryAttempts() : maximumRetryAttempts,
        patch.maximumEventAgeInSeconds() != null ? patch.maximumEventAgeInSeconds() : maximumEventAgeInSeconds,
        patch.onSuccess() != null ? emptyToNull(patch.onSuccess()) : onSuccess,
        patch.onFailure() != null ? emptyToNull(patch.onFailure()) : onFailure,
        patch.lastModifiedMillis());
  }

  public int retryAttempts() {
    return maximumRetryAttempts == null ? DEFAULT_RETRY_ATTEMPTS : maximumRetryAttempts;
  }

  /** An empty string in a patch removes a destination. */
  private static String emptyToNull(String destination) {
    return destination.isEmpty() ? null : destination;
  }
}

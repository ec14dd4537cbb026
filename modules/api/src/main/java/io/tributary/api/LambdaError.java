package io.tributary.api;

/** The serializable form of a {@link LambdaException}, for replies that cross nodes. */
public record LambdaError(int status, String errorType, String message, String reason) {

  public static LambdaError of(LambdaException e) {
    return new LambdaError(e.status(), e.errorType(), e.getMessage(), e.reason());
  }

  public LambdaException toException() {
    return new LambdaException(status, errorType, message, reason);
  }
}

package io.tributary.api;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response the function sends as it produces it (Lambda's response streaming): its bytes, in
 * order, as they arrive, and how it ended. Nothing holds the whole response: the body is read as
 * fast as its one subscriber asks, and the function's writes wait for that.
 */
public interface ResponseStream {

  /** The Content-Type a function gives a response that starts with an HTTP prelude (a JSON object, then 8 NUL bytes). */
  String HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
  /** What a stream is when its runtime names no type. */
  String DEFAULT_CONTENT_TYPE = "application/octet-stream";

  /** The runtime's Content-Type for the response. */
  String contentType();

  /**
   * The response's bytes. One subscriber, once. It fails when the stream was cut (the function timed
   * out, crashed, or went over the size limit); {@link #end} then says why.
   */
  Flow.Publisher<byte[]> body();

  /** Completes, never exceptionally, once the function is done with the response, after the last byte. */
  CompletionStage<End> end();

  /**
   * How a stream ended: {@code errorType} null when it ended well, else what the runtime reported
   * in its trailers (or the platform's cause: {@code Sandbox.Timedout}, {@code Runtime.ExitError},
   * {@code Function.ResponseSizeTooLarge}), with {@code errorDetails} its error document;
   * {@code logTail} the last 4 KB of the log when the caller asked for it; {@code bytes} sent.
   */
  record End(String errorType, String errorDetails, String logTail, long bytes) {

    public boolean failed() {
      return errorType != null;
    }
  }
}

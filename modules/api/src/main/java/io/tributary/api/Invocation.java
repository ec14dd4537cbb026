package io.tributary.api;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One synchronous invocation as a runtime receives it. {@code clientContext} and
 * {@code cognitoIdentity} are the JSON Lambda passes to the runtime, or null.
 * {@code streamResponse}: the caller takes a {@link ResponseStream} (InvokeWithResponseStream, a
 * RESPONSE_STREAM function URL); otherwise a function's stream is collected into a payload, within
 * Invoke's limit.
 */
public record Invocation(
    String requestId,
    String invokedFunctionArn,
    byte[] payload,
    String clientContext,
    String cognitoIdentity,
    boolean tailLog,
    boolean streamResponse) {

  public Invocation(String requestId, String invokedFunctionArn, byte[] payload, String clientContext,
                    String cognitoIdentity, boolean tailLog) {
    this(requestId, invokedFunctionArn, payload, clientContext, cognitoIdentity, tailLog, false);
  }

  /** The same invocation under another ARN (an alias resolved to its version keeps the ARN it was called by). */
  public Invocation withArn(String arn) {
    return new Invocation(requestId, arn, payload, clientContext, cognitoIdentity, tailLog, streamResponse);
  }

  /**
   * A fresh request id: a random (version 4) UUID, as AWS's are. Not from SecureRandom, which costs
   * more than the rest of a request id's uses: the id names a request, it guards nothing.
   */
  public static String newRequestId() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xF000L) | 0x4000L;
    long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low).toString();
  }
}

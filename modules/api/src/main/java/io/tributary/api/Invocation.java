package io.tributary.api;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One synchronous invocation as a runtime receives it. {@code clientContext} and
 * {@code cognitoIdentity} are the JSON Lambda passes to the runtime, or null.
 */
public record Invocation(
    String requestId,
    String invokedFunctionArn,
    byte[] payload,
    String clientContext,
    String cognitoIdentity,
    boolean tailLog) {

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

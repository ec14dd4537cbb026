package io.tributary.runtime.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/** Sleeps as long as the event says: a handler that overruns its timeout. */
public class Sleeper implements RequestHandler<Integer, String> {

  @Override
  public String handleRequest(Integer millis, Context context) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
    return "slept " + millis + " ms, " + context.getRemainingTimeInMillis() / 1000 + " s left";
  }
}

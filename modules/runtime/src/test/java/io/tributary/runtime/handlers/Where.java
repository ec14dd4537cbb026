package io.tributary.runtime.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/**
 * Sleeps as long as the event says, then names the thread it ran on and whether that thread's
 * context classloader was the function's own.
 */
public class Where implements RequestHandler<Integer, String> {

  @Override
  public String handleRequest(Integer millis, Context context) {
    if (millis > 0) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "interrupted";
      }
    }
    boolean ownLoader = Thread.currentThread().getContextClassLoader() == Where.class.getClassLoader();
    return Thread.currentThread().getName() + (ownLoader ? " with the function's classloader" : " with another");
  }
}

package io.tributary.runtime.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** A handler as AWS's Java tutorial writes it, deployed to Tributary in tests. */
public class Greeter implements RequestHandler<Map<String, Object>, Map<String, Object>> {

  private static int calls;

  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    if (event.containsKey("fail")) {
      throw new IllegalArgumentException("cannot greet " + event.get("fail"));
    }
    calls++;
    context.getLogger().log("greeting " + event.get("name"));
    return Map.of("greeting", "Hello, " + event.get("name"), "function", context.getFunctionName(),
        "memory", context.getMemoryLimitInMB(), "calls", calls, "java", Runtime.version().feature());
  }
}

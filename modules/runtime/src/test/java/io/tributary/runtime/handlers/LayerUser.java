package io.tributary.runtime.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** A handler that uses {@link Salutation} from a layer's jar, and says which jar that was. */
public class LayerUser implements RequestHandler<Map<String, String>, Map<String, String>> {

  @Override
  public Map<String, String> handleRequest(Map<String, String> event, Context context) {
    return Map.of("salutation", Salutation.of(event.get("name")),
        "from", String.valueOf(Salutation.class.getProtectionDomain().getCodeSource().getLocation()));
  }
}

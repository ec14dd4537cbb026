package io.tributary.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.LambdaException;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** Responses in AWS's conventions: JSON bodies, and errors as {@code {"Type","message"}} plus X-Amzn-ErrorType. */
final class Responses {

  private Responses() {}

  static HttpResponse json(int status, JsonNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }

  static HttpResponse empty(int status) {
    return HttpResponse.create().withStatus(status);
  }

  static HttpResponse error(LambdaException e) {
    ObjectNode body = JsonBody.MAPPER.createObjectNode();
    body.put("Type", e.faultType());
    body.put("message", e.getMessage());
    if (e.reason() != null) {
      body.put("Reason", e.reason());
    }
    return json(e.status(), body).addHeader(RawHeader.create("X-Amzn-ErrorType", e.errorType()));
  }
}

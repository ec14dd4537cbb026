package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.tributary.api.LambdaException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** Responses in AWS's conventions: JSON bodies, and errors as {@code {"Type","message"}} plus X-Amzn-ErrorType. */
final class Responses {

  private Responses() {}

  /** AWS's error document. */
  record ErrorDocument(String type, @JsonProperty("message") String message,
               @JsonInclude(JsonInclude.Include.NON_NULL) String reason) {}

  /** {@code body}, a record of an AWS shape, as the JSON of a response. */
  static HttpResponse json(int status, Object body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bytes(body)));
  }

  static byte[] bytes(Object body) {
    try {
      return JsonBody.MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("A response shape that Jackson cannot write: " + body.getClass(), e);
    }
  }

  static String text(Object body) {
    try {
      return JsonBody.MAPPER.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("A response shape that Jackson cannot write: " + body.getClass(), e);
    }
  }

  static HttpResponse empty(int status) {
    return HttpResponse.create().withStatus(status);
  }

  /** The JSON 1.1 protocol's error document, as EventBridge's SDK clients and the AWS CLI read it. */
  record Json11Error(@JsonProperty("__type") String type, @JsonProperty("message") String message) {}

  static final ContentType.NonBinary JSON_11 = ContentTypes.create(
      MediaTypes.applicationWithFixedCharset("x-amz-json-1.1", HttpCharsets.UTF_8));

  /** {@code e} in the shape of a JSON 1.1 API ({@code json11}) or of Lambda's REST API. */
  static HttpResponse error(LambdaException e, boolean json11) {
    if (!json11) {
      return error(e);
    }
    return HttpResponse.create().withStatus(e.status())
        .withEntity(HttpEntities.create(JSON_11, bytes(new Json11Error(e.errorType(), e.getMessage()))))
        .addHeader(RawHeader.create("X-Amzn-ErrorType", e.errorType()));
  }

  /** {@code body} as a JSON 1.1 API's answer. */
  static HttpResponse json11(Object body) {
    return HttpResponse.create().withStatus(200).withEntity(HttpEntities.create(JSON_11, bytes(body)));
  }

  static HttpResponse error(LambdaException e) {
    return json(e.status(), new ErrorDocument(e.faultType(), e.getMessage(), e.reason()))
        .addHeader(RawHeader.create("X-Amzn-ErrorType", e.errorType()));
  }
}

package io.tributary.connectors;

import io.tributary.api.Destination;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;

/** An SQS-compatible queue: each message one SendMessage. */
final class SqsDestination implements Destination {
  private final SqsAsyncClient client;
  private final String queueUrl;

  SqsDestination(SqsAsyncClient client, String queueUrl) {
    this.client = client;
    this.queueUrl = queueUrl;
  }

  @Override
  public CompletionStage<Void> send(Message message) {
    Map<String, MessageAttributeValue> attributes = new LinkedHashMap<>();
    message.attributes().forEach((name, value) -> attributes.put(name, MessageAttributeValue.builder()
        .dataType(value instanceof Number ? "Number" : "String").stringValue(String.valueOf(value)).build()));
    SendMessageRequest request = SendMessageRequest.builder().queueUrl(queueUrl)
        .messageBody(new String(message.body(), StandardCharsets.UTF_8))
        .messageAttributes(attributes).build();
    return client.sendMessage(request).handle((response, failure) -> {
      if (failure == null) {
        return null;
      }
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null
          ? failure.getCause() : failure;
      if (cause instanceof AwsServiceException e && e.statusCode() == 400 && !e.isThrottlingException()
          && !"AWS.SimpleQueueService.NonExistentQueue".equals(e.awsErrorDetails().errorCode())
          && !"QueueDoesNotExist".equals(e.awsErrorDetails().errorCode())) {
        throw new Rejected(queueUrl + " refused the message: " + e.awsErrorDetails().errorMessage(), e);
      }
      throw new CompletionException(cause);
    });
  }

  @Override
  public String toString() {
    return queueUrl;
  }
}

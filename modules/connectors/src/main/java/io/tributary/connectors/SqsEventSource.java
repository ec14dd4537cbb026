package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.tributary.api.EventSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * An SQS-compatible queue, read with long polling: a batch is what arrives within the batching
 * window (or one long poll), up to the batch size. A processed batch is deleted; a failed one is
 * left alone, so its messages come back after their visibility timeout, as in AWS. On a FIFO
 * queue, the queue itself keeps a message group's later messages back while earlier ones are in
 * flight, so groups stay in order however many pollers read.
 */
final class SqsEventSource implements EventSource {
  private static final JsonFactory JSON = new JsonFactory();
  /** SQS's longest long poll and largest receive. */
  private static final int LONG_POLL_SECONDS = 20;
  private static final int RECEIVE_MAX = 10;
  /**
   * For AWS's 6 MB batch cap: the poller stops gathering while one more receive could pass it (10
   * messages of SQS's largest, 256 KB, with their JSON).
   */
  private static final long MESSAGE_EVENT_BYTES = 256 * 1024 + 4 * 1024;

  private final SqsAsyncClient client;
  private final String queueUrl;
  private final String queueArn;
  private final String region;
  private final Duration window;
  private final RecordFilter filter;
  /** The receipt handles of each batch handed out and not yet settled. */
  private final Map<Batch, Map<String, String>> handles = new IdentityHashMap<>();

  /** {@code filter} null: every message passes; those that do not are deleted without an invoke, as in AWS. */
  SqsEventSource(SqsAsyncClient client, String queueUrl, String queueArn, String region, int windowSeconds,
                 RecordFilter filter) {
    this.filter = filter;
    this.client = client;
    this.queueUrl = queueUrl;
    this.queueArn = queueArn;
    this.region = region;
    this.window = Duration.ofSeconds(windowSeconds);
  }

  @Override
  public List<Batch> poll(Duration wait, int maxRecords) {
    List<Message> messages = new ArrayList<>();
    long deadline = System.nanoTime() + window.toNanos();
    int waitSeconds = (int) Math.min(LONG_POLL_SECONDS, Math.max(1, wait.toSeconds()));
    long bytes = 0;
    do {
      int want = Math.min(RECEIVE_MAX, maxRecords - messages.size());
      int seconds = messages.isEmpty() ? waitSeconds
          : (int) Math.max(0, Math.min(LONG_POLL_SECONDS, (deadline - System.nanoTime()) / 1_000_000_000L));
      List<Message> received = receive(want, seconds);
      messages.addAll(received);
      bytes += received.stream().mapToLong(SqsEventSource::eventBytes).sum();
      if (received.isEmpty() && !messages.isEmpty()) {
        break;
      }
    } while (messages.size() < maxRecords && !messages.isEmpty() && System.nanoTime() < deadline
        && bytes + RECEIVE_MAX * MESSAGE_EVENT_BYTES <= MAX_BATCH_BYTES);
    if (messages.isEmpty()) {
      return List.of();
    }
    List<Message> passed = filter == null ? messages
        : messages.stream().filter(m -> filter.matches(asJson(m))).toList();
    Batch batch = new Batch(queueArn, passed.isEmpty() ? null : event(passed),
        passed.stream().map(m -> new Item(m.messageId(), sentAt(m))).toList(), messages.get(0).messageId(),
        messages.get(messages.size() - 1).messageId());
    Map<String, String> receipts = new java.util.LinkedHashMap<>();
    messages.forEach(m -> receipts.put(m.messageId(), m.receiptHandle()));
    handles.put(batch, receipts);
    return List.of(batch);
  }

  /** About what a message adds to the event: its body, attributes, ids and the JSON around them. */
  private static long eventBytes(Message m) {
    long size = 1024 + (m.body() == null ? 0 : m.body().length());
    for (Map.Entry<String, MessageAttributeValue> a : m.messageAttributes().entrySet()) {
      MessageAttributeValue v = a.getValue();
      size += 128 + a.getKey().length() + (v.stringValue() == null ? 0 : v.stringValue().length())
          + (v.binaryValue() == null ? 0 : 4L * v.binaryValue().asByteArray().length / 3);
    }
    return size;
  }

  private static long sentAt(Message m) {
    String sent = m.attributes().get(MessageSystemAttributeName.SENT_TIMESTAMP);
    return sent == null ? System.currentTimeMillis() : Long.parseLong(sent);
  }

  private List<Message> receive(int max, int waitSeconds) {
    try {
      return client.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(max).waitTimeSeconds(waitSeconds)
              .messageSystemAttributeNames(MessageSystemAttributeName.ALL).messageAttributeNames("All")
              .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofSeconds(waitSeconds + 10L))))
          .get(waitSeconds + 15L, TimeUnit.SECONDS).messages();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Could not receive from " + queueUrl + ": "
          + (e.getCause() != null ? e.getCause().getMessage() : e.toString()), e);
    }
  }

  /** A message as filters see it: its body as the JSON it holds, when it holds JSON. */
  private com.fasterxml.jackson.databind.JsonNode asJson(Message m) {
    var o = RecordFilter.object();
    o.put("messageId", m.messageId());
    o.set("body", RecordFilter.payload(m.body() == null ? null : m.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    var attributes = o.putObject("attributes");
    m.attributesAsStrings().forEach(attributes::put);
    var messageAttributes = o.putObject("messageAttributes");
    m.messageAttributes().forEach((name, v) -> messageAttributes.putObject(name).put("stringValue", v.stringValue())
        .put("dataType", v.dataType()));
    o.put("eventSource", "aws:sqs");
    o.put("eventSourceARN", queueArn);
    o.put("awsRegion", region);
    return o;
  }

  /** AWS's SQS event: {@code Records}, one per message. */
  private byte[] event(List<Message> messages) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256 + messages.size() * 512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("Records");
      for (Message m : messages) {
        g.writeStartObject();
        g.writeStringField("messageId", m.messageId());
        g.writeStringField("receiptHandle", m.receiptHandle());
        g.writeStringField("body", m.body());
        g.writeObjectFieldStart("attributes");
        for (Map.Entry<String, String> a : m.attributesAsStrings().entrySet()) {
          g.writeStringField(a.getKey(), a.getValue());
        }
        g.writeEndObject();
        g.writeObjectFieldStart("messageAttributes");
        for (Map.Entry<String, MessageAttributeValue> a : m.messageAttributes().entrySet()) {
          MessageAttributeValue v = a.getValue();
          g.writeObjectFieldStart(a.getKey());
          if (v.stringValue() != null) {
            g.writeStringField("stringValue", v.stringValue());
          }
          if (v.binaryValue() != null) {
            g.writeStringField("binaryValue", Base64.getEncoder().encodeToString(v.binaryValue().asByteArray()));
          }
          g.writeArrayFieldStart("stringListValues");
          g.writeEndArray();
          g.writeArrayFieldStart("binaryListValues");
          g.writeEndArray();
          g.writeStringField("dataType", v.dataType());
          g.writeEndObject();
        }
        g.writeEndObject();
        g.writeStringField("md5OfBody", m.md5OfBody());
        if (m.md5OfMessageAttributes() != null) {
          g.writeStringField("md5OfMessageAttributes", m.md5OfMessageAttributes());
        }
        g.writeStringField("eventSource", "aws:sqs");
        g.writeStringField("eventSourceARN", queueArn);
        g.writeStringField("awsRegion", region);
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Deletes the batch's messages but the {@code failed} ones, which come back after their visibility timeout. */
  @Override
  public void checkpoint(Batch batch, java.util.Set<String> failed) {
    Map<String, String> settled = handles.remove(batch);
    if (settled == null) {
      return;
    }
    List<String> receipts = settled.entrySet().stream().filter(e -> !failed.contains(e.getKey()))
        .map(Map.Entry::getValue).toList();
    for (int from = 0; from < receipts.size(); from += RECEIVE_MAX) {
      List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int i = from; i < Math.min(receipts.size(), from + RECEIVE_MAX); i++) {
        entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i)).receiptHandle(receipts.get(i))
            .build());
      }
      try {
        var result = client.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(entries)).get(30, TimeUnit.SECONDS);
        if (!result.failed().isEmpty()) {
          throw new IllegalStateException("Could not delete " + result.failed().size() + " processed messages from "
              + queueUrl + " (they will be delivered again): " + result.failed().get(0).message());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("Could not delete processed messages from " + queueUrl
            + " (they will be delivered again): " + e, e);
      }
    }
  }

  /** The queue's approximate number of visible messages. */
  @Override
  public Map<String, Long> lag() {
    try {
      String visible = client.getQueueAttributes(b -> b.queueUrl(queueUrl)
              .attributeNames(software.amazon.awssdk.services.sqs.model.QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
          .get(10, TimeUnit.SECONDS).attributesAsStrings().get("ApproximateNumberOfMessages");
      return visible == null ? Map.of() : Map.of(queueArn, Long.parseLong(visible));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Map.of();
    } catch (ExecutionException | TimeoutException | NumberFormatException e) {
      return Map.of();
    }
  }

  /** Nothing to do: the messages come back by themselves after their visibility timeout. */
  @Override
  public void rewind(Batch batch) {
    handles.remove(batch);
  }

  @Override
  public void close() {
    handles.clear();
  }
}

package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSourceMapping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetRecordsResponse;
import software.amazon.awssdk.services.dynamodb.model.Record;
import software.amazon.awssdk.services.dynamodb.model.ShardIteratorType;
import software.amazon.awssdk.services.dynamodb.model.StreamRecord;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsAsyncClient;

/**
 * One shard of a DynamoDB stream, from a shard iterator: after a checkpoint, or at TRIM_HORIZON or
 * LATEST. Records are INSERT, MODIFY and REMOVE of items, with the keys and the images the
 * stream's view type holds, in DynamoDB's attribute-value JSON.
 */
final class DynamoDbStreamEventSource extends ShardIteratorSource<Record> {
  private static final JsonFactory JSON = new JsonFactory();

  private final DynamoDbStreamsAsyncClient client;

  DynamoDbStreamEventSource(DynamoDbStreamsAsyncClient client, EventSourceMapping mapping, String shard,
                            String afterPosition, String region, RecordFilter filter) {
    super(mapping.eventSourceArn(), shard, region, filter);
    this.client = client;
    ShardIteratorType type = afterPosition != null ? ShardIteratorType.AFTER_SEQUENCE_NUMBER
        : "LATEST".equals(mapping.startingPosition()) ? ShardIteratorType.LATEST : ShardIteratorType.TRIM_HORIZON;
    startAt(call(client.getShardIterator(b -> b.streamArn(streamArn).shardId(shard).shardIteratorType(type)
        .sequenceNumber(afterPosition)), "GetShardIterator").shardIterator());
  }

  /** DynamoDB Streams answers at most 1,000 records a call. */
  @Override
  Page<Record> fetch(String iterator, int limit) {
    GetRecordsResponse response = call(client.getRecords(b -> b.shardIterator(iterator)
        .limit(Math.min(1_000, limit))), "GetRecords");
    return new Page<>(response.records(), response.nextShardIterator(), null);
  }

  @Override
  String iteratorAt(String sequenceNumber) {
    return call(client.getShardIterator(b -> b.streamArn(streamArn).shardId(shard)
        .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).sequenceNumber(sequenceNumber)),
        "GetShardIterator").shardIterator();
  }

  @Override
  String sequenceNumber(Record record) {
    return record.dynamodb().sequenceNumber();
  }

  @Override
  Instant arrival(Record record) {
    Instant created = record.dynamodb().approximateCreationDateTime();
    return created != null ? created : Instant.now();
  }

  @Override
  long eventBytes(Record record) {
    Long size = record.dynamodb().sizeBytes();
    return 768 + 2 * (size == null ? 0 : size);
  }

  /** AWS's DynamoDB Streams record, its item data in attribute-value JSON ({"S": …}, {"N": …}, …). */
  @Override
  void write(JsonGenerator g, Record r) throws IOException {
    StreamRecord s = r.dynamodb();
    g.writeStartObject();
    g.writeStringField("eventID", r.eventID());
    g.writeStringField("eventName", r.eventNameAsString());
    g.writeStringField("eventVersion", r.eventVersion() == null ? "1.1" : r.eventVersion());
    g.writeStringField("eventSource", "aws:dynamodb");
    g.writeStringField("awsRegion", region);
    g.writeObjectFieldStart("dynamodb");
    if (s.approximateCreationDateTime() != null) {
      g.writeNumberField("ApproximateCreationDateTime",
          BigDecimal.valueOf(s.approximateCreationDateTime().toEpochMilli()).movePointLeft(3));
    }
    writeItem(g, "Keys", s.keys());
    writeItem(g, "NewImage", s.newImage());
    writeItem(g, "OldImage", s.oldImage());
    g.writeStringField("SequenceNumber", s.sequenceNumber());
    if (s.sizeBytes() != null) {
      g.writeNumberField("SizeBytes", s.sizeBytes());
    }
    g.writeStringField("StreamViewType", s.streamViewTypeAsString());
    g.writeEndObject();
    if (r.userIdentity() != null) {
      g.writeObjectFieldStart("userIdentity");
      g.writeStringField("type", r.userIdentity().type());
      g.writeStringField("principalId", r.userIdentity().principalId());
      g.writeEndObject();
    }
    g.writeStringField("eventSourceARN", streamArn);
    g.writeEndObject();
  }

  /** An item (keys or image), left out when the stream does not hold it. */
  private static void writeItem(JsonGenerator g, String name, Map<String, AttributeValue> item) throws IOException {
    if (item == null || item.isEmpty()) {
      return;
    }
    g.writeObjectFieldStart(name);
    for (Map.Entry<String, AttributeValue> attribute : item.entrySet()) {
      g.writeFieldName(attribute.getKey());
      writeValue(g, attribute.getValue());
    }
    g.writeEndObject();
  }

  static void writeValue(JsonGenerator g, AttributeValue v) throws IOException {
    g.writeStartObject();
    switch (v.type()) {
      case S -> g.writeStringField("S", v.s());
      case N -> g.writeStringField("N", v.n());
      case B -> g.writeStringField("B", base64(v.b()));
      case BOOL -> g.writeBooleanField("BOOL", v.bool());
      case NUL -> g.writeBooleanField("NULL", true);
      case SS -> writeStrings(g, "SS", v.ss());
      case NS -> writeStrings(g, "NS", v.ns());
      case BS -> writeStrings(g, "BS", v.bs().stream().map(DynamoDbStreamEventSource::base64).toList());
      case M -> {
        g.writeObjectFieldStart("M");
        for (Map.Entry<String, AttributeValue> entry : v.m().entrySet()) {
          g.writeFieldName(entry.getKey());
          writeValue(g, entry.getValue());
        }
        g.writeEndObject();
      }
      case L -> {
        g.writeArrayFieldStart("L");
        for (AttributeValue element : v.l()) {
          writeValue(g, element);
        }
        g.writeEndArray();
      }
      default -> throw new IllegalStateException("An attribute of a type this SDK does not know: " + v);
    }
    g.writeEndObject();
  }

  private static void writeStrings(JsonGenerator g, String name, List<String> values) throws IOException {
    g.writeArrayFieldStart(name);
    for (String value : values) {
      g.writeString(value);
    }
    g.writeEndArray();
  }

  private static String base64(SdkBytes bytes) {
    return Base64.getEncoder().encodeToString(bytes.asByteArrayUnsafe());
  }

  /** Filters see the record as the function does (AWS filters DynamoDB records on that shape). */
  @Override
  JsonNode asJson(Record r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      write(g, r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return RecordFilter.payload(out.toByteArray());
  }

  /** The item's keys, in name order (the SDK's map keeps the order of each answer). */
  @Override
  String orderKey(Record r) {
    StringBuilder key = new StringBuilder();
    new java.util.TreeMap<>(r.dynamodb().keys()).forEach((name, value) -> key.append(name).append('=')
        .append(value.toString()).append('\u0000'));
    return key.toString();
  }

  @Override
  String batchInfoName() {
    return "DDBStreamBatchInfo";
  }
}

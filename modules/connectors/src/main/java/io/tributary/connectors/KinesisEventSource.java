package io.tributary.connectors;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSourceMapping;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Base64;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * One shard of a Kinesis-compatible stream, from a shard iterator: after a checkpoint
 * (AFTER_SEQUENCE_NUMBER), or from the mapping's starting position (TRIM_HORIZON, LATEST,
 * AT_TIMESTAMP). Streams are named by name in requests: every Kinesis-compatible server takes it,
 * not all take the ARN.
 */
final class KinesisEventSource extends ShardIteratorSource<Record> {

  private final KinesisAsyncClient client;
  private final String streamName;

  KinesisEventSource(KinesisAsyncClient client, EventSourceMapping mapping, String shard, String afterPosition,
                     String region, RecordFilter filter) {
    super(mapping.eventSourceArn(), shard, region, filter);
    this.client = client;
    this.streamName = streamName(mapping.eventSourceArn());
    GetShardIteratorRequest.Builder request = GetShardIteratorRequest.builder().streamName(streamName).shardId(shard);
    if (afterPosition != null) {
      request.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(afterPosition);
    } else if ("AT_TIMESTAMP".equals(mapping.startingPosition())) {
      request.shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
          .timestamp(Instant.ofEpochMilli(mapping.startingPositionTimestampMillis()));
    } else {
      request.shardIteratorType("LATEST".equals(mapping.startingPosition()) ? ShardIteratorType.LATEST
          : ShardIteratorType.TRIM_HORIZON);
    }
    startAt(call(client.getShardIterator(request.build()), "GetShardIterator").shardIterator());
  }

  static String streamName(String streamArn) {
    return streamArn.substring(streamArn.indexOf(":stream/") + ":stream/".length());
  }

  @Override
  Page<Record> fetch(String iterator, int limit) {
    GetRecordsResponse response = call(client.getRecords(b -> b.shardIterator(iterator)
        .limit(Math.min(10_000, limit))), "GetRecords");
    return new Page<>(response.records(), response.nextShardIterator(), response.millisBehindLatest());
  }

  @Override
  String iteratorAt(String sequenceNumber) {
    return call(client.getShardIterator(b -> b.streamName(streamName).shardId(shard)
        .shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).startingSequenceNumber(sequenceNumber)),
        "GetShardIterator").shardIterator();
  }

  @Override
  String sequenceNumber(Record record) {
    return record.sequenceNumber();
  }

  @Override
  Instant arrival(Record record) {
    return record.approximateArrivalTimestamp();
  }

  @Override
  long eventBytes(Record record) {
    return 512 + record.partitionKey().length() + 4L * (record.data().asByteArrayUnsafe().length + 2) / 3;
  }

  /** AWS's Kinesis record: its metadata and its data in base64. (AWS's invokeIdentityArn is left out.) */
  @Override
  void write(JsonGenerator g, Record r) throws IOException {
    g.writeStartObject();
    g.writeObjectFieldStart("kinesis");
    g.writeStringField("kinesisSchemaVersion", "1.0");
    g.writeStringField("partitionKey", r.partitionKey());
    g.writeStringField("sequenceNumber", r.sequenceNumber());
    g.writeStringField("data", Base64.getEncoder().encodeToString(r.data().asByteArrayUnsafe()));
    g.writeNumberField("approximateArrivalTimestamp",
        BigDecimal.valueOf(r.approximateArrivalTimestamp().toEpochMilli()).movePointLeft(3));
    g.writeEndObject();
    g.writeStringField("eventSource", "aws:kinesis");
    g.writeStringField("eventVersion", "1.0");
    g.writeStringField("eventID", shard + ":" + r.sequenceNumber());
    g.writeStringField("eventName", "aws:kinesis:record");
    g.writeStringField("awsRegion", region);
    g.writeStringField("eventSourceARN", streamArn);
    g.writeEndObject();
  }

  /** Its data as the JSON it holds, when it holds JSON, beside its metadata. */
  @Override
  JsonNode asJson(Record r) {
    var o = RecordFilter.object();
    o.put("partitionKey", r.partitionKey());
    o.put("sequenceNumber", r.sequenceNumber());
    o.set("data", RecordFilter.payload(r.data().asByteArray()));
    o.put("eventSource", "aws:kinesis");
    o.put("eventSourceARN", streamArn);
    o.put("awsRegion", region);
    return o;
  }

  @Override
  String orderKey(Record r) {
    return r.partitionKey();
  }

  @Override
  String batchInfoName() {
    return "KinesisBatchInfo";
  }
}

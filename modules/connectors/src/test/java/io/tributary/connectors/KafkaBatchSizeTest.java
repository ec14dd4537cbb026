package io.tributary.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** A Kafka batch stays within AWS's 6 MB cap, counted as the event carries the records (base64). */
class KafkaBatchSizeTest {

  private static List<ConsumerRecord<byte[], byte[]>> records(int count, int valueBytes) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      records.add(new ConsumerRecord<>("orders", 0, i, ("k-" + i).getBytes(), new byte[valueBytes]));
    }
    return records;
  }

  @Test
  void largeRecordsMakeSmallerBatchesUnder6Mb() {
    int count = KafkaEventSource.fitting(records(200, 100 * 1024), 10_000);
    long base64Bytes = (long) count * Base64.getEncoder().encodeToString(new byte[100 * 1024]).length();
    assertTrue(base64Bytes <= io.tributary.api.EventSource.MAX_BATCH_BYTES, count + " records");
    assertTrue(count >= 45, "close to the cap: " + count);
  }

  @Test
  void smallRecordsAreLimitedByTheBatchSizeAndAHugeOneGoesAlone() {
    assertEquals(100, KafkaEventSource.fitting(records(500, 10), 100));
    assertEquals(1, KafkaEventSource.fitting(records(3, 7 * 1024 * 1024), 100));
  }
}

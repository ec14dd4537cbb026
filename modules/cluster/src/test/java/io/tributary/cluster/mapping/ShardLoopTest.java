package io.tributary.cluster.mapping;

import static io.tributary.cluster.mapping.LoopFixture.eventually;
import static io.tributary.cluster.mapping.LoopFixture.functionError;
import static io.tributary.cluster.mapping.LoopFixture.mapping;
import static io.tributary.cluster.mapping.LoopFixture.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.mapping.LoopFixture.Call;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shard loop's rules, on a shard in memory whose checkpoints go to epochs in memory: lanes that
 * keep each key's order, the watermark, bisection and record age on a lane, tumbling windows, and
 * a shard taken over by another poller.
 */
class ShardLoopTest {

  private static final String SHARD = "shardId-000000000001";

  private final LoopFixture fixture = new LoopFixture();
  private final MemoryStream stream = new MemoryStream();
  private final MemoryCheckpoints checkpoints = new MemoryCheckpoints();

  @AfterEach
  void stop() throws InterruptedException {
    fixture.close();
  }

  /** Claims the shard and opens it at its checkpoint, as the ShardPoller does. */
  private ShardSource open() {
    StreamCheckpoints.Checkpoint claimed = checkpoints.claim(LoopFixture.UUID, SHARD).toCompletableFuture().join();
    return new CheckpointedShard(stream, LoopFixture.UUID, SHARD, claimed.epoch(), claimed.position(),
        claimed.window(), checkpoints, fixture.running);
  }

  private void run(EventSourceMapping mapping) {
    fixture.start(new ShardLoop(fixture.context(mapping), this::open)::run);
  }

  private void records(String... ids) {
    for (String id : ids) {
      stream.add(SHARD, id, id.substring(0, 1), fixture.clock.millis());
    }
  }

  @Test
  void eachLaneRunsOneBatchAtATimeSoEachKeyKeepsItsOrder() throws Exception {
    records("a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5", "b5", "a6", "b6");
    fixture.function.hold();
    run(mapping(LoopFixture.KINESIS, 2, null, null, 2, null));

    Call first = fixture.function.next();
    Call second = fixture.function.next();
    assertEquals(List.of("a1", "a2"), first.ids());
    assertEquals(List.of("b1", "b2"), second.ids(), "both lanes at once");
    Thread.sleep(50);
    assertEquals(2, fixture.function.calls().size(), "a lane's next batch waits for its last");
    second.answer().complete(ok("{}"));
    first.answer().complete(ok("{}"));
    int seen = 4;
    while (seen < 12) {
      Call call = fixture.function.next();
      seen += call.ids().size();
      call.answer().complete(ok("{}"));
    }

    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    fixture.function.calls().forEach(call -> (call.ids().get(0).startsWith("a") ? a : b).addAll(call.ids()));
    assertEquals(List.of("a1", "a2", "a3", "a4", "a5", "a6"), a);
    assertEquals(List.of("b1", "b2", "b3", "b4", "b5", "b6"), b);
    eventually(() -> checkpoints.positions().contains("b6"), checkpoints::positions);
  }

  @Test
  void theCheckpointPassesAReadOnlyOnceItAndEveryReadBeforeItAreSettled() throws Exception {
    records("a1", "b1", "a2", "b2", "b3", "b4");
    fixture.function.hold();
    run(mapping(LoopFixture.KINESIS, 2, null, null, 2, null));

    // The worked example of ShardLoop's class doc, step by step.
    Call a12 = fixture.function.next();
    Call b12 = fixture.function.next();
    assertEquals(List.of("a1", "a2"), a12.ids());
    assertEquals(List.of("b1", "b2"), b12.ids());
    b12.answer().complete(ok("{}"));
    Call b34 = fixture.function.next();
    assertEquals(List.of("b3", "b4"), b34.ids());
    b34.answer().complete(ok("{}"));
    eventually(() -> processed() == 4, this::processed);
    Thread.sleep(20);
    assertEquals(List.of(), checkpoints.positions(), "read 2 is settled, but read 1 waits for a1 a2");

    a12.answer().complete(ok("{}"));
    eventually(() -> checkpoints.positions().size() == 2, checkpoints::positions);
    assertEquals(List.of("b2", "b4"), checkpoints.positions(), "read 1, then read 2");
    assertEquals(List.of("b2", "b4"), stream.checkpoints(SHARD), "the source was told the same");
  }

  private long processed() {
    return fixture.stats.of(LoopFixture.UUID).stream().mapToLong(PollerStats.Shard::recordsProcessed).sum();
  }

  @Test
  void aFunctionErrorBisectsTheBatchAndTheHalvesAreRetriedTillThePoisonRecordIsDiscarded() throws Exception {
    records("a1", "a2", "a3", "a4");
    fixture.function.answers(call -> call.ids().contains("a3") ? functionError() : ok("{}"));
    run(mapping(LoopFixture.KINESIS, 4, new EventSourceMapping.OnError(1, -1, true, LoopFixture.ON_FAILURE), null,
        null, null));

    eventually(() -> checkpoints.positions().contains("a4"), checkpoints::positions);
    assertEquals(List.of(List.of("a1", "a2", "a3", "a4"), List.of("a1", "a2"), List.of("a3", "a4"), List.of("a3"),
        List.of("a3"), List.of("a4")), fixture.function.ids(), "halves, then a3 alone: once and 1 retry");
    assertEquals(List.of("a2", "a3", "a4"), checkpoints.positions().stream().distinct().toList(),
        "one lane: each range is checkpointed as it is settled, the discarded one too");
    JsonNode record = fixture.destination.sent().get(0);
    assertEquals("RetryAttemptsExhausted", record.at("/requestContext/condition").asText());
    assertEquals(2, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("a3", record.at("/MemoryBatchInfo/first").asText());
    assertEquals("a3", record.at("/MemoryBatchInfo/last").asText());
    assertEquals("Unhandled", record.at("/responseContext/functionError").asText());
  }

  @Test
  void recordsPastTheirMaximumAgeAreDiscardedUnseen() throws Exception {
    long now = fixture.clock.millis();
    stream.add(SHARD, "a1", "a", now - 120_000).add(SHARD, "a2", "a", now - 61_000)
        .add(SHARD, "a3", "a", now - 59_000).add(SHARD, "a4", "a", now);
    run(mapping(LoopFixture.KINESIS, 4, new EventSourceMapping.OnError(-1, 60, false, LoopFixture.ON_FAILURE), null,
        null, null));

    eventually(() -> checkpoints.positions().contains("a4"), checkpoints::positions);
    assertEquals(List.of(List.of("a3", "a4")), fixture.function.ids());
    assertEquals(List.of("a2", "a4"), checkpoints.positions().stream().distinct().toList());
    JsonNode record = fixture.destination.sent().get(0);
    assertEquals("RecordAgeExceeded", record.at("/requestContext/condition").asText());
    assertEquals(0, record.at("/requestContext/approximateInvokeCount").asInt());
    assertEquals("a1", record.at("/MemoryBatchInfo/first").asText());
    assertEquals("a2", record.at("/MemoryBatchInfo/last").asText());
    assertTrue(record.path("responseContext").isMissingNode(), "the function never answered for them");
  }

  @Test
  void aTumblingWindowCarriesItsStateFromBatchToBatchAndEndsWithAFinalInvoke() throws Exception {
    fixture.clock.set(Instant.ofEpochMilli(62_000));
    stream.add(SHARD, "a1", "a", 1_000).add(SHARD, "a2", "a", 2_000).add(SHARD, "a3", "a", 3_000)
        .add(SHARD, "a4", "a", 61_000).closeForWrites();
    fixture.function.answers(call -> call.finalInvoke() ? ok("{}")
        : ok("{\"state\":{\"count\":" + (call.event().at("/state/count").asInt() + call.ids().size()) + "}}"));
    run(mapping(LoopFixture.KINESIS, 2, null, null, null, 60));

    assertTrue(fixture.ends(), "a shard read to its end and processed is finished");
    List<String> calls = fixture.function.calls().stream().map(call -> call.ids() + " " + call.state() + " "
        + call.event().at("/window/start").asText() + (call.finalInvoke() ? " final" : "")).toList();
    assertEquals(List.of(
        "[a1, a2] {} 1970-01-01T00:00:00Z",
        "[a3] {\"count\":2} 1970-01-01T00:00:00Z",
        "[] {\"count\":3} 1970-01-01T00:00:00Z final",
        "[a4] {} 1970-01-01T00:01:00Z",
        "[] {\"count\":1} 1970-01-01T00:01:00Z final"), calls);
    List<MemoryCheckpoints.Saved> saved = checkpoints.saved();
    assertTrue(saved.contains(new MemoryCheckpoints.Saved(SHARD, "a2", false,
        new StreamCheckpoints.Window(0, "{\"count\":2}"))), "the window's state is stored with the checkpoint");
    assertEquals(new MemoryCheckpoints.Saved(SHARD, "a4", true, null), saved.get(saved.size() - 1));
  }

  @Test
  void aPollerWhoseShardWasTakenOverStopsAtItsNextCheckpointWithoutWriting() throws Exception {
    records("a1", "a2", "a3");
    fixture.function.hold();
    run(mapping(LoopFixture.KINESIS, 1, null, null, null, null));

    fixture.function.next().answer().complete(ok("{}"));
    eventually(() -> checkpoints.positions().equals(List.of("a1")), checkpoints::positions);
    checkpoints.claim(LoopFixture.UUID, SHARD);
    fixture.function.next().answer().complete(ok("{}"));
    fixture.function.next().answer().complete(ok("{}"));

    assertTrue(fixture.ends());
    assertFalse(fixture.running.get());
    assertEquals(List.of("a1"), checkpoints.positions());
  }
}

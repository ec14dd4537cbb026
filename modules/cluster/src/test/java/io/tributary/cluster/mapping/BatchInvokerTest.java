package io.tributary.cluster.mapping;

import static io.tributary.cluster.mapping.LoopFixture.functionError;
import static io.tributary.cluster.mapping.LoopFixture.mapping;
import static io.tributary.cluster.mapping.LoopFixture.ok;
import static io.tributary.cluster.mapping.LoopFixture.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.EventSource;
import io.tributary.api.EventSourceMapping;
import io.tributary.cluster.invoke.Dispatcher;
import io.tributary.cluster.mapping.BatchInvoker.Outcome;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** How a Dispatcher's answer becomes what a loop does: processed (with failed items, a state), failed, or not run. */
class BatchInvokerTest {

  private static final EventSource.Batch BATCH = new EventSource.Batch("shard", "{\"Records\":[]}".getBytes(
      StandardCharsets.UTF_8), List.of(new EventSource.Item("1", 0), new EventSource.Item("2", 0)), "1", "2");

  private static Outcome outcome(EventSourceMapping mapping, Dispatcher.Result result) {
    return new BatchInvoker(mapping, (name, qualifier, invocation) -> CompletableFuture.completedFuture(result))
        .invoke(BATCH, null).join();
  }

  private static EventSourceMapping kinesis(List<String> responseTypes, Integer window) {
    return mapping(LoopFixture.KINESIS, 10, null, responseTypes, null, window);
  }

  @Test
  void aRunWithoutAFunctionErrorProcessedTheBatch() {
    Outcome outcome = outcome(kinesis(null, null), ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"2\"}]}"));
    assertEquals(Set.of(), assertInstanceOf(Outcome.Processed.class, outcome).failedItems(),
        "a partial batch response counts only when the mapping asks for one");
  }

  @Test
  void aFunctionErrorIsTheFunctionsFailureAndKeepsItsAnswer() {
    Dispatcher.Result result = functionError();
    Outcome.FunctionFailed failed = assertInstanceOf(Outcome.FunctionFailed.class,
        outcome(kinesis(null, null), result));
    assertEquals("Function call failed (Unhandled)", failed.problem());
    assertEquals(result, failed.ran());
  }

  @Test
  void aRefusalDidNotRunAndA404SaysTheFunctionIsGone() {
    Outcome.NotRun gone = assertInstanceOf(Outcome.NotRun.class,
        outcome(kinesis(null, null), refused(404, "ResourceNotFoundException")));
    assertTrue(gone.gone());
    assertEquals("ResourceNotFoundException: refused", gone.problem());
    Outcome.NotRun throttled = assertInstanceOf(Outcome.NotRun.class,
        outcome(kinesis(null, null), refused(429, "TooManyRequestsException")));
    assertEquals(new Outcome.NotRun("TooManyRequestsException: refused", false), throttled);
    assertEquals(new Outcome.NotRun("Function call failed: the invoke was not run on this node", false),
        outcome(kinesis(null, null), new Dispatcher.Forward("http://10.0.0.2:9000", "$account", null)));
  }

  @Test
  void aFailedCallDidNotRun() {
    Outcome outcome = new BatchInvoker(kinesis(null, null), (name, qualifier, invocation) ->
        CompletableFuture.failedFuture(new IllegalStateException("the node stops"))).invoke(BATCH, null).join();
    assertEquals(new Outcome.NotRun("Function call failed: java.lang.IllegalStateException: the node stops", false),
        outcome);
  }

  @Test
  void aPartialBatchResponseNamesTheFailedItemsAndAMalformedOneFailsTheWholeBatch() {
    List<String> partial = List.of("ReportBatchItemFailures");
    assertEquals(Set.of("2"), assertInstanceOf(Outcome.Processed.class, outcome(kinesis(partial, null),
        ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"2\"}]}"))).failedItems());
    Outcome.FunctionFailed malformed = assertInstanceOf(Outcome.FunctionFailed.class, outcome(kinesis(partial, null),
        ok("{\"batchItemFailures\":[{\"itemIdentifier\":\"7\"}]}")));
    assertEquals("Function call failed (its batchItemFailures response is malformed)", malformed.problem());
  }

  @Test
  void underATumblingWindowTheResponsesStateIsTheNewStateAndAResponseWithoutOneFailed() {
    Outcome.Processed processed = assertInstanceOf(Outcome.Processed.class,
        outcome(kinesis(null, 60), ok("{\"state\": {\"count\": 2}}")));
    assertEquals("{\"count\":2}", processed.state());
    assertInstanceOf(Outcome.FunctionFailed.class, outcome(kinesis(null, 60), ok("{\"count\": 2}")));
    BatchInvoker invoker = new BatchInvoker(kinesis(null, 60),
        (name, qualifier, invocation) -> CompletableFuture.completedFuture(ok("{}")));
    assertInstanceOf(Outcome.Processed.class,
        invoker.finalInvoke(TumblingWindow.of(0, 60), "shard", false).join(), "a final invoke needs no state back");
  }

  @Test
  void aWindowsBatchCarriesTheWindowAndItsState() throws Exception {
    List<byte[]> events = new ArrayList<>();
    BatchInvoker invoker = new BatchInvoker(kinesis(null, 60), (name, qualifier, invocation) -> {
      events.add(invocation.payload());
      return CompletableFuture.completedFuture(ok("{\"state\":{}}"));
    });
    invoker.invoke(BATCH, TumblingWindow.of(61_000, 60).withState("{\"count\":2}")).join();
    String event = new String(events.get(0), StandardCharsets.UTF_8);
    assertTrue(event.contains("\"window\":{\"start\":\"1970-01-01T00:01:00Z\",\"end\":\"1970-01-01T00:02:00Z\"}"),
        event);
    assertTrue(event.contains("\"state\":{\"count\":2}"), event);
    assertTrue(event.contains("\"isFinalInvokeForWindow\":false"), event);
  }
}

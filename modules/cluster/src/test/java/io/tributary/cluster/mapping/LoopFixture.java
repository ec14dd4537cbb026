package io.tributary.cluster.mapping;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.Destination;
import io.tributary.api.EventSourceMapping;
import io.tributary.api.Invocation;
import io.tributary.api.InvocationResult;
import io.tributary.api.LambdaError;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.delivery.RetrySchedule;
import io.tributary.cluster.invoke.Dispatcher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.StreamSupport;

/**
 * What a loop under test is given instead of a node: a function that records its events and
 * answers as the test says, an on-failure destination in memory, the commands the mapping's
 * entity would hear, a clock the test sets, and a retry schedule of milliseconds. The loop runs on
 * a thread of its own, as in a poller; {@link #close} stops it.
 */
final class LoopFixture implements AutoCloseable {

  static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f";
  static final String UUID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
  static final String ON_FAILURE = "arn:aws:sqs:us-east-1:000000000000:failures";
  static final String SQS = "arn:aws:sqs:us-east-1:000000000000:orders";
  static final String KINESIS = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An invoke the function got: its event, and its answer, which the test may give ({@link FakeFunction#hold}). */
  record Call(JsonNode event, CompletableFuture<Dispatcher.Result> answer) {
    List<String> ids() {
      return StreamSupport.stream(event.path("Records").spliterator(), false).map(r -> r.path("id").asText())
          .toList();
    }

    String state() {
      return event.path("state").toString();
    }

    boolean finalInvoke() {
      return event.path("isFinalInvokeForWindow").asBoolean();
    }
  }

  /** The function: answers each event with {@code answers} (the test answers itself after {@link #hold}). */
  static final class FakeFunction implements BatchInvoker.Invoke {
    private final List<Call> calls = new ArrayList<>();
    private final BlockingQueue<Call> held = new LinkedBlockingQueue<>();
    private volatile Function<Call, Dispatcher.Result> answers = call -> ok("{}");

    void answers(Function<Call, Dispatcher.Result> answers) {
      this.answers = answers;
    }

    /** From now on the test answers each call, taken with {@link #next}. */
    void hold() {
      answers = null;
    }

    Call next() throws InterruptedException {
      Call call = held.poll(10, TimeUnit.SECONDS);
      if (call == null) {
        fail("the function was not invoked; it got " + ids());
      }
      return call;
    }

    synchronized List<Call> calls() {
      return List.copyOf(calls);
    }

    List<List<String>> ids() {
      return calls().stream().map(Call::ids).toList();
    }

    @Override
    public CompletionStage<Dispatcher.Result> invoke(String functionName, String qualifier, Invocation invocation) {
      Call call;
      try {
        call = new Call(JSON.readTree(invocation.payload()), new CompletableFuture<>());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      synchronized (this) {
        calls.add(call);
      }
      Function<Call, Dispatcher.Result> now = answers;
      if (now == null) {
        held.add(call);
      } else {
        call.answer().complete(now.apply(call));
      }
      return call.answer();
    }
  }

  /** An on-failure destination in memory: what it took, after refusing the first {@code failFirst} sends. */
  static final class MemoryDestination implements Destination {
    private final List<Message> sent = new ArrayList<>();
    private int failFirst;

    synchronized void failFirst(int sends) {
      failFirst = sends;
    }

    synchronized List<JsonNode> sent() {
      return sent.stream().map(m -> {
        try {
          return JSON.readTree(m.body());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).toList();
    }

    @Override
    public synchronized CompletionStage<Void> send(Message message) {
      if (failFirst > 0) {
        failFirst--;
        return CompletableFuture.failedFuture(new IOException("the queue is down"));
      }
      sent.add(message);
      return CompletableFuture.completedFuture(null);
    }
  }


  final FakeFunction function = new FakeFunction();
  final MemoryDestination destination = new MemoryDestination();
  final List<EventSourceMappingEntity.Command> told = new ArrayList<>();
  final PollerStats stats = new PollerStats();
  final ManualClock clock = new ManualClock(Instant.ofEpochMilli(1_000_000_000L));
  final AtomicBoolean running = new AtomicBoolean(true);
  private Thread thread;

  static Dispatcher.Result ok(String payload) {
    return new Dispatcher.Ran(new InvocationResult(payload.getBytes(StandardCharsets.UTF_8), null, null), "$LATEST",
        null);
  }

  static Dispatcher.Result functionError() {
    return new Dispatcher.Ran(InvocationResult.unhandled("Boom", "the record is poison", null), "$LATEST", null);
  }

  static Dispatcher.Result refused(int status, String errorType) {
    return new Dispatcher.Refused(new LambdaError(status, errorType, "refused", null), null);
  }

  /** A mapping of {@code eventSourceArn} (null: Kafka) and the rest as given (null: AWS's default). */
  static EventSourceMapping mapping(String eventSourceArn, int batchSize, EventSourceMapping.OnError errors,
                                    List<String> functionResponseTypes, Integer parallelizationFactor,
                                    Integer tumblingWindowInSeconds) {
    return new EventSourceMapping(UUID, FUNCTION_ARN, eventSourceArn,
        eventSourceArn == null ? List.of("127.0.0.1:9092") : null, eventSourceArn == null ? List.of("orders") : null,
        null, batchSize, 0, "TRIM_HORIZON", true, EventSourceMapping.ENABLED, null, null, 0, null,
        functionResponseTypes, errors, null, null, parallelizationFactor, tumblingWindowInSeconds);
  }

  LoopContext context(EventSourceMapping mapping) {
    return new LoopContext(mapping, running, function, () -> destination, command -> {
      synchronized (told) {
        told.add(command);
      }
    }, new RetrySchedule(List.of(Duration.ofMillis(1)), Duration.ofMillis(1), Duration.ofMillis(4)), stats, clock);
  }

  List<EventSourceMappingEntity.Command> told() {
    synchronized (told) {
      return List.copyOf(told);
    }
  }

  void start(Runnable loop) {
    thread = new Thread(loop, "loop-under-test");
    thread.setDaemon(true);
    thread.start();
  }

  /** Whether the loop's thread ended by itself within a few seconds. */
  boolean ends() throws InterruptedException {
    thread.join(5000);
    return !thread.isAlive();
  }

  /** Waits for {@code condition}; fails saying {@code what} (as it then is) when it does not come within 10 s. */
  static void eventually(BooleanSupplier condition, Supplier<Object> what) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        fail("not within 10 s; " + what.get());
      }
      Thread.sleep(2);
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(5000);
    }
  }
}

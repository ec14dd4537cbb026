package io.tributary.cluster.push;

import io.tributary.api.EventRule;
import io.tributary.cluster.Asks;
import io.tributary.cluster.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import software.amazon.event.ruler.Machine;
import software.amazon.event.ruler.RuleCompiler;

/**
 * This node's copy of each event bus's rules, compiled for matching by AWS's event-ruler: one
 * {@link Machine} per bus holding the pattern of every enabled rule that has targets. A copy is
 * used for {@code ttl} after it was fetched from the bus's {@link EventBusEntity}, then fetched
 * again (and compiled again only when the bus's version changed); a change made through this node
 * drops its copy at once ({@link #forget}). So a rule change applies on this node at once and on
 * the others within the ttl, as AWS's rule changes also take a moment to apply everywhere. While a
 * fresh copy is asked for, the older one serves (for up to a minute: see {@link #compiled}).
 *
 * <p>Matching is event-ruler's {@code rulesForJSONEvent}, the array-consistent matcher EventBridge's
 * patterns are defined by: {@code {"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}}
 * matches an event whose source is {@code shop} and whose {@code detail.total} is over 100.
 */
public final class BusRules {

  /** A bus's rules as fetched, compiled; {@code machine} holds the rules that can match. */
  private record Compiled(long version, Machine machine, Map<String, EventRule> rules, long fetchedAt) {}

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final long ttlNanos;
  private final Executor executor;
  private final LongSupplier nanoTime;
  private final Map<String, Compiled> buses = new ConcurrentHashMap<>();

  public BusRules(ClusterSharding sharding, Duration askTimeout, Duration ttl, Executor executor) {
    this(sharding, askTimeout, ttl, executor, System::nanoTime);
  }

  BusRules(ClusterSharding sharding, Duration askTimeout, Duration ttl, Executor executor, LongSupplier nanoTime) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
    this.ttlNanos = ttl.toNanos();
    this.executor = executor;
    this.nanoTime = nanoTime;
  }

  /**
   * Why {@code pattern} is not a valid event pattern, in event-ruler's words, or null when it is.
   * EventBridge also wants an object with at least one field.
   */
  public static String problem(String pattern) {
    String problem = RuleCompiler.check(pattern);
    if (problem != null) {
      return problem;
    }
    String trimmed = pattern.strip();
    if (trimmed.equals("{}")) {
      return "Empty event pattern.";
    }
    return null;
  }

  /** The enabled rules of {@code busName} whose pattern matches {@code eventJson}, with targets. */
  public CompletionStage<List<EventRule>> matching(String busName, String eventJson) {
    return compiled(busName).thenApply(c -> match(c, eventJson));
  }

  /** Whether {@code pattern} matches {@code eventJson}: TestEventPattern. */
  public static boolean matches(String pattern, String eventJson) {
    try {
      Machine machine = new Machine();
      machine.addRule("test", pattern);
      return !machine.rulesForJSONEvent(eventJson).isEmpty();
    } catch (Exception e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * What the node matches a bus's events with, made from {@code rules} as a copy of the bus's rules
   * is: for the matching benchmark, which times exactly this.
   */
  public static java.util.function.Function<String, List<EventRule>> matcher(List<EventRule> rules) {
    Compiled compiled = compile(new EventBusEntity.RuleSet(0, rules), 0);
    return json -> match(compiled, json);
  }

  /** Drops this node's copy of {@code busName}'s rules: a change was just made through this node. */
  public void forget(String busName) {
    forgotten.merge(busName, 1L, Long::sum);
    buses.remove(busName);
  }

  /** How often each bus's copy was dropped: a fetch begun before a drop does not store what it got. */
  private final Map<String, Long> forgotten = new ConcurrentHashMap<>();

  private static List<EventRule> match(Compiled compiled, String eventJson) {
    if (compiled.rules().isEmpty()) {
      return List.of();
    }
    List<String> names;
    try {
      names = compiled.machine().rulesForJSONEvent(eventJson);
    } catch (Exception e) {
      throw new IllegalArgumentException("The event is not JSON event-ruler can read: " + e.getMessage(), e);
    }
    List<EventRule> matched = new ArrayList<>(names.size());
    for (String name : names) {
      EventRule rule = compiled.rules().get(name);
      if (rule != null) {
        matched.add(rule);
      }
    }
    return matched;
  }

  /**
   * The bus's compiled rules: this node's copy while younger than the ttl; after that a fresh one is
   * asked for (one ask at a time per bus) and, until it comes, the older copy serves for up to
   * {@link #STALE_LIMIT}, so that events keep being matched while the bus's entity is on a node
   * just lost.
   */
  private CompletionStage<Compiled> compiled(String busName) {
    Compiled current = buses.get(busName);
    long now = nanoTime.getAsLong();
    if (current != null && now - current.fetchedAt() < ttlNanos) {
      return CompletableFuture.completedFuture(current);
    }
    CompletableFuture<Compiled> fresh = refreshing.get(busName);
    if (fresh == null) {
      CompletableFuture<Compiled> mine = new CompletableFuture<>();
      fresh = refreshing.putIfAbsent(busName, mine);
      if (fresh == null) {
        fresh = mine;
        fetch(busName, now).whenComplete((compiled, failure) -> {
          refreshing.remove(busName, mine);
          if (failure != null) {
            mine.completeExceptionally(failure);
          } else {
            mine.complete(compiled);
          }
        });
      }
    }
    if (current != null && now - current.fetchedAt() < STALE_LIMIT.toNanos()) {
      return CompletableFuture.completedFuture(current);
    }
    return fresh;
  }

  /** How long a bus's copy may serve past its ttl while no fresh one can be had. */
  static final Duration STALE_LIMIT = Duration.ofMinutes(1);
  private final Map<String, CompletableFuture<Compiled>> refreshing = new ConcurrentHashMap<>();

  private CompletionStage<Compiled> fetch(String busName, long now) {
    long generation = forgotten.getOrDefault(busName, 0L);
    return Asks.on(sharding.entityRefFor(EventBusEntity.TYPE_KEY, busName)
            .<Reply<EventBusEntity.RuleSet>>ask(EventBusEntity.GetRules::new, askTimeout), executor)
        .thenApply(reply -> {
          if (reply.error() != null) {
            throw reply.error().toException();
          }
          EventBusEntity.RuleSet set = reply.value();
          Compiled latest = buses.get(busName);
          Compiled next = latest != null && latest.version() == set.version()
              ? new Compiled(latest.version(), latest.machine(), latest.rules(), now)
              : compile(set, now);
          if (forgotten.getOrDefault(busName, 0L) == generation) {
            buses.put(busName, next);
          }
          return next;
        });
  }

  private static Compiled compile(EventBusEntity.RuleSet set, long now) {
    Machine machine = new Machine();
    Map<String, EventRule> rules = new LinkedHashMap<>();
    for (EventRule rule : set.rules()) {
      if (rule.enabled() && rule.eventPattern() != null && !rule.targets().isEmpty()) {
        try {
          machine.addRule(rule.name(), rule.eventPattern());
          rules.put(rule.name(), rule);
        } catch (Exception e) {
          // PutRule checked the pattern; one that fails here matches nothing rather than stop the bus.
          org.slf4j.LoggerFactory.getLogger(BusRules.class).warn("Rule {} of bus {} has a pattern event-ruler"
              + " refuses, so it matches nothing: {}", rule.name(), rule.eventBusName(), e.getMessage());
        }
      }
    }
    return new Compiled(set.version(), machine, rules, now);
  }
}

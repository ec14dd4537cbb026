package io.tributary.cluster.push;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.tributary.api.EventBus;
import io.tributary.api.EventRule;
import io.tributary.cluster.ManualClock;
import io.tributary.cluster.Reply;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * An event bus as users of EventBridge's API see it: the default bus always there, custom buses
 * created and deleted, rules replaced but keeping their targets, at most five targets, and every
 * refused command leaving the journal untouched.
 */
class EventBusEntityTest {

  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));

  /** What the registry was told: the bus (null: gone) and the write timestamp. */
  private record RegistryWrite(EventBus bus, long seqNr) {}

  private final List<RegistryWrite> registry = new CopyOnWriteArrayList<>();
  private final ManualClock clock = new ManualClock(Instant.parse("2026-12-08T12:00:00Z"));

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<EventBusEntity.Command, EventBusEntity.Event, EventBusEntity.State> kit(
      String bus) {
    return EventSourcedBehaviorTestKit.create(testKit.system(), EventBusEntity.create(bus, (name, b, seqNr) -> {
      registry.add(new RegistryWrite(b, seqNr));
      return CompletableFuture.completedFuture(null);
    }, clock));
  }

  private record Ran<T>(Reply<T> reply, List<EventBusEntity.Event> events) {}

  private static <T> Ran<T> run(EventSourcedBehaviorTestKit<EventBusEntity.Command, EventBusEntity.Event,
      EventBusEntity.State> kit, Function<ActorRef<Reply<T>>, EventBusEntity.Command> command) {
    TestProbe<Reply<T>> probe = testKit.createTestProbe();
    var result = kit.runCommand(command.apply(probe.getRef()));
    return new Ran<>(probe.receiveMessage(), result.events());
  }

  private static EventRule rule(String name, String pattern) {
    return new EventRule(name, null, pattern, null, null, "", null, null);
  }

  private static EventRule.Target target(String id) {
    return new EventRule.Target(id, "arn:aws:lambda:us-east-1:000000000000:function:" + id, null, null, null, null,
        null);
  }

  @Test
  void theDefaultBusExistsAndCannotBeDeletedWhileACustomOneLivesFromCreateToDelete() {
    var defaults = kit("default");
    assertEquals("default", EventBusEntityTest.<EventBus>run(defaults, EventBusEntity.DescribeBus::new).reply()
        .getOrThrow().name());
    Ran<Boolean> refused = run(defaults, EventBusEntity.DeleteBus::new);
    assertEquals("ValidationException", refused.reply().error().errorType());
    assertTrue(refused.events().isEmpty());

    var orders = kit("orders");
    Ran<EventBus> missing = run(orders, EventBusEntity.DescribeBus::new);
    assertEquals("ResourceNotFoundException", missing.reply().error().errorType());
    assertEquals("Event bus orders does not exist.", missing.reply().error().message());
    EventBus created = EventBusEntityTest.<EventBus>run(orders, r -> new EventBusEntity.CreateBus("shop", r)).reply()
        .getOrThrow();
    assertEquals(new EventBus("orders", "shop", "2026-12-08T12:00:00Z"), created);
    assertEquals(List.of(new RegistryWrite(created, 1)), registry, "listed before the reply");
    assertEquals("ResourceAlreadyExistsException", EventBusEntityTest.<EventBus>run(orders,
        r -> new EventBusEntity.CreateBus("again", r)).reply().error().errorType());

    EventBusEntityTest.<EventRule>run(orders, r -> new EventBusEntity.PutRule(rule("r", "{\"source\":[\"shop\"]}"), r));
    Ran<Boolean> withRules = run(orders, EventBusEntity.DeleteBus::new);
    assertEquals("ValidationException", withRules.reply().error().errorType());
    assertTrue(withRules.reply().error().message().contains("(r)"), withRules.reply().error().message());
    EventBusEntityTest.<Boolean>run(orders, r -> new EventBusEntity.DeleteRule("r", r));
    assertEquals(Boolean.TRUE, EventBusEntityTest.<Boolean>run(orders, EventBusEntity.DeleteBus::new).reply()
        .getOrThrow());
    assertEquals(new RegistryWrite(null, 4), registry.get(registry.size() - 1), "unlisted");
    orders.restart();
    assertEquals("ResourceNotFoundException", EventBusEntityTest.<EventBus>run(orders, EventBusEntity.DescribeBus::new)
        .reply().error().errorType());
  }

  @Test
  void putRuleReplacesARuleButKeepsItsTargetsAndARuleWithTargetsCannotBeDeleted() {
    var bus = kit("default");
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutRule(rule("orders", "{\"source\":[\"shop\"]}"), r));
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutTargets("orders", List.of(target("a"), target("b")), r));
    EventRule replaced = EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutRule(
        new EventRule("orders", null, "{\"source\":[\"store\"]}", null, EventRule.DISABLED, "new", null, null), r))
        .reply().getOrThrow();
    assertEquals("{\"source\":[\"store\"]}", replaced.eventPattern());
    assertEquals("default", replaced.eventBusName());
    assertEquals(List.of("a", "b"), replaced.targets().stream().map(EventRule.Target::id).toList());
    assertEquals(false, replaced.enabled());

    Ran<Boolean> refused = EventBusEntityTest.<Boolean>run(bus, r -> new EventBusEntity.DeleteRule("orders", r));
    assertEquals("Rule can't be deleted since it has targets.", refused.reply().error().message());
    assertTrue(refused.events().isEmpty());

    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.RemoveTargets("orders", List.of("a", "b", "never-there"), r));
    assertEquals(Boolean.TRUE, EventBusEntityTest.<Boolean>run(bus, r -> new EventBusEntity.DeleteRule("orders", r))
        .reply().getOrThrow());
    assertEquals(Boolean.FALSE, EventBusEntityTest.<Boolean>run(bus, r -> new EventBusEntity.DeleteRule("orders", r))
        .reply().getOrThrow(), "deleting a rule that is not there is no error, as on AWS");
  }

  @Test
  void aRuleHasAtMostFiveTargetsAndATargetOfTheSameIdIsReplaced() {
    var bus = kit("default");
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutRule(rule("orders", "{\"source\":[\"shop\"]}"), r));
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutTargets("orders", List.of(target("a"), target("b"), target("c"),
        target("d"), target("e")), r));
    EventRule.Target replacement = new EventRule.Target("a", "arn:aws:lambda:us-east-1:000000000000:function:z",
        "{\"fixed\":true}", null, null, null, null);
    EventRule rule = EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutTargets("orders",
        List.of(replacement), r)).reply().getOrThrow();
    assertEquals(5, rule.targets().size());
    assertEquals("{\"fixed\":true}", rule.targets().get(0).input());

    Ran<EventRule> sixth = EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutTargets("orders", List.of(target("f")), r));
    assertEquals("LimitExceededException", sixth.reply().error().errorType());
    assertTrue(sixth.events().isEmpty());
  }

  @Test
  void theRulesEveryNodeMatchesAgainstComeWithAVersionThatChangesWithThemAndSurviveARecovery() {
    var bus = kit("default");
    long before = EventBusEntityTest.<EventBusEntity.RuleSet>run(bus, EventBusEntity.GetRules::new).reply()
        .getOrThrow().version();
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutRule(rule("orders", "{\"source\":[\"shop\"]}"), r));
    EventBusEntityTest.<EventRule>run(bus, r -> new EventBusEntity.PutTargets("orders", List.of(target("a")), r));
    bus.restart();
    EventBusEntity.RuleSet after = EventBusEntityTest.<EventBusEntity.RuleSet>run(bus, EventBusEntity.GetRules::new)
        .reply().getOrThrow();
    assertTrue(after.version() > before);
    assertEquals(List.of("a"), after.rules().get(0).targets().stream().map(EventRule.Target::id).toList());
    assertNull(after.rules().get(0).scheduleExpression());

    Ran<EventRule> scheduled = EventBusEntityTest.<EventRule>run(kit("orders-bus"), r -> new EventBusEntity.PutRule(rule("x", "{}"), r));
    assertEquals("ResourceNotFoundException", scheduled.reply().error().errorType(), "a bus not created has no rules");
  }
}

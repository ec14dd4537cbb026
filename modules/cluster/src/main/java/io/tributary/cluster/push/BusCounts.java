package io.tributary.cluster.push;

import io.tributary.cluster.Asks;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.PNCounterMap;
import org.apache.pekko.cluster.ddata.PNCounterMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * The cluster's counts per rule and target of a bus (matched, delivered, refused, dead-lettered,
 * failed), for the rule's operations view: each node adds to its own counters in memory and, every
 * {@code flush} interval, adds what it counted since to a replicated counter map of the bus (Pekko
 * Distributed Data, one {@code PNCounterMap} per bus, written locally and gossiped), so any node
 * reads the whole cluster's counts within a few seconds, and none is on the events' path.
 */
public final class BusCounts {

  /** A rule's counts per target, then per outcome ({@code matched}, {@code delivered}, ...). */
  public record RuleCounts(Map<String, Map<String, Long>> targets) {}

  private static final char SEP = '\u0000';

  /** One counter of a bus: a rule's target's outcome. */
  private record Counted(String rule, String target, PushMetrics.Outcome outcome) {}

  private final ActorSystem<?> system;
  private final ActorRef<Replicator.Command> replicator;
  private final SelfUniqueAddress self;
  private final Duration timeout;
  /** bus → counter → what was counted here and not yet written. */
  private final Map<String, Map<Counted, LongAdder>> unwritten = new ConcurrentHashMap<>();

  public BusCounts(ActorSystem<?> system, Duration flush, Duration timeout) {
    this.system = system;
    this.replicator = DistributedData.get(system).replicator();
    this.self = DistributedData.get(system).selfUniqueAddress();
    this.timeout = timeout;
    system.scheduler().scheduleWithFixedDelay(flush, flush, this::flush, system.executionContext());
  }

  private static Key<PNCounterMap<String>> key(String bus) {
    return PNCounterMapKey.create("bus-counts-" + bus);
  }

  void add(String bus, String rule, String target, PushMetrics.Outcome outcome) {
    unwritten.computeIfAbsent(bus, b -> new ConcurrentHashMap<>())
        .computeIfAbsent(new Counted(rule, target, outcome), k -> new LongAdder()).increment();
  }

  private void flush() {
    unwritten.forEach((bus, counts) -> {
      Map<String, Long> deltas = new HashMap<>();
      counts.forEach((k, adder) -> {
        long n = adder.sumThenReset();
        if (n > 0) {
          deltas.put(k.rule() + SEP + k.target() + SEP + k.outcome().tag(), n);
        }
      });
      if (!deltas.isEmpty()) {
        replicator.tell(new Replicator.Update<>(key(bus), PNCounterMap.<String>empty(), Replicator.writeLocal(),
            system.ignoreRef(), map -> {
              PNCounterMap<String> updated = map;
              for (Map.Entry<String, Long> d : deltas.entrySet()) {
                updated = updated.incrementBy(d.getKey(), d.getValue(), self);
              }
              return updated;
            }));
      }
    });
  }

  /** The cluster's counts of rule {@code rule} of {@code bus} as this node knows them now. */
  public CompletionStage<RuleCounts> counts(String bus, String rule) {
    CompletionStage<Replicator.GetResponse<PNCounterMap<String>>> got = AskPattern.ask(replicator,
        replyTo -> new Replicator.Get<>(key(bus), Replicator.readLocal(), replyTo), timeout, system.scheduler());
    return Asks.on(got, system.executionContext()).thenApply(response -> {
      Map<String, Map<String, Long>> targets = new TreeMap<>();
      if (response instanceof Replicator.GetSuccess<PNCounterMap<String>> success) {
        success.dataValue().getEntries().forEach((k, n) -> {
          List<String> parts = List.of(k.split(String.valueOf(SEP), -1));
          if (parts.size() == 3 && parts.get(0).equals(rule)) {
            targets.computeIfAbsent(parts.get(1), t -> new TreeMap<>()).put(parts.get(2), n.longValue());
          }
        });
      }
      return new RuleCounts(targets);
    });
  }
}

package io.tributary.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a paced function ({@link #PACED}) wrote of its runs: request id, start and end in epoch
 * milliseconds, one line per run. From the function's own clock: how busy its concurrency was.
 */
record RunLog(List<Run> runs) {

  /**
   * A python3.11 handler ({@code app.handler}) that sleeps as long as {@code $SLEEP} says and
   * appends "id start end" to {@code $OUT}: the runtime's own cost between runs is small, so the
   * time between one run's end and the next one's start is the platform's.
   */
  static final byte[] PACED = Zips.of(Map.of("app.py", """
      import os, time
      def handler(event, context):
          start = int(time.time() * 1000)
          time.sleep(float(os.environ["SLEEP"]))
          with open(os.environ["OUT"], "a") as f:
              f.write("%s %d %d\\n" % (context.aws_request_id, start, int(time.time() * 1000)))
          return {}
      """));

  record Run(String requestId, long start, long end) {}

  static RunLog read(Path out) {
    try {
      if (!Files.exists(out)) {
        return new RunLog(List.of());
      }
      List<Run> runs = new ArrayList<>();
      for (String line : Files.readAllLines(out)) {
        String[] f = line.trim().split(" ");
        if (f.length == 3) {
          runs.add(new Run(f[0], Long.parseLong(f[1]), Long.parseLong(f[2])));
        }
      }
      runs.sort(Comparator.comparingLong(Run::start));
      return new RunLog(List.copyOf(runs));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The runs that started at or after {@code millis}. */
  RunLog since(long millis) {
    return new RunLog(runs.stream().filter(r -> r.start() >= millis).toList());
  }

  Map<String, Long> perRequest() {
    return runs.stream().collect(Collectors.groupingBy(Run::requestId, Collectors.counting()));
  }

  /** The most runs that overlapped at any instant. */
  int peakConcurrency() {
    List<long[]> edges = new ArrayList<>();
    runs.forEach(r -> {
      edges.add(new long[] {r.start(), 1});
      edges.add(new long[] {r.end(), -1});
    });
    // An end before a start at the same millisecond: a slot handed straight on is not an overlap.
    edges.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
    int now = 0;
    int peak = 0;
    for (long[] e : edges) {
      now += (int) e[1];
      peak = Math.max(peak, now);
    }
    return peak;
  }

  /** Time running ÷ ({@code slots} × the span from the first start to the last end): 1 means never a slot idle. */
  double utilization(int slots) {
    if (runs.isEmpty()) {
      return 0;
    }
    long busy = runs.stream().mapToLong(r -> r.end() - r.start()).sum();
    long first = runs.get(0).start();
    long last = runs.stream().mapToLong(Run::end).max().orElse(first);
    return busy / (double) (slots * Math.max(1, last - first));
  }

  long spanMillis() {
    return runs.isEmpty() ? 0 : runs.stream().mapToLong(Run::end).max().orElse(0) - runs.get(0).start();
  }
}

package io.tributary.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Servers compared side by side under wrk, the load generator in its own process: each side is a
 * server process, its port and the request wrk replays (made again for every run, so a signed
 * request carries a fresh time). After a JIT warm-up of every side at the first connection count,
 * the sides alternate for {@code rounds} rounds at each connection count; each run is {@code warmup}
 * s of unmeasured load, then {@code seconds} s measured with {@code wrk -t threads --latency}. A run
 * counts non-2xx answers and socket errors as errors. Server CPU is the side's process's
 * user+system time over the run, as % of one core; Cassandra's likewise; machine busy is
 * /proc/stat's over the same time (the load generator's share is in it).
 */
final class Wrk {

  /** What wrk sends: the request line's method and path, headers (Host included) and body. */
  record Request(String method, String path, Map<String, String> headers, String body) {}

  /**
   * A server and what wrk sends it: one request over and over, or several in turn (each wrk thread
   * from its own place in the list; wrk then runs a Lua function per request).
   */
  record Side(String name, Process server, int port, Supplier<List<Request>> requests) {

    static Side of(String name, Process server, int port, Supplier<Request> request) {
      return new Side(name, server, port, () -> List.of(request.get()));
    }
  }

  record Run(String side, int connections, double requestsPerSecond, double p50Ms, double p99Ms, long errors,
             double serverCpuPercent, double cassandraCpuPercent, double machineBusyPercent) {}

  record Settings(int rounds, int seconds, int warmup, int jitWarmup, int threads, int[] connections) {

    /** bench.rounds (5), bench.seconds (10), bench.warmup (5), bench.jit-warmup (25), bench.threads (2), bench.connections (8,32). */
    static Settings fromProperties() {
      return new Settings(Integer.getInteger("bench.rounds", 5), Integer.getInteger("bench.seconds", 10),
          Integer.getInteger("bench.warmup", 5), Integer.getInteger("bench.jit-warmup", 25),
          Integer.getInteger("bench.threads", 2), java.util.Arrays.stream(System.getProperty("bench.connections",
              "8,32").split(",")).mapToInt(c -> Integer.parseInt(c.trim())).toArray());
    }
  }

  /** Runs every side in turn and prints every run; returns them all. */
  static List<Run> compare(Settings settings, List<Side> sides) throws Exception {
    for (Side side : sides) {
      System.out.printf(Locale.ROOT, "warming the JIT: %s for %d s%n", side.name(), settings.jitWarmup());
      run(side, settings.threads(), settings.connections()[0], settings.jitWarmup());
    }
    List<Run> runs = new ArrayList<>();
    for (int c : settings.connections()) {
      for (int round = 1; round <= settings.rounds(); round++) {
        for (Side side : sides) {
          run(side, settings.threads(), c, settings.warmup());
          Run r = run(side, settings.threads(), c, settings.seconds());
          runs.add(r);
          System.out.printf(Locale.ROOT, "%d connections, round %d of %d: %s%n", c, round, settings.rounds(),
              format(r));
        }
      }
    }
    System.out.println();
    System.out.println(HEADER);
    runs.forEach(r -> System.out.println(format(r)));
    System.out.println();
    System.out.printf(Locale.ROOT, "medians over %d rounds, %d s each after %d s warm-up, wrk -t %d%n",
        settings.rounds(), settings.seconds(), settings.warmup(), settings.threads());
    System.out.println(HEADER);
    for (int c : settings.connections()) {
      for (Side side : sides) {
        System.out.printf(Locale.ROOT, "%-16s %5d %8.0f %9.2f %8.2f %8.0f %13.0f %16.0f %15.0f%n", side.name(), c,
            median(runs, side.name(), c, Run::requestsPerSecond), median(runs, side.name(), c, Run::p50Ms),
            median(runs, side.name(), c, Run::p99Ms), median(runs, side.name(), c, r -> r.errors()),
            median(runs, side.name(), c, Run::serverCpuPercent), median(runs, side.name(), c, Run::cassandraCpuPercent),
            median(runs, side.name(), c, Run::machineBusyPercent));
      }
    }
    return runs;
  }

  /** Prints the medians' ratio {@code side} ÷ {@code baseline} at each connection count, against the targets. */
  static void ratio(List<Run> runs, Settings settings, String side, String baseline, double rpsTarget,
      double p99Target) {
    for (int c : settings.connections()) {
      double rps = median(runs, side, c, Run::requestsPerSecond) / median(runs, baseline, c, Run::requestsPerSecond);
      double p99 = median(runs, side, c, Run::p99Ms) / median(runs, baseline, c, Run::p99Ms);
      System.out.printf(Locale.ROOT, "%d connections: %s ÷ %s req/s %.2f (target ≥ %.2f: %s), p99 %.2f× "
          + "(target ≤ %.1f×: %s)%n", c, side, baseline, rps, rpsTarget, rps >= rpsTarget ? "met" : "missed", p99,
          p99Target, p99 <= p99Target ? "met" : "missed");
    }
  }

  private static final String HEADER = "side             conns    req/s    p50 ms   p99 ms   errors  server cpu %"
      + "  cassandra cpu %  machine busy %";

  /** wrk for {@code seconds} against the side, parsed; the CPU of its server and of the machine meanwhile. */
  static Run run(Side side, int threads, int connections, int seconds) throws Exception {
    Path script = script(side.requests().get());
    try {
      long serverCpu = cpuTicks(side.server().pid());
      long cassandraCpu = InvokeBenchmark.cassandraCpuNanos();
      long[] machine = machineTicks();
      Process wrk = new ProcessBuilder(System.getProperty("bench.wrk", "wrk"), "-t", Integer.toString(threads),
          "-c", Integer.toString(connections), "-d", seconds + "s", "--latency", "-s", script.toString(),
          "http://127.0.0.1:" + side.port() + "/").redirectErrorStream(true).start();
      String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (wrk.waitFor() != 0) {
        throw new IllegalStateException("wrk failed:\n" + out);
      }
      long[] machineAfter = machineTicks();
      double elapsedTicks = (machineAfter[0] - machine[0]) / (double) Runtime.getRuntime().availableProcessors();
      double serverPercent = 100.0 * (cpuTicks(side.server().pid()) - serverCpu) / elapsedTicks;
      double cassandraPercent = 100.0 * (InvokeBenchmark.cassandraCpuNanos() - cassandraCpu) / 10_000_000L
          / elapsedTicks;
      double busyPercent = 100.0 * (1 - (machineAfter[1] - machine[1]) / (double) (machineAfter[0] - machine[0]));
      long errors = longOf(out, "Non-2xx or 3xx responses:\\s+(\\d+)") + socketErrors(out);
      return new Run(side.name(), connections, doubleOf(out, "Requests/sec:\\s+([\\d.]+)"), latencyMs(out, "50%"),
          latencyMs(out, "99%"), errors, serverPercent, cassandraPercent, busyPercent);
    } finally {
      Files.deleteIfExists(script);
    }
  }

  /** A wrk Lua script that sends the request, or the requests in turn, on every connection. */
  private static Path script(List<Request> requests) throws IOException {
    StringBuilder lua = new StringBuilder();
    if (requests.size() == 1) {
      Request request = requests.get(0);
      lua.append("wrk.method = ").append(quoted(request.method())).append('\n');
      lua.append("wrk.path = ").append(quoted(request.path())).append('\n');
      request.headers().forEach((name, value) ->
          lua.append("wrk.headers[").append(quoted(name)).append("] = ").append(quoted(value)).append('\n'));
      if (request.body() != null) {
        lua.append("wrk.body = ").append(quoted(request.body())).append('\n');
      }
    } else {
      lua.append("local requests = {}\n");
      for (Request request : requests) {
        lua.append("requests[#requests + 1] = wrk.format(").append(quoted(request.method())).append(", ")
            .append(quoted(request.path())).append(", {");
        request.headers().forEach((name, value) -> lua.append('[').append(quoted(name)).append("] = ")
            .append(quoted(value)).append(", "));
        lua.append("}, ").append(request.body() == null ? "nil" : quoted(request.body())).append(")\n");
      }
      lua.append("""
          local threads = 0
          function setup(thread)
            thread:set("first", threads * 7919)
            threads = threads + 1
          end
          local i = nil
          function request()
            i = ((i or first or 0) % #requests) + 1
            return requests[i]
          end
          """);
    }
    Path script = Files.createTempFile("tributary-wrk", ".lua");
    Files.writeString(script, lua);
    return script;
  }

  private static String quoted(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  static String format(Run r) {
    return String.format(Locale.ROOT, "%-16s %5d %8.0f %9.2f %8.2f %8d %13.0f %16.0f %15.0f", r.side(),
        r.connections(), r.requestsPerSecond(), r.p50Ms(), r.p99Ms(), r.errors(), r.serverCpuPercent(),
        r.cassandraCpuPercent(), r.machineBusyPercent());
  }

  /** A percentile of wrk's "Latency Distribution", e.g. "99%  12.34ms", in ms. */
  static double latencyMs(String wrkOutput, String percentile) {
    Matcher m = Pattern.compile("^\\s*" + Pattern.quote(percentile) + "\\s+([\\d.]+)(us|ms|s|m)\\s*$",
        Pattern.MULTILINE).matcher(wrkOutput);
    if (!m.find()) {
      throw new IllegalStateException("no " + percentile + " latency in wrk's output:\n" + wrkOutput);
    }
    double value = Double.parseDouble(m.group(1));
    return switch (m.group(2)) {
      case "us" -> value / 1000;
      case "ms" -> value;
      case "s" -> value * 1000;
      default -> value * 60_000;
    };
  }

  /** "Socket errors: connect 0, read 0, write 0, timeout 0", summed; absent when there were none. */
  static long socketErrors(String wrkOutput) {
    Matcher m = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)")
        .matcher(wrkOutput);
    long sum = 0;
    if (m.find()) {
      for (int i = 1; i <= 4; i++) {
        sum += Long.parseLong(m.group(i));
      }
    }
    return sum;
  }

  private static double doubleOf(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IllegalStateException("no match for " + regex + " in wrk's output:\n" + text);
    }
    return Double.parseDouble(m.group(1));
  }

  private static long longOf(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  /** The machine's total and idle (idle + iowait) clock ticks, from /proc/stat's "cpu" line. */
  private static long[] machineTicks() throws IOException {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    long total = 0;
    for (int i = 1; i < Math.min(f.length, 9); i++) {
      total += Long.parseLong(f[i]);
    }
    return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
  }

  static double median(List<Run> runs, String side, int connections, ToDoubleFunction<Run> metric) {
    double[] v = runs.stream().filter(r -> r.side().equals(side) && r.connections() == connections)
        .mapToDouble(metric).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  /** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
  static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private Wrk() {}
}

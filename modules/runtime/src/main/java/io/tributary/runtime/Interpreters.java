package io.tributary.runtime;

import io.tributary.api.Runtimes.Language;
import io.tributary.api.Runtimes.Offer;
import io.tributary.api.Runtimes.Target;
import io.tributary.api.Runtimes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The interpreters a node has, and the one each Lambda runtime id runs on.
 *
 * <p>At start every configured candidate command of a language is looked for (on the node's PATH
 * unless it is a path; a {@code *} in a path matches directory entries) and asked its version once; candidates that are missing are
 * skipped, and of two with the same release the first listed is kept. A runtime id then runs on
 * the interpreter of its own release. Without one, unless exact interpreters are demanded, it runs
 * on the closest that can run it: for Java and Node the nearest newer release (newer runtimes run
 * older code); for Python the nearest newer, else the newest installed, which may be older than
 * asked (an older Python lacks new syntax, a newer one has dropped modules: neither is exact).
 */
public final class Interpreters {

  private static final Logger log = LoggerFactory.getLogger(Interpreters.class);
  private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
  private static final Pattern JAVA_RELEASE = Pattern.compile("JAVA_VERSION=\"([^\"]+)\"");

  /** An interpreter found on this node: its command and its full version ({@code [3, 11, 7]}). */
  public record Installed(Language language, String command, List<Integer> version) {

    String versionText() {
      return String.join(".", version.stream().map(String::valueOf).toList());
    }

    /** The part of the version a runtime id names: major.minor for Python, the major otherwise. */
    List<Integer> release() {
      return version.subList(0, Math.min(version.size(), language == Language.PYTHON ? 2 : 1));
    }
  }

  /** A runtime id's interpreter: the command that starts it and the offer the API makes for it. */
  public record Interpreter(String command, Offer offer) {}

  private final Map<String, Interpreter> byRuntime;

  Interpreters(Map<String, Interpreter> byRuntime) {
    this.byRuntime = Collections.unmodifiableMap(new LinkedHashMap<>(byRuntime));
  }

  /**
   * Looks for the candidates and maps every runnable runtime id. {@code provided} are the
   * {@code provided.*} ids enabled; they run the function's own {@code bootstrap}.
   */
  static Interpreters discover(Map<Language, List<String>> candidates, Set<String> provided, boolean exactOnly) {
    long start = System.nanoTime();
    List<CompletableFuture<Optional<Installed>>> probes = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    // The probes wait on processes, not on the CPU: all at once.
    ExecutorService pool = Executors.newCachedThreadPool();
    try {
      candidates.forEach((language, commands) -> {
        for (String pattern : commands) {
          for (String command : expand(pattern)) {
            Optional<Path> file = locate(command);
            if (file.isPresent() && seen.add(realPath(file.get()))) {
              probes.add(CompletableFuture.supplyAsync(() -> probe(language, file.get()), pool));
            }
          }
        }
      });
    } finally {
      pool.shutdown();
    }
    Set<Path> interpreters = new HashSet<>();
    List<Installed> installed = probes.stream().map(CompletableFuture::join).flatMap(Optional::stream)
        .filter(i -> interpreters.add(realPath(Path.of(i.command())))).toList();
    Interpreters offered = resolve(installed, provided, exactOnly);
    offered.report(installed, (System.nanoTime() - start) / 1_000_000);
    return offered;
  }

  /** The runtime ids {@code installed} and {@code provided} can run, each on its chosen interpreter. */
  static Interpreters resolve(List<Installed> installed, Set<String> provided, boolean exactOnly) {
    Map<String, Interpreter> byRuntime = new LinkedHashMap<>();
    for (String id : Runtimes.runnable()) {
      Target target = Runtimes.target(id).orElseThrow();
      if (target.language() == Language.PROVIDED) {
        if (provided.contains(id)) {
          byRuntime.put(id, new Interpreter("bootstrap", new Offer(id, "provided:" + id.substring("provided.".length()),
              true)));
        }
        continue;
      }
      choose(target, installed, exactOnly).ifPresent(i -> byRuntime.put(id, new Interpreter(i.command(),
          new Offer(id, target.language().name().toLowerCase(java.util.Locale.ROOT) + ":" + i.versionText(),
              i.release().equals(target.release())))));
    }
    return new Interpreters(byRuntime);
  }

  /** The interpreter {@code target} runs on, among {@code installed} (in the order they were listed). */
  static Optional<Installed> choose(Target target, List<Installed> installed, boolean exactOnly) {
    List<Installed> ofLanguage = installed.stream().filter(i -> i.language() == target.language()).toList();
    Optional<Installed> exact = ofLanguage.stream().filter(i -> i.release().equals(target.release())).findFirst();
    if (exact.isPresent() || exactOnly) {
      return exact;
    }
    Comparator<Installed> byRelease = (a, b) -> compare(a.release(), b.release());
    Optional<Installed> newer = ofLanguage.stream().filter(i -> compare(i.release(), target.release()) > 0)
        .min(byRelease);
    if (newer.isPresent() || target.language() != Language.PYTHON) {
      return newer;
    }
    return ofLanguage.stream().filter(i -> i.release().get(0).equals(target.release().get(0))).max(byRelease);
  }

  private static int compare(List<Integer> a, List<Integer> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int c = Integer.compare(a.get(i), b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }

  public Optional<Interpreter> of(String runtime) {
    return Optional.ofNullable(byRuntime.get(runtime));
  }

  /** What the API offers: every runtime id this node runs, with the version it runs on. */
  public Map<String, Offer> offers() {
    Map<String, Offer> offers = new LinkedHashMap<>();
    byRuntime.forEach((id, i) -> offers.put(id, i.offer()));
    return offers;
  }

  /**
   * One line: the ids offered, the interpreters in use (of those found, the ones some id runs on),
   * and the ids that run on another release than their own. Informational: with exact
   * interpreters off, that is what was asked for; each function created on such an id is warned of.
   */
  private void report(List<Installed> installed, long millis) {
    Set<String> used = new HashSet<>();
    byRuntime.values().forEach(i -> used.add(i.command()));
    log.info("Runtimes offered: {}; on interpreters {}; on the closest release, not their own: {} ({} candidates "
        + "found and asked in {} ms)", byRuntime.keySet(),
        installed.stream().filter(i -> used.contains(i.command())).map(i -> i.language().name()
            .toLowerCase(java.util.Locale.ROOT) + " " + i.versionText() + " (" + i.command() + ")").toList(),
        byRuntime.values().stream().filter(i -> !i.offer().exact())
            .map(i -> i.offer().runtime() + " on " + i.offer().runtimeVersion()).toList(),
        installed.size(), millis);
  }

  /** The command's version, or empty (with the reason logged) when it cannot say. */
  static Optional<Installed> probe(Language language, Path file) {
    // Environments start the file that was asked, not what their own PATH would find.
    String command = file.toAbsolutePath().toString();
    try {
      String text;
      if (language == Language.JAVA && Files.isReadable(realPath(file).getParent().resolveSibling("release"))) {
        Matcher release = JAVA_RELEASE.matcher(Files.readString(realPath(file).getParent().resolveSibling("release")));
        text = release.find() ? release.group(1) : "";
      } else {
        Process p = new ProcessBuilder(askVersion(language, command)).redirectErrorStream(true).start();
        text = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
        if (p.isAlive() || p.exitValue() != 0) {
          // A pyenv shim of a version that is not active says so and fails: not an interpreter.
          log.debug("Interpreter {} is skipped: {}", command, text.strip());
          return Optional.empty();
        }
      }
      Optional<List<Integer>> version = version(text);
      if (version.isEmpty()) {
        log.warn("Interpreter {} is skipped: it did not print a version ({})", command, text.strip());
      }
      String executable = executable(text).orElse(command);
      return version.map(v -> new Installed(language, executable, v));
    } catch (IOException e) {
      log.warn("Interpreter {} is skipped: {}", command, e.getMessage());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * How to ask {@code command} its version. Python and Node also say which file runs, so that a
   * wrapper (a pyenv shim: a shell script, 35 ms more for every cold start) is replaced by the
   * interpreter it starts.
   */
  private static List<String> askVersion(Language language, String command) {
    return switch (language) {
      case PYTHON -> List.of(command, "-c", "import platform, sys; print(platform.python_version()); "
          + "print(sys.executable)");
      case NODEJS -> List.of(command, "-p", "process.version + '\\n' + process.execPath");
      default -> List.of(command, "-version");
    };
  }

  /** The interpreter's own file, where the answer to {@link #askVersion} names one (its second line). */
  static Optional<String> executable(String answer) {
    String[] lines = answer.strip().split("\n");
    if (lines.length != 2 || !lines[1].startsWith("/")) {
      return Optional.empty();
    }
    Path file = Path.of(lines[1].strip());
    return Files.isExecutable(file) ? Optional.of(file.toString()) : Optional.empty();
  }

  /** {@code 3.11.7}, {@code v22.23.5}, {@code 17.0.15}, {@code 25}, and Java 8's {@code 1.8.0_392}. */
  static Optional<List<Integer>> version(String text) {
    Matcher m = VERSION.matcher(text);
    if (!m.find()) {
      Matcher major = Pattern.compile("\"(\\d+)\"|^(\\d+)$").matcher(text.strip());
      return major.find() ? Optional.of(List.of(Integer.parseInt(major.group(1) != null ? major.group(1)
          : major.group(2)))) : Optional.empty();
    }
    List<Integer> parts = new ArrayList<>();
    for (int g = 1; g <= 3 && m.group(g) != null; g++) {
      parts.add(Integer.parseInt(m.group(g)));
    }
    if (parts.get(0) == 1 && parts.size() > 1) {
      parts.remove(0);
    }
    return Optional.of(List.copyOf(parts));
  }

  /** {@code pattern}'s matches on disk when it has a {@code *}, else {@code pattern} itself. */
  static List<String> expand(String pattern) {
    if (!pattern.contains("*")) {
      return List.of(pattern);
    }
    List<Path> matches = new ArrayList<>(List.of(Path.of(pattern.startsWith("/") ? "/" : ".")));
    for (String segment : pattern.split("/")) {
      if (segment.isEmpty()) {
        continue;
      }
      List<Path> next = new ArrayList<>();
      for (Path dir : matches) {
        if (!segment.contains("*")) {
          next.add(dir.resolve(segment));
          continue;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, segment)) {
          entries.forEach(next::add);
        } catch (IOException e) {
          // Not a directory, or gone: no match below it.
        }
      }
      next.sort(Comparator.naturalOrder());
      matches = next;
    }
    return matches.stream().filter(Files::isExecutable).map(Path::toString).toList();
  }

  /** The file a command runs: itself when it has a slash, else the first match on PATH. */
  private static Optional<Path> locate(String command) {
    if (command.contains("/")) {
      Path file = Path.of(command);
      return Files.isExecutable(file) && !Files.isDirectory(file) ? Optional.of(file) : Optional.empty();
    }
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/local/bin:/usr/bin:/bin";
    return Arrays.stream(path.split(":")).filter(d -> !d.isEmpty()).map(d -> Path.of(d, command))
        .filter(Files::isExecutable).findFirst();
  }

  private static Path realPath(Path file) {
    try {
      return file.toRealPath();
    } catch (IOException e) {
      return file.toAbsolutePath();
    }
  }
}

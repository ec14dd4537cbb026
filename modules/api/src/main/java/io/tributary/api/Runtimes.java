package io.tributary.api;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lambda's runtime ids, and how a node offers them.
 *
 * <p>An id that is not Lambda's is AWS's {@code ValidationException}. A Lambda id that AWS no
 * longer lets functions be created or updated with gets AWS's own refusal. The rest are offered
 * when the node has an interpreter for them: the id's own version, or, unless the node demands
 * exact interpreters, the closest one of its language that can run it ({@link Offer#exact()} is
 * then false and the offer names the real version).
 */
public final class Runtimes {

  /** The values of Lambda's {@code Runtime} enum (API model of the AWS SDK for Java 2.51). */
  public static final List<String> LAMBDA = List.of(
      "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
      "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "nodejs26.x", "java8", "java8.al2", "java11", "java17",
      "java21", "java25", "java8.al2023", "java11.al2023", "java17.al2023", "python2.7", "python3.6", "python3.7",
      "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "python3.15",
      "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "dotnet10",
      "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "ruby3.4", "ruby4.0", "provided",
      "provided.al2", "provided.al2023");

  /** Ids AWS refuses for new functions and updates: their runtime is past its deprecation. */
  private static final Set<String> BLOCKED = Set.of(
      "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
      "java8", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "dotnetcore1.0", "dotnetcore2.0",
      "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "provided");

  private static final Pattern PYTHON = Pattern.compile("python(3)\\.(\\d+)");
  private static final Pattern NODEJS = Pattern.compile("nodejs(\\d+)\\.x");
  private static final Pattern JAVA = Pattern.compile("java(\\d+)(\\.al2|\\.al2023)?");

  private Runtimes() {}

  /** The languages Tributary runs, each with its own bootstrap. */
  public enum Language { PYTHON, NODEJS, JAVA, PROVIDED }

  /**
   * What a runtime id of a language asks for: its release ({@code [3, 12]} for python3.12,
   * {@code [22]} for nodejs22.x, {@code [21]} for java21).
   */
  public record Target(String runtime, Language language, List<Integer> release) {}

  /**
   * A runtime id this node runs, on which interpreter: {@code runtimeVersion} as AWS prints it in
   * INIT_START ({@code python:3.11.7}), {@code exact} when that is the id's own release.
   */
  public record Offer(String runtime, String runtimeVersion, boolean exact) {

    public String runtimeVersionArn(String region) {
      return Runtimes.runtimeVersionArn(region, runtimeVersion);
    }
  }

  /**
   * The ARN of a runtime version ({@code python:3.11.2}) as GetFunction and INIT_START show it,
   * {@code arn:aws:lambda:<region>::runtime:python-3.11.2}; AWS's name a build by hash.
   */
  public static String runtimeVersionArn(String region, String runtimeVersion) {
    return "arn:aws:lambda:" + region + "::runtime:" + runtimeVersion.replace(':', '-');
  }

  /** The runnable languages' target of {@code runtime}, empty for ids Tributary cannot run (ruby, dotnet, go). */
  public static Optional<Target> target(String runtime) {
    if (runtime == null || BLOCKED.contains(runtime) || !LAMBDA.contains(runtime)) {
      return Optional.empty();
    }
    Matcher m;
    if ((m = PYTHON.matcher(runtime)).matches()) {
      return Optional.of(new Target(runtime, Language.PYTHON,
          List.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))));
    }
    if ((m = NODEJS.matcher(runtime)).matches()) {
      return Optional.of(new Target(runtime, Language.NODEJS, List.of(Integer.parseInt(m.group(1)))));
    }
    if ((m = JAVA.matcher(runtime)).matches()) {
      return Optional.of(new Target(runtime, Language.JAVA, List.of(Integer.parseInt(m.group(1)))));
    }
    if (runtime.startsWith("provided.")) {
      return Optional.of(new Target(runtime, Language.PROVIDED, List.of()));
    }
    return Optional.empty();
  }

  /** Every id Tributary could run with the right interpreter, in Lambda's order. */
  public static List<String> runnable() {
    return LAMBDA.stream().filter(id -> target(id).isPresent()).toList();
  }

  /**
   * The offer for {@code runtime} on a node offering {@code offered}, or the error AWS gives: an id
   * that is not Lambda's, one AWS no longer accepts, or one this node has no interpreter for.
   */
  public static Offer check(String runtime, Map<String, Offer> offered) {
    if (runtime == null || !LAMBDA.contains(runtime)) {
      throw LambdaException.validation(runtime, "runtime", "Member must satisfy enum value set: " + LAMBDA);
    }
    Offer offer = offered.get(runtime);
    if (offer != null) {
      return offer;
    }
    if (BLOCKED.contains(runtime)) {
      throw LambdaException.invalidParameter("The runtime parameter of " + runtime + " is no longer supported for "
          + "creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or "
          + "updating functions: " + installed(offered.values()) + ".");
    }
    throw LambdaException.invalidParameter("The runtime parameter of " + runtime + " is not supported by this "
        + "Tributary node: " + (target(runtime).isPresent()
            ? "no interpreter for it is installed (tributary.runtime.interpreters)"
            : "it has no " + runtime.replaceAll("[0-9.x-].*", "") + " runtime")
        + ". Runtimes it runs: " + installed(offered.values()) + ".");
  }

  /** The offered ids by language and release, each exact one alone and the others with what runs them. */
  public static String installed(Collection<Offer> offers) {
    Map<String, String> sorted = new TreeMap<>();
    offers.forEach(o -> sorted.put(o.runtime(), o.exact() ? o.runtime() : o.runtime() + " (on " + o.runtimeVersion()
        + ")"));
    return sorted.values().toString();
  }
}

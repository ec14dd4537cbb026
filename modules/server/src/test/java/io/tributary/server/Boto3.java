package io.tributary.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Python script with the machine's boto3 against a node, as a user's boto3 program would
 * call it: boto3's own request shapes, signing and error parsing, including operations that
 * Debian's awscli 2.9 does not know. The node's endpoint, region and test credentials reach the
 * script through the environment only ({@code AWS_ENDPOINT_URL}, {@code AWS_DEFAULT_REGION},
 * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}); no config or credentials file is read.
 *
 * <p>The script runs after a prelude that gives it:
 * <ul>
 *   <li>{@code lam}: boto3's Lambda client for the node, without retries;
 *   <li>{@code args}: the JSON input, decoded;
 *   <li>{@code client_error(call, **params)}: runs the call, which must raise botocore's
 *       {@code ClientError}, and returns its {@code {"Code", "Status", "Message"}};
 * </ul>
 * and it sets {@code result}, which comes back as JSON (dates as strings):
 *
 * <pre>
 * JsonNode out = Boto3.run(NODE.node(), """
 *     result = client_error(lam.list_tags, Resource=args["arn"])
 *     """, Map.of("arn", arn));
 * assertEquals("ResourceNotFoundException", out.get("Code").asText());
 * </pre>
 *
 * A script that fails (an exception, a {@code ClientError} it did not expect, an assert) fails the
 * test with the script's stderr. The interpreter is {@code python3} on the PATH, or the system
 * property {@code tributary.it.python}; one without boto3 fails the test and says so: it never
 * skips.
 */
final class Boto3 {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PYTHON = System.getProperty("tributary.it.python", "python3");
  private static final long TIMEOUT_SECONDS = 120;
  private static final String PRELUDE = """
      import json, os, sys
      try:
          import boto3, botocore
          from botocore.config import Config
          from botocore.exceptions import ClientError
      except ImportError as e:
          sys.stderr.write("BOTO3_MISSING %s\\n" % e)
          sys.exit(3)
      lam = boto3.client("lambda", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                         config=Config(retries={"max_attempts": 1, "mode": "standard"}))
      args = json.load(sys.stdin)
      def client_error(call, **params):
          try:
              call(**params)
          except ClientError as e:
              return {"Code": e.response["Error"]["Code"],
                      "Status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                      "Message": e.response["Error"].get("Message", "")}
          raise AssertionError("expected a ClientError from %s(%s)" % (call.__name__, params))
      result = None
      """;
  private static final String EPILOGUE = """

      json.dump(result, sys.stdout, default=str)
      """;

  private Boto3() {}

  /** The script's {@code result}; {@code input} is its {@code args}. */
  static JsonNode run(TestNode node, String script, Object input) {
    String program = PRELUDE + script + EPILOGUE;
    ProcessBuilder builder = new ProcessBuilder(PYTHON, "-c", program);
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("AWS_"));
    env.put("AWS_ENDPOINT_URL", node.endpoint().toString());
    env.put("AWS_DEFAULT_REGION", "us-east-1");
    env.put("AWS_ACCESS_KEY_ID", TestNode.ACCESS_KEY);
    env.put("AWS_SECRET_ACCESS_KEY", TestNode.SECRET_KEY);
    env.put("AWS_CONFIG_FILE", "/dev/null");
    env.put("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    try {
      Process process = builder.start();
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()));
      try (var stdin = process.getOutputStream()) {
        stdin.write(JSON.writeValueAsBytes(input == null ? Map.of() : input));
      } catch (IOException closedEarly) {
        // The script ended before reading its input (boto3 missing, say): its exit and stderr tell why.
      }
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("boto3 script did not finish within " + TIMEOUT_SECONDS + " s:\n" + script);
      }
      String stderr = err.join();
      if (process.exitValue() == 3 && stderr.contains("BOTO3_MISSING")) {
        throw new AssertionError("boto3 is not importable by '" + PYTHON + "' (" + stderr.strip() + "). These tests"
            + " need boto3 1.43 or later: install it for that interpreter, or point -Dtributary.it.python at one"
            + " that has it.");
      }
      if (process.exitValue() != 0) {
        throw new AssertionError("boto3 script failed (exit " + process.exitValue() + "):\n" + stderr
            + "\n--- script ---\n" + script);
      }
      return JSON.readTree(out.join());
    } catch (IOException e) {
      throw new AssertionError("could not run '" + PYTHON + "' for a boto3 script: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while a boto3 script ran", e);
    }
  }

  private static String drain(InputStream stream) {
    try {
      return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The version of boto3 that {@link #run} uses. */
  static String version(TestNode node) {
    return run(node, "result = boto3.__version__\n", null).asText();
  }
}

package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AWS CLI v2 (Debian's {@code awscli}, {@code /usr/bin/aws}; another with
 * {@code -Dtributary.it.aws-cli=PATH}) against a node, exactly as the README's examples run it.
 */
class AwsCliIT {

  private static final String KEYSPACE = "it_aws_cli";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final Path CLI = Path.of(System.getProperty("tributary.it.aws-cli", "/usr/bin/aws"));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestNode node;

  @TempDir
  static Path home;

  record Result(int exit, String out, String err) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + out + err, e);
      }
    }
  }

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(Files.isExecutable(CLI), "no AWS CLI v2 at " + CLI + " (.ci/run installs Debian's awscli)");
    node = NODE.node();
  }

  /** {@code aws lambda ARGS}, or {@code aws logs|events ...} when the first argument is "logs" or "events". */
  private static Result aws(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(CLI.toString()));
    if (!args[0].equals("logs") && !args[0].equals("events")) {
      command.add("lambda");
    }
    command.addAll(List.of(args));
    command.addAll(List.of("--endpoint-url", node.endpoint().toString(), "--output", "json"));
    ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("AWS_"));
    env.putAll(Map.of("HOME", home.toString(), "AWS_ACCESS_KEY_ID", TestNode.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY", TestNode.SECRET_KEY, "AWS_DEFAULT_REGION", "us-east-1", "AWS_PAGER", ""));
    Path out = home.resolve("out.txt");
    Path err = home.resolve("err.txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("aws " + String.join(" ", args) + " did not finish");
    }
    return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private static JsonNode ok(String... args) throws Exception {
    Result result = aws(args);
    assertEquals(0, result.exit(), () -> "aws lambda " + String.join(" ", args) + "\n" + result.err());
    return result.out().isBlank() ? JSON.nullNode() : result.json();
  }

  @Test
  void invokeWithAPayloadAndTheLogTail() throws Exception {
    Path zip = home.resolve("py.zip");
    Files.write(zip, Zips.of(Map.of("app.py", """
        def handler(event, context):
            print("hello from", context.function_name)
            return {"sum": sum(event["numbers"])}
        """)));
    ok("create-function", "--function-name", "adder", "--runtime", "python3.11", "--handler", "app.handler",
        "--role", ROLE, "--zip-file", "fileb://" + zip);
    Path out = home.resolve("out.json");
    JsonNode invoked = ok("invoke", "--function-name", "adder", "--cli-binary-format", "raw-in-base64-out",
        "--payload", "{\"numbers\":[1,2,3]}", "--log-type", "Tail", out.toString());
    assertEquals(200, invoked.get("StatusCode").asInt());
    assertEquals("$LATEST", invoked.get("ExecutedVersion").asText());
    assertEquals("{\"sum\": 6}", Files.readString(out));
    String log = new String(java.util.Base64.getDecoder().decode(invoked.get("LogResult").asText()), StandardCharsets.UTF_8);
    assertTrue(log.contains("hello from adder"), log);

    // Later, through the CloudWatch Logs API (logs are written in batches, about every second).
    JsonNode events = JSON.nullNode();
    for (int attempt = 0; attempt < 20 && !events.toString().contains("REPORT RequestId"); attempt++) {
      Thread.sleep(500);
      events = logs("filter-log-events", "--log-group-name", "/aws/lambda/adder").get("events");
    }
    List<String> messages = events.findValuesAsText("message");
    assertTrue(messages.contains("hello from adder"), messages.toString());
    assertTrue(messages.stream().anyMatch(m -> m.startsWith("START RequestId: ")), messages.toString());
    String stream = events.get(0).get("logStreamName").asText();
    assertTrue(stream.contains("[$LATEST]"), stream);
    assertEquals(List.of("hello from adder"), logs("filter-log-events", "--log-group-name", "/aws/lambda/adder",
        "--filter-pattern", "hello").get("events").findValuesAsText("message"));
    assertTrue(logs("get-log-events", "--log-group-name", "/aws/lambda/adder", "--log-stream-name", stream)
        .get("events").findValuesAsText("message").contains("hello from adder"));
    Result tail = aws("logs", "tail", "/aws/lambda/adder");
    assertEquals(0, tail.exit(), tail.err());
    assertTrue(tail.out().contains("hello from adder"), tail.out());
  }

  private static JsonNode logs(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("logs"));
    all.addAll(List.of(args));
    Result result = aws(all.toArray(String[]::new));
    assertEquals(0, result.exit(), () -> "aws " + String.join(" ", all) + "\n" + result.err());
    return result.json();
  }

  @Test
  void theReadmesEventBusExample() throws Exception {
    Path zip = home.resolve("bus.zip");
    Files.write(zip, Zips.of(Map.of("app.py", """
        def handler(event, context):
            print("order total", event["detail"]["total"], "from", event["source"])
            return "ok"
        """)));
    ok("create-function", "--function-name", "order-counter", "--runtime", "python3.11", "--handler", "app.handler",
        "--role", ROLE, "--zip-file", "fileb://" + zip);
    assertEquals("arn:aws:events:us-east-1:000000000000:event-bus/orders",
        ok("events", "create-event-bus", "--name", "orders").get("EventBusArn").asText());
    assertEquals("arn:aws:events:us-east-1:000000000000:rule/orders/big-orders", ok("events", "put-rule", "--name",
        "big-orders", "--event-bus-name", "orders", "--event-pattern",
        "{\"source\":[\"shop\"],\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}").get("RuleArn").asText());
    ok("add-permission", "--function-name", "order-counter", "--statement-id", "big-orders", "--action",
        "lambda:InvokeFunction", "--principal", "events.amazonaws.com", "--source-arn",
        "arn:aws:events:us-east-1:000000000000:rule/orders/big-orders");
    assertEquals(0, ok("events", "put-targets", "--rule", "big-orders", "--event-bus-name", "orders", "--targets",
        "Id=counter,Arn=arn:aws:lambda:us-east-1:000000000000:function:order-counter").get("FailedEntryCount").asInt());
    JsonNode put = ok("events", "put-events", "--entries", "[{\"EventBusName\":\"orders\",\"Source\":\"shop\","
        + "\"DetailType\":\"Order Placed\",\"Detail\":\"{\\\"total\\\":250}\"}]");
    assertEquals(0, put.get("FailedEntryCount").asInt(), put.toString());
    assertEquals(36, put.get("Entries").get(0).get("EventId").asText().length());
    assertEquals("counter", ok("events", "list-targets-by-rule", "--rule", "big-orders", "--event-bus-name", "orders")
        .get("Targets").get(0).get("Id").asText());

    JsonNode events = JSON.nullNode();
    for (int attempt = 0; attempt < 60 && !events.toString().contains("order total 250 from shop"); attempt++) {
      Thread.sleep(500);
      events = logs("filter-log-events", "--log-group-name", "/aws/lambda/order-counter").get("events");
    }
    assertTrue(events.findValuesAsText("message").contains("order total 250 from shop"), events.toString());
    Result missing = aws("events", "describe-rule", "--name", "nope");
    assertEquals(254, missing.exit());
    assertTrue(missing.err().contains("ResourceNotFoundException") && missing.err().contains("Rule nope does not exist"),
        missing.err());
  }

  @Test
  void theReadmesLayerAndProvisionedConcurrencyExamples() throws Exception {
    Path layer = home.resolve("layer.zip");
    Files.write(layer, Zips.of(Map.of("python/shared.py", "GREETING = \"hi\"\n")));
    Path code = home.resolve("greeter.zip");
    Files.write(code, Zips.of(Map.of("app.py", """
        import shared
        def handler(event, context):
            return shared.GREETING
        """)));
    ok("create-function", "--function-name", "greeter", "--runtime", "python3.11", "--handler", "app.handler",
        "--role", ROLE, "--zip-file", "fileb://" + code);
    JsonNode published = ok("publish-layer-version", "--layer-name", "shared", "--zip-file", "fileb://" + layer,
        "--compatible-runtimes", "python3.11");
    String arn = published.get("LayerVersionArn").asText();
    assertEquals("arn:aws:lambda:us-east-1:000000000000:layer:shared:1", arn);
    ok("update-function-configuration", "--function-name", "greeter", "--layers", arn);
    assertEquals("shared", ok("list-layers").get("Layers").get(0).get("LayerName").asText());
    assertEquals(1, ok("list-layer-versions", "--layer-name", "shared").get("LayerVersions").size());
    ok("add-layer-version-permission", "--layer-name", "shared", "--version-number", "1", "--statement-id", "all",
        "--action", "lambda:GetLayerVersion", "--principal", "*");
    assertEquals("1", ok("publish-version", "--function-name", "greeter").get("Version").asText());
    ok("create-alias", "--function-name", "greeter", "--name", "live", "--function-version", "1");
    assertEquals("IN_PROGRESS", ok("put-provisioned-concurrency-config", "--function-name", "greeter", "--qualifier",
        "live", "--provisioned-concurrent-executions", "1").get("Status").asText());
    JsonNode status = JSON.nullNode();
    for (int attempt = 0; attempt < 60 && !status.path("Status").asText().equals("READY"); attempt++) {
      Thread.sleep(500);
      status = ok("get-provisioned-concurrency-config", "--function-name", "greeter", "--qualifier", "live");
    }
    assertEquals(1, status.get("AllocatedProvisionedConcurrentExecutions").asInt(), status.toString());
    Path out = home.resolve("greeting.json");
    ok("invoke", "--function-name", "greeter", "--qualifier", "live", out.toString());
    assertEquals("\"hi\"", Files.readString(out));
  }

  @Test
  void theReadmeExamplesWorkUnchanged() throws Exception {
    Path zip = home.resolve("function.zip");
    Files.write(zip, Zips.withBootstrap("#!/bin/sh\necho hello\n"));

    JsonNode created = ok("create-function", "--function-name", "hello", "--runtime", "provided.al2023",
        "--handler", "bootstrap", "--role", ROLE, "--zip-file", "fileb://" + zip, "--timeout", "10",
        "--environment", "Variables={STAGE=dev}", "--tags", "team=platform");
    assertEquals("arn:aws:lambda:us-east-1:000000000000:function:hello", created.get("FunctionArn").asText());
    assertEquals("Active", created.get("State").asText());

    assertTrue(ok("list-functions").get("Functions").findValuesAsText("FunctionName").contains("hello"));
    assertEquals("dev", ok("get-function", "--function-name", "hello")
        .at("/Configuration/Environment/Variables/STAGE").asText());

    assertEquals(512, ok("update-function-configuration", "--function-name", "hello", "--memory-size", "512")
        .get("MemorySize").asInt());
    Files.write(zip, Zips.withBootstrap("#!/bin/sh\necho v2\n"));
    assertEquals("1", ok("update-function-code", "--function-name", "hello", "--zip-file", "fileb://" + zip,
        "--publish").get("Version").asText());
    assertEquals("1", ok("create-alias", "--function-name", "hello", "--name", "live", "--function-version", "1")
        .get("FunctionVersion").asText());
    assertEquals(List.of("$LATEST", "1"),
        ok("list-versions-by-function", "--function-name", "hello").get("Versions").findValuesAsText("Version"));

    assertEquals(3, ok("put-function-concurrency", "--function-name", "hello", "--reserved-concurrent-executions", "3")
        .get("ReservedConcurrentExecutions").asInt());
    ok("add-permission", "--function-name", "hello", "--statement-id", "s3", "--action", "lambda:InvokeFunction",
        "--principal", "s3.amazonaws.com");
    assertTrue(ok("get-policy", "--function-name", "hello").get("Policy").asText().contains("s3.amazonaws.com"));
    // A public function URL's first statement (Debian's CLI 2.9 predates --invoked-via-function-url).
    ok("add-permission", "--function-name", "hello", "--statement-id", "url", "--action", "lambda:InvokeFunctionUrl",
        "--principal", "*", "--function-url-auth-type", "NONE");
    String policy = ok("get-policy", "--function-name", "hello").get("Policy").asText();
    assertTrue(policy.contains("{\"StringEquals\":{\"lambda:FunctionUrlAuthType\":\"NONE\"}}"), policy);
    ok("tag-resource", "--resource", created.get("FunctionArn").asText(), "--tags", "cost=42");
    assertEquals("42", ok("list-tags", "--resource", created.get("FunctionArn").asText()).at("/Tags/cost").asText());
    assertTrue(ok("get-account-settings").at("/AccountLimit/ConcurrentExecutions").asInt() > 0);

    ok("delete-function", "--function-name", "hello");
    Result missing = aws("get-function", "--function-name", "hello");
    assertEquals(254, missing.exit(), "the CLI's exit status for a service error");
    assertTrue(missing.err().contains("ResourceNotFoundException"), missing.err());
  }
}

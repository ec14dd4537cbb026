package io.tributary.cluster.push;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.cluster.push.TargetInput.Context;
import io.tributary.cluster.push.TargetInput.Settings;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bytes a function gets from a rule target, and what PutTargets says of its settings. The EC2 event, paths and
 * templates are the user guide's (eb-transform-target-input); the account events are the ones of LocalStack's
 * AWS-validated tests, with the answers AWS gave them (test_events_inputs.snapshot.json).
 */
class TargetInputTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final JsonNode EC2_EVENT = read("""
      {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2015-11-11T21:29:54Z",
        "region": "us-east-1",
        "resources": [
          "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"
        ],
        "detail": {
          "instance-id": "i-0123456789",
          "state": "RUNNING"
        }
      }""");
  private static final Map<String, String> EC2_PATHS = Map.of("timestamp", "$.time", "instance",
      "$.detail.instance-id", "state", "$.detail.state", "resource", "$.resources[0]");
  private static final Context EXAMPLE_RULE = new Context("arn:aws:events:us-east-2:123456789012:rule/example",
      "example", Instant.parse("2015-11-11T21:29:55.123Z"));

  private static final JsonNode ACCOUNT_EVENT = read("""
      {"version": "0", "id": "2ba9d9b6-1f5b-4c41-9f67-3b2a0c1d5e7f", "detail-type": "core.update-account-command",
       "source": "core.update-account-command", "account": "111111111111", "time": "2024-06-11T08:33:12Z",
       "region": "us-east-1", "resources": [],
       "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
                  "listsingle": ["HIGH"], "listmulti": ["ACTIVE", "INACTIVE"], "valid": true}}""");
  private static final Map<String, String> ACCOUNT_PATHS = Map.of("userId", "$.detail.payload.acc_id", "payload",
      "$.detail.payload", "systemstring", "$.detail.awsAccountId", "listsingle", "$.detail.listsingle", "listmulti",
      "$.detail.listmulti", "valid", "$.detail.valid");

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static String delivered(Settings settings, JsonNode event, Context context) {
    byte[] payload = TargetInput.apply(settings, event, context);
    return payload == null ? null : new String(payload, UTF_8);
  }

  private static String transformed(Map<String, String> paths, String template, JsonNode event) {
    return delivered(new Settings(null, null, paths, template), event, EXAMPLE_RULE);
  }

  private static String selected(String inputPath, JsonNode event) {
    return delivered(new Settings(null, inputPath, null, null), event, EXAMPLE_RULE);
  }

  @Test
  void withoutInputSettingsTheFunctionGetsTheWholeEvent() {
    assertEquals(EC2_EVENT.toString(), delivered(new Settings(null, null, null, null), EC2_EVENT, EXAMPLE_RULE));
    assertEquals(EC2_EVENT.toString(), delivered(null, EC2_EVENT, EXAMPLE_RULE));
  }

  @Test
  void aConstantInputIsPassedAsGiven() {
    assertEquals("{\"env\": \"dev\",\n \"n\": 1.50}",
        delivered(new Settings("{\"env\": \"dev\",\n \"n\": 1.50}", null, null, null), EC2_EVENT, EXAMPLE_RULE));
  }

  @Test
  void anInputPathPassesTheJsonOfWhatItSelects() {
    assertEquals("{\"command\":\"update-account\",\"payload\":{\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"},"
        + "\"listsingle\":[\"HIGH\"],\"listmulti\":[\"ACTIVE\",\"INACTIVE\"],\"valid\":true}",
        selected("$.detail", ACCOUNT_EVENT));
    assertEquals("{\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"}", selected("$.detail.payload", ACCOUNT_EVENT));
    assertEquals("\"baz\"", selected("$.detail.payload.sf_id", ACCOUNT_EVENT), "a string arrives as JSON text");
    assertEquals("\"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111\"", selected("$.resources[0]", EC2_EVENT));
    assertEquals("\"EC2 Instance State-change Notification\"", selected("$['detail-type']", EC2_EVENT));
    assertEquals(EC2_EVENT.toString(), selected("$", EC2_EVENT));
  }

  @Test
  void aWildcardPathPassesTheArrayOfEverythingItReaches() {
    assertEquals("[\"i-0123456789\",\"RUNNING\"]", selected("$.detail.*", EC2_EVENT));
    assertEquals("[\"ACTIVE\",\"INACTIVE\"]", selected("$.detail.listmulti[*]", ACCOUNT_EVENT));
    assertEquals("[]", selected("$.resources[*]", ACCOUNT_EVENT));
  }

  @Test
  void anInputPathThatSelectsNothingDeliversNothing() {
    assertNull(selected("$.detail.missing", EC2_EVENT));
    assertNull(selected("$.resources[1]", EC2_EVENT));
    assertNull(selected("$.detail.state.deeper", EC2_EVENT));
  }

  // The guide's last row, the CloudWatch log group, shows what CloudWatch Logs prints, not JSON a function gets.
  static Stream<Arguments> userGuideTemplates() {
    return Stream.of(
        Arguments.of("Simple string", "\"instance <instance> is in <state>\"",
            "\"instance i-0123456789 is in RUNNING\""),
        Arguments.of("String with escaped quotes", "\"instance \\\"<instance>\\\" is in <state>\"",
            "\"instance \\\"i-0123456789\\\" is in RUNNING\""),
        Arguments.of("Simple JSON", "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}",
            "{\"instance\":\"i-0123456789\",\"state\":\"RUNNING\"}"),
        Arguments.of("JSON with strings and variables",
            "{\n \"instance\" : <instance>,\n \"state\": \"<state>\",\n"
                + " \"instanceStatus\": \"instance \\\"<instance>\\\" is in <state>\"\n}",
            "{\"instance\":\"i-0123456789\",\"state\":\"RUNNING\","
                + "\"instanceStatus\":\"instance \\\"i-0123456789\\\" is in RUNNING\"}"),
        Arguments.of("JSON with a mix of variables and static information",
            "{\n  \"instance\" : <instance>,\n  \"state\": [ 9, <state>, true ],\n  \"Transformed\" : \"Yes\"\n}\n",
            "{\"instance\":\"i-0123456789\",\"state\":[9,\"RUNNING\",true],\"Transformed\":\"Yes\"}"),
        Arguments.of("Including reserved variables in a string", "\"<aws.events.rule-name> triggered\"",
            "\"example triggered\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("userGuideTemplates")
  void theUserGuidesTemplatesGiveTheUserGuidesOutput(String row, String template, String output) {
    assertEquals(output, transformed(EC2_PATHS, template, EC2_EVENT));
  }

  @Test
  void theUserGuidesReservedVariablesInJson() {
    String template = "{\n  \"instance\" : <instance>,\n  \"state\": <state>,\n  \"ruleArn\" : <aws.events.rule-arn>,"
        + "\n  \"ruleName\" : <aws.events.rule-name>,\n  \"originalEvent\" : <aws.events.event>\n}";
    assertEquals("{\"instance\":\"i-0123456789\",\"state\":\"RUNNING\","
        + "\"ruleArn\":\"arn:aws:events:us-east-2:123456789012:rule/example\",\"ruleName\":\"example\","
        + "\"originalEvent\":{\"id\":\"7bf73129-1428-4cd3-a780-95db273d1602\",\"account\":\"123456789012\","
        + "\"detailType\":\"EC2 Instance State-change Notification\",\"time\":\"2015-11-11T21:29:54Z\","
        + "\"source\":\"aws.ec2\",\"region\":\"us-east-1\","
        + "\"resources\":[\"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111\"],\"version\":\"0\"}}",
        transformed(EC2_PATHS, template, EC2_EVENT));
  }

  static Stream<Arguments> templatesAwsAnswered() {
    return Stream.of(
        Arguments.of("{\"method\": \"PUT\", \"path\": \"users-service/users/<userId>\", \"bod\": <payload>}",
            "{\"method\":\"PUT\",\"path\":\"users-service/users/0a787ecb-4015\","
                + "\"bod\":{\"acc_id\":\"0a787ecb-4015\",\"sf_id\":\"baz\"}}"),
        Arguments.of("{\"method\": \"PUT\", \"path\": \"users-service/users/<userId>\", \"bod\": [<userId>, "
                + "\"hardcoded\"]}",
            "{\"method\":\"PUT\",\"path\":\"users-service/users/0a787ecb-4015\","
                + "\"bod\":[\"0a787ecb-4015\",\"hardcoded\"]}"),
        Arguments.of("{\"id\" : <userId>}", "{\"id\":\"0a787ecb-4015\"}"),
        Arguments.of("{\"id\" : \"<userId>\"}", "{\"id\":\"0a787ecb-4015\"}"),
        Arguments.of("{\"singlelistitem\": <listsingle>}", "{\"singlelistitem\":[\"HIGH\"]}"),
        Arguments.of("{\"multi_replacement\": \"users/<userId>/second/<userId>\"}",
            "{\"multi_replacement\":\"users/0a787ecb-4015/second/0a787ecb-4015\"}"),
        Arguments.of("\"Payload of <payload> with path users-service/users/<userId> and <userId>\"",
            "\"Payload of {acc_id:0a787ecb-4015,sf_id:baz} with path users-service/users/0a787ecb-4015 and "
                + "0a787ecb-4015\""),
        Arguments.of("\"<listsingle> single list item <listmulti> multiple list items <systemstring> system account "
                + "id <payload> payload <userId> user id\"",
            "\"[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id "
                + "{acc_id:0a787ecb-4015,sf_id:baz} payload 0a787ecb-4015 user id\""),
        Arguments.of("\"Command is <valid>!\"", "\"Command is true!\""));
  }

  @ParameterizedTest
  @MethodSource("templatesAwsAnswered")
  void templatesGiveWhatAwsDelivered(String template, String output) {
    assertEquals(output, transformed(ACCOUNT_PATHS, template, ACCOUNT_EVENT));
  }

  @Test
  void aVariableWhosePathSelectsNothingIsAnEmptyString() {
    Map<String, String> paths = Map.of("detail-type", "$.detail-type", "timestamp", "$.time", "command",
        "$.detail.notinmessage");
    assertEquals("{\"detailType\":\"core.update-account-command\",\"time\":\"2024-06-11T08:33:12Z\",\"command\":\"\"}",
        transformed(paths, "{\"detailType\": <detail-type>,  \"time\": <timestamp>, \"command\": <command>}",
            ACCOUNT_EVENT));
    assertEquals("\"Event of core.update-account-command type, at time 2024-06-11T08:33:12Z, info extracted from "
        + "detail \"", transformed(paths, "\"Event of <detail-type> type, at time <timestamp>, info extracted from "
        + "detail <command>\"", ACCOUNT_EVENT));
  }

  @Test
  void anObjectOrArrayQuotedInAJsonTemplateDeliversNothing() {
    assertNull(transformed(ACCOUNT_PATHS, "{\"payload\": \"<payload>\"}", ACCOUNT_EVENT));
    assertNull(transformed(ACCOUNT_PATHS, "{\"singlelistitem\": \"<listsingle>\"}", ACCOUNT_EVENT));
    assertNull(transformed(ACCOUNT_PATHS, "{\"not_valid\": \"users-service/users/<payload>\", \"bod\": <payload>}",
        ACCOUNT_EVENT));
  }

  @Test
  void thePredefinedVariablesAsAwsDeliversThem() {
    Context rule = new Context("arn:aws:events:us-east-1:111111111111:rule/test-bus/test-rule", "test-rule",
        Instant.parse("2024-06-11T08:33:12.871Z"));
    assertEquals("\"Message containing all pre defined variables arn:aws:events:us-east-1:111111111111:rule/"
        + "test-bus/test-rule test-rule 2024-06-11T08:33:12Z\"", delivered(new Settings(null, null, null,
        "\"Message containing all pre defined variables <aws.events.rule-arn> <aws.events.rule-name> "
            + "<aws.events.event.ingestion-time>\""), ACCOUNT_EVENT, rule));
    assertEquals("{\"originalEvent\":{\"id\":\"2ba9d9b6-1f5b-4c41-9f67-3b2a0c1d5e7f\",\"account\":\"111111111111\","
        + "\"detailType\":\"core.update-account-command\",\"time\":\"2024-06-11T08:33:12Z\","
        + "\"source\":\"core.update-account-command\",\"region\":\"us-east-1\",\"resources\":[],\"version\":\"0\"},"
        + "\"originalEventJson\":" + ACCOUNT_EVENT + "}", delivered(new Settings(null, null, null,
        "{\"originalEvent\": <aws.events.event>, \"originalEventJson\": <aws.events.event.json>}"), ACCOUNT_EVENT,
        rule));
  }

  @Test
  void aStringValueKeepsItsQuotesAndBackslashesInsideAndOutsideAString() {
    JsonNode event = read("{\"detail\": {\"note\": \"say \\\"hi\\\"\\\\now\"}}");
    assertEquals("{\"text\":\"note: say \\\"hi\\\"\\\\now\",\"raw\":\"say \\\"hi\\\"\\\\now\"}",
        transformed(Map.of("note", "$.detail.note"), "{\"text\": \"note: <note>\", \"raw\": <note>}", event));
  }

  @Test
  void aTemplateThatIsNotOneJsonValueDeliversNothing() {
    assertNull(transformed(EC2_PATHS, "<instance> is in state <state>", EC2_EVENT), "unquoted text");
    assertNull(transformed(EC2_PATHS, "\"Instance <instance> changed.\"\n\"It is now <state>.\"\n", EC2_EVENT),
        "one quoted string a line");
  }

  @Test
  void settingsAwsAccepts() {
    assertNull(TargetInput.problem(new Settings(null, null, null, null), "t1"));
    assertNull(TargetInput.problem(new Settings("{\"env\":\"dev\"}", null, null, null), "t1"));
    assertNull(TargetInput.problem(new Settings(null, "$.detail.orders[0]", null, null), "t1"));
    assertNull(TargetInput.problem(new Settings(null, "$['detail-type']", null, null), "t1"));
    assertNull(TargetInput.problem(new Settings(null, null, EC2_PATHS, "{\"i\": <instance>, \"s\": \"<state>\"}"),
        "t1"));
    assertNull(TargetInput.problem(new Settings(null, null, null,
        "{\"e\": <aws.events.event>, \"r\": \"<aws.events.rule-name>\"}"), "t1"), "predefined variables need no path");
  }

  @Test
  void moreThanOneWayToShapeTheInputIsRefused() {
    Settings both = new Settings(null, "$.detail", Map.of("command", "$.detail.command"), "{\"c\": <command>}");
    assertEquals("Only one of Input, InputPath, or InputTransformer must be provided for target t1.",
        TargetInput.problem(both, "t1"));
    assertEquals("Only one of Input, InputPath, or InputTransformer must be provided.", TargetInput.problem(both));
  }

  @Test
  void aConstantInputMustBeJsonOfAtMost8192Characters() {
    // AWS's own Jackson put the column after the token (column 4 here); this one says where the token starts.
    assertTrue(TargetInput.problem(new Settings("env:dev", null, null, null), "1")
        .startsWith("JSON syntax error in input for target 1: [Source: (String)\"env:dev\"; line: 1, column: "));
    assertEquals("1 validation error detected: Value at 'input' failed to satisfy constraint: "
        + "Member must have length less than or equal to 8192",
        TargetInput.problem(new Settings("\"" + "x".repeat(8191) + "\"", null, null, null), "1"));
  }

  @Test
  void anInputPathMustBeAPathOfAtMost256Characters() {
    for (String path : new String[] {"detail", "$..detail", "$.detail[-1]", "$.detail[", "$.", "$.detail[?(@.a)]"}) {
      assertEquals("InputPath for target t1 is invalid.",
          TargetInput.problem(new Settings(null, path, null, null), "t1"), path);
    }
    assertEquals("1 validation error detected: Value at 'inputPath' failed to satisfy constraint: "
        + "Member must have length less than or equal to 256",
        TargetInput.problem(new Settings(null, "$." + "a".repeat(255), null, null), "t1"));
  }

  @Test
  void anInputPathsMapHoldsAtMost100DotNotationPathsUnderPlainNames() {
    assertEquals("InputPath for target t1 is invalid.", TargetInput.problem(
        new Settings(null, null, Map.of("type", "$['detail-type']"), "<type>"), "t1"), "no bracket notation");
    Map<String, String> many = new LinkedHashMap<>();
    for (int i = 0; i <= 100; i++) {
      many.put("v" + i, "$.detail.v" + i);
    }
    assertEquals("1 validation error detected: Value at 'inputTransformer.inputPathsMap' failed to satisfy "
        + "constraint: Member must have length less than or equal to 100",
        TargetInput.problem(new Settings(null, null, many, "\"<v0>\""), "t1"));
    String badName = "1 validation error detected: Value at 'inputTransformer.inputPathsMap' failed to satisfy "
        + "constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
        + "[A-Za-z0-9\\_\\-]+]";
    assertEquals(badName, TargetInput.problem(
        new Settings(null, null, Map.of("aws.events.rule-name", "$.detail.name"), "\"<aws.events.rule-name>\""),
        "t1"), "the reserved names");
    assertEquals(badName, TargetInput.problem(new Settings(null, null, Map.of("my name", "$.detail"), "\"x\""), "t1"));
  }

  @Test
  void anInputTemplateIsRequiredAndNamesOnlyItsVariables() {
    assertEquals("1 validation error detected: Value null at 'inputTransformer.inputTemplate' failed to satisfy "
        + "constraint: Member must not be null",
        TargetInput.problem(new Settings(null, null, Map.of("state", "$.detail.state"), null), "t1"));
    assertEquals("1 validation error detected: Value at 'inputTransformer.inputTemplate' failed to satisfy "
        + "constraint: Member must have length less than or equal to 8192",
        TargetInput.problem(new Settings(null, null, Map.of(), "\"" + "x".repeat(8191) + "\""), "t1"));
    Map<String, String> paths = Map.of("detail-type", "$.detail-type", "timestamp", "$.time", "command",
        "$.detail.command");
    assertEquals("InputTemplate for target t1 contains invalid placeholder notdefinedkey.", TargetInput.problem(
        new Settings(null, null, paths, "\"Event of <detail-type> type, with not defined key <notdefinedkey>\""),
        "t1"));
  }
}

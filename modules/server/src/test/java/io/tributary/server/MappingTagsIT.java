package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.LambdaException;
import software.amazon.awssdk.services.lambda.model.ResourceNotFoundException;

/**
 * Tags on event source mappings, through the AWS SDK for Java and through boto3 ({@link Boto3}):
 * {@code Tags} on create, TagResource, UntagResource and ListTags on the mapping's
 * {@code EventSourceMappingArn}, AWS's errors for bad input with nothing stored, tags gone with a
 * deleted mapping and kept across a node restart. The mappings read a Kafka topic and are created
 * disabled: no poller runs, nothing here needs the broker.
 */
class MappingTagsIT {

  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static final String FUNCTION = "tagged-consumer";
  private static final String MAPPING_ARN = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:";
  private static final String ABSENT = MAPPING_ARN + "0f0e0d0c-0b0a-4909-8807-060504030201";

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension("it_mapping_tags");

  @BeforeAll
  static void start() {
    NODE.lambda().createFunction(b -> b.functionName(FUNCTION).runtime("provided.al2023").role(ROLE).handler("unused")
        .tags(Map.of("owner", "function"))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.withBootstrap(Zips.bashRuntime("""
            curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d '{}' >/dev/null
            """))))));
  }

  private static CreateEventSourceMappingResponse createMapping(
      Consumer<CreateEventSourceMappingRequest.Builder> more) {
    return NODE.lambda().createEventSourceMapping(b -> {
      b.functionName(FUNCTION).enabled(false).topics("tags-it")
          .selfManagedEventSource(s -> s.endpointsWithStrings(
              Map.of("KAFKA_BOOTSTRAP_SERVERS", List.of("127.0.0.1:9192"))))
          .startingPosition(EventSourcePosition.TRIM_HORIZON);
      more.accept(b);
    });
  }

  private static Map<String, String> tagsOf(String arn) {
    return NODE.lambda().listTags(b -> b.resource(arn)).tags();
  }

  @Test
  void tagsGivenAtCreateAreListedOnTheMappingsArnAsAwsNamesIt() {
    CreateEventSourceMappingResponse created = createMapping(b -> b.tags(Map.of("team", "orders")));
    assertEquals(MAPPING_ARN + created.uuid(), created.eventSourceMappingArn());
    assertEquals(created.eventSourceMappingArn(),
        NODE.lambda().getEventSourceMapping(b -> b.uuid(created.uuid())).eventSourceMappingArn());
    assertTrue(NODE.lambda().listEventSourceMappings(b -> b.functionName(FUNCTION)).eventSourceMappings().stream()
        .anyMatch(m -> m.eventSourceMappingArn().equals(created.eventSourceMappingArn())));
    assertEquals(Map.of("team", "orders"), tagsOf(created.eventSourceMappingArn()));
  }

  @Test
  void tagAndUntagChangeOnlyTheMappingsTags() {
    String arn = createMapping(b -> b.tags(Map.of("team", "orders"))).eventSourceMappingArn();
    LambdaClient lambda = NODE.lambda();
    lambda.tagResource(b -> b.resource(arn).tags(Map.of("stage", "prod", "team", "payments")));
    assertEquals(Map.of("stage", "prod", "team", "payments"), tagsOf(arn));
    lambda.untagResource(b -> b.resource(arn).tagKeys("team", "never-set"));
    assertEquals(Map.of("stage", "prod"), tagsOf(arn));
    String functionArn = lambda.getFunction(b -> b.functionName(FUNCTION)).configuration().functionArn();
    assertEquals(Map.of("owner", "function"), tagsOf(functionArn), "the function keeps its own tags");
    assertEquals(Map.of(), tagsOf(createMapping(b -> { }).eventSourceMappingArn()), "a mapping created without tags");
  }

  @Test
  void badTagsGetAwsErrorsAndNothingIsStored() {
    String arn = createMapping(b -> b.tags(Map.of("team", "orders"))).eventSourceMappingArn();
    LambdaClient lambda = NODE.lambda();
    InvalidParameterValueException reserved = assertThrows(InvalidParameterValueException.class,
        () -> lambda.tagResource(b -> b.resource(arn).tags(Map.of("aws:cloudformation:stack", "x", "ok", "y"))));
    assertEquals(400, reserved.statusCode());
    assertTrue(reserved.getMessage().contains("aws:"), reserved.getMessage());
    assertEquals(400, assertThrows(InvalidParameterValueException.class,
        () -> lambda.tagResource(b -> b.resource(arn).tags(Map.of("long", "v".repeat(257))))).statusCode());
    assertEquals(400, assertThrows(InvalidParameterValueException.class,
        () -> lambda.tagResource(b -> b.resource(arn).tags(Map.of("k".repeat(129), "v")))).statusCode());
    Map<String, String> fifty = new TreeMap<>();
    for (int i = 0; i < 50; i++) {
      fifty.put("key-" + i, "v");
    }
    InvalidParameterValueException tooMany = assertThrows(InvalidParameterValueException.class,
        () -> lambda.tagResource(b -> b.resource(arn).tags(fifty)));
    assertTrue(tooMany.getMessage().contains("at most 50 tags"), tooMany.getMessage());
    assertEquals(Map.of("team", "orders"), tagsOf(arn), "no refused tag was stored");

    Map<String, String> fiftyOne = new TreeMap<>(fifty);
    fiftyOne.put("one-more", "v");
    int before = lambda.listEventSourceMappings(b -> b.functionName(FUNCTION)).eventSourceMappings().size();
    assertThrows(InvalidParameterValueException.class, () -> createMapping(b -> b.tags(fiftyOne)));
    assertEquals(before, lambda.listEventSourceMappings(b -> b.functionName(FUNCTION)).eventSourceMappings().size(),
        "a create with refused tags creates no mapping");

    LambdaException malformed = assertThrows(LambdaException.class,
        () -> lambda.listTags(b -> b.resource(MAPPING_ARN + "not-a-uuid")));
    assertEquals(400, malformed.statusCode());
    assertEquals("ValidationException", malformed.awsErrorDetails().errorCode());
    for (Runnable call : new Runnable[] {
        () -> lambda.listTags(b -> b.resource(ABSENT)),
        () -> lambda.tagResource(b -> b.resource(ABSENT).tags(Map.of("a", "b"))),
        () -> lambda.untagResource(b -> b.resource(ABSENT).tagKeys("a"))}) {
      assertEquals(404, assertThrows(ResourceNotFoundException.class, call::run).statusCode());
    }
  }

  @Test
  void aDeletedMappingsTagsGoWithIt() {
    CreateEventSourceMappingResponse created = createMapping(b -> b.tags(Map.of("team", "orders")));
    NODE.lambda().deleteEventSourceMapping(b -> b.uuid(created.uuid()));
    assertThrows(ResourceNotFoundException.class, () -> tagsOf(created.eventSourceMappingArn()));
    assertThrows(ResourceNotFoundException.class, () -> NODE.lambda().tagResource(b -> b
        .resource(created.eventSourceMappingArn()).tags(Map.of("a", "b"))));
  }

  @Test
  void tagsSurviveANodeRestart() {
    String arn = createMapping(b -> b.tags(Map.of("team", "orders"))).eventSourceMappingArn();
    NODE.lambda().tagResource(b -> b.resource(arn).tags(Map.of("stage", "prod")));
    NODE.lambda().untagResource(b -> b.resource(arn).tagKeys("team"));
    NODE.restart();
    assertEquals(Map.of("stage", "prod"), tagsOf(arn));
  }

  @Test
  void boto3TagsAMappingAndGetsAwsErrorCodes() {
    JsonNode out = Boto3.run(NODE.node(), """
        created = lam.create_event_source_mapping(
            FunctionName=args["function"], Enabled=False, Topics=["tags-it"], StartingPosition="TRIM_HORIZON",
            SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9192"]}},
            Tags={"team": "orders"})
        arn = created["EventSourceMappingArn"]
        at_create = lam.list_tags(Resource=arn)["Tags"]
        lam.tag_resource(Resource=arn, Tags={"stage": "prod"})
        lam.untag_resource(Resource=arn, TagKeys=["team"])
        result = {
            "arn": arn,
            "uuid": created["UUID"],
            "atCreate": at_create,
            "after": lam.list_tags(Resource=arn)["Tags"],
            "reserved": client_error(lam.tag_resource, Resource=arn, Tags={"aws:owner": "x"}),
            "malformed": client_error(lam.list_tags, Resource=arn[:-1] + "z"),
            "absent": client_error(lam.list_tags, Resource=args["absent"]),
            "unchanged": lam.list_tags(Resource=arn)["Tags"],
        }
        """, Map.of("function", FUNCTION, "absent", ABSENT));
    assertEquals(MAPPING_ARN + out.get("uuid").asText(), out.get("arn").asText());
    assertEquals("orders", out.at("/atCreate/team").asText());
    assertEquals(1, out.get("atCreate").size());
    assertEquals("prod", out.at("/after/stage").asText());
    assertEquals(1, out.get("after").size());
    assertEquals("InvalidParameterValueException", out.at("/reserved/Code").asText());
    assertEquals(400, out.at("/reserved/Status").asInt());
    assertEquals("ValidationException", out.at("/malformed/Code").asText());
    assertEquals(400, out.at("/malformed/Status").asInt());
    assertEquals("ResourceNotFoundException", out.at("/absent/Code").asText());
    assertEquals(404, out.at("/absent/Status").asInt());
    assertEquals(out.get("after"), out.get("unchanged"), "the refused tag was not stored");
  }
}

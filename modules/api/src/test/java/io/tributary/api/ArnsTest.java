package io.tributary.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The FunctionName path parameter in each form AWS accepts, the tag operations' Resource by kind,
 * and AWS's errors for the rest.
 */
class ArnsTest {

  private final Arns arns = new Arns("us-east-1", "123456789012");

  @Test
  void readsANameAPartialArnAndAFullArnEachWithOrWithoutAQualifier() {
    assertEquals(new Arns.FunctionRef("my-fn_2", null), arns.parseFunction("my-fn_2"));
    assertEquals(new Arns.FunctionRef("my-fn", "prod"), arns.parseFunction("my-fn:prod"));
    assertEquals(new Arns.FunctionRef("my-fn", "$LATEST"), arns.parseFunction("my-fn:$LATEST"));
    assertEquals(new Arns.FunctionRef("my-fn", null), arns.parseFunction("123456789012:function:my-fn"));
    assertEquals(new Arns.FunctionRef("my-fn", "7"), arns.parseFunction("123456789012:function:my-fn:7"));
    assertEquals(new Arns.FunctionRef("my-fn", null),
        arns.parseFunction("arn:aws:lambda:us-east-1:123456789012:function:my-fn"));
    assertEquals(new Arns.FunctionRef("my-fn", "live"),
        arns.parseFunction("arn:aws:lambda:us-east-1:123456789012:function:my-fn:live"));
  }

  @Test
  void rejectsWhatIsNotAFunctionNameWithAwsValidationError() {
    for (String bad : new String[] {"", "my fn", "my.fn", "a:b:c", "x".repeat(171)}) {
      LambdaException e = assertThrows(LambdaException.class, () -> arns.parseFunction(bad), bad);
      assertEquals(400, e.status(), bad);
      assertEquals("ValidationException", e.errorType(), bad);
    }
    LambdaException tooLong = assertThrows(LambdaException.class, () -> arns.parseFunction("f".repeat(65)));
    assertTrue(tooLong.getMessage().contains("less than or equal to 64"), tooLong.getMessage());
  }

  @Test
  void anArnOfAnotherAccountOrRegionIsNotFoundHere() {
    for (String other : new String[] {"arn:aws:lambda:eu-west-1:123456789012:function:my-fn",
        "arn:aws:lambda:us-east-1:999999999999:function:my-fn", "999999999999:function:my-fn"}) {
      LambdaException e = assertThrows(LambdaException.class, () -> arns.parseFunction(other), other);
      assertEquals(404, e.status(), other);
      assertEquals("ResourceNotFoundException", e.errorType(), other);
    }
  }

  @Test
  void aTaggingArnNamesAFunctionAMappingOrAKindHeldNowhereHere() {
    assertEquals(new Arns.Taggable.Function("my-fn"),
        arns.parseTaggable("arn:aws:lambda:us-east-1:123456789012:function:my-fn"));
    String mapping = arns.eventSourceMappingArn("1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    assertEquals("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        mapping);
    assertEquals(new Arns.Taggable.Mapping("1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), arns.parseTaggable(mapping));
    String csc = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0";
    assertEquals(new Arns.Taggable.Unheld(csc), arns.parseTaggable(csc));
  }

  @Test
  void aMalformedTaggingArnIsAwsValidationErrorAndAQualifiedFunctionIsRefused() {
    for (String bad : new String[] {"", "my-fn", "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:nope",
        "arn:aws:lambda:us-east-1:123456789012:layer:x", "arn:aws:sqs:us-east-1:123456789012:queue"}) {
      LambdaException e = assertThrows(LambdaException.class, () -> arns.parseTaggable(bad), bad);
      assertEquals(400, e.status(), bad);
      assertEquals("ValidationException", e.errorType(), bad);
      assertTrue(e.getMessage().contains("at 'resource' failed to satisfy constraint"), e.getMessage());
    }
    LambdaException qualified = assertThrows(LambdaException.class,
        () -> arns.parseTaggable("arn:aws:lambda:us-east-1:123456789012:function:my-fn:live"));
    assertEquals("InvalidParameterValueException", qualified.errorType());
    LambdaException elsewhere = assertThrows(LambdaException.class, () -> arns.parseTaggable(
        "arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
    assertEquals(404, elsewhere.status());
  }
}

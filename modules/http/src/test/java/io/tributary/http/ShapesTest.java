package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.Arns;
import io.tributary.api.PolicyStatement;
import org.junit.jupiter.api.Test;

/**
 * Policy statements as AWS renders them in AddPermission's and GetPolicy's answers. The expected
 * JSON is AWS's own answer, recorded against AWS in LocalStack's snapshot tests
 * ({@code test_add_lambda_permission_fields}) and read back by the Terraform provider
 * ({@code permission.go}: {@code Condition.Bool["lambda:InvokedViaFunctionUrl"]} as the string
 * {@code "true"}).
 */
class ShapesTest {

  private static final Shapes SHAPES = new Shapes(new Arns("us-east-1", "111111111111"));
  private static final String FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:fn";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String rendered(PolicyStatement s) {
    return Responses.text(SHAPES.statement(s));
  }

  @Test
  void invokedViaFunctionUrlIsABoolConditionWithTheStringTrue() {
    PolicyStatement invoke = new PolicyStatement("UrlPolicyInvokeFunction", "", "lambda:InvokeFunction", "*", FUNCTION,
        null, null, null, null, null, true);
    assertEquals("{\"Sid\":\"UrlPolicyInvokeFunction\",\"Effect\":\"Allow\",\"Principal\":\"*\","
        + "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"" + FUNCTION + "\","
        + "\"Condition\":{\"Bool\":{\"lambda:InvokedViaFunctionUrl\":\"true\"}}}", rendered(invoke));
    PolicyStatement plain = new PolicyStatement("plain", "", "lambda:InvokeFunction", "*", FUNCTION,
        null, null, null, null, null, false);
    assertEquals("{\"Sid\":\"plain\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\","
        + "\"Resource\":\"" + FUNCTION + "\"}", rendered(plain), "false adds no condition");
  }

  @Test
  void everyOptionalMemberIsTheConditionAwsShows() throws Exception {
    PolicyStatement url = new PolicyStatement("urlPermission", "", "lambda:InvokeFunctionUrl", "*", FUNCTION,
        "arn:aws:s3:::test-bucket", "111111111111", null, "o-1234567890", "NONE", false);
    String aws = """
        {"Sid": "urlPermission", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
         "Resource": "arn:aws:lambda:us-east-1:111111111111:function:fn",
         "Condition": {
           "StringEquals": {"AWS:SourceAccount": "111111111111", "lambda:FunctionUrlAuthType": "NONE",
                            "aws:PrincipalOrgID": "o-1234567890"},
           "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"}}}
        """;
    assertEquals(JSON.readTree(aws), JSON.readTree(rendered(url)));
    assertEquals("{\"AWS:SourceAccount\":\"111111111111\",\"lambda:FunctionUrlAuthType\":\"NONE\","
        + "\"aws:PrincipalOrgID\":\"o-1234567890\"}", JSON.readTree(rendered(url)).at("/Condition/StringEquals")
        .toString(), "the keys in AWS's order");
  }

  @Test
  void anAccountPrincipalIsItsRootArn() throws Exception {
    PolicyStatement account = new PolicyStatement("account-id", "", "lambda:InvokeFunction", "111111111111", FUNCTION,
        null, null, null, null, null, false);
    assertEquals("arn:aws:iam::111111111111:root",
        JSON.readTree(rendered(account)).at("/Principal/AWS").asText());
  }
}

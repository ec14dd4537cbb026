package io.tributary.cluster.policy;

import static io.tributary.cluster.policy.PolicyEvaluator.INVOKE_FUNCTION;
import static io.tributary.cluster.policy.PolicyEvaluator.INVOKE_FUNCTION_URL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.PolicyStatement;
import io.tributary.cluster.policy.PolicyEvaluator.AllowedByIdentity;
import io.tributary.cluster.policy.PolicyEvaluator.AllowedByStatement;
import io.tributary.cluster.policy.PolicyEvaluator.Caller;
import io.tributary.cluster.policy.PolicyEvaluator.Condition;
import io.tributary.cluster.policy.PolicyEvaluator.Decision;
import io.tributary.cluster.policy.PolicyEvaluator.Effect;
import io.tributary.cluster.policy.PolicyEvaluator.ExplicitDeny;
import io.tributary.cluster.policy.PolicyEvaluator.IdentityPolicies;
import io.tributary.cluster.policy.PolicyEvaluator.ImplicitDeny;
import io.tributary.cluster.policy.PolicyEvaluator.Principal;
import io.tributary.cluster.policy.PolicyEvaluator.Request;
import io.tributary.cluster.policy.PolicyEvaluator.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The evaluator against AWS's documented examples: each policy as AWS's page gives it (or the
 * {@code add-permission} command it gives, stored as AddPermission stores it), and the decisions
 * AWS documents for it. Pages: "Control access to Lambda function URLs" (urls-auth), "Granting
 * Lambda function access to AWS services" and "Using Lambda aliases in ... permissions policies"
 * (versioning-aliases-permissions), "Granting Lambda function access to other accounts", "Granting
 * function access to an organization", API Gateway's "Grant API Gateway permission to invoke the
 * Lambda function", and IAM's "IAM JSON policy elements: Condition operators".
 */
class PolicyEvaluatorTest {

  static final String ACCOUNT = "123456789012";
  static final String MY_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:my-function";
  static final PolicyEvaluator TRIBUTARY = new PolicyEvaluator(IdentityPolicies.UNRESTRICTED);

  @Nested
  class FunctionUrls {

    /** urls-auth: the two statements a public (AuthType NONE) URL needs since October 2025, as the console writes. */
    final List<Statement> publicUrl = policy("""
        {"Version": "2012-10-17", "Statement": [
          {"Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*",
           "Action": "lambda:InvokeFunctionUrl", "Resource": "%1$s",
           "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}},
          {"Sid": "FunctionURLAllowInvokeAction", "Effect": "Allow", "Principal": "*",
           "Action": "lambda:InvokeFunction", "Resource": "%1$s",
           "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}]}
        """.formatted(MY_FUNCTION));

    @Test
    void aBrowserCallsAPublicUrlThroughBothStatements() {
      Decision url = TRIBUTARY.evaluate(publicUrl, Request.of(Caller.anonymous(), INVOKE_FUNCTION_URL, MY_FUNCTION)
          .with("lambda:FunctionUrlAuthType", "NONE"));
      assertEquals("FunctionURLAllowPublicAccess", ((AllowedByStatement) url).sid());
      Decision invoke = TRIBUTARY.evaluate(publicUrl, Request.of(Caller.anonymous(), INVOKE_FUNCTION, MY_FUNCTION)
          .with("lambda:InvokedViaFunctionUrl", "true"));
      assertEquals("FunctionURLAllowInvokeAction", ((AllowedByStatement) invoke).sid());
    }

    @Test
    void theSameAnonymousCallerCannotInvokeThroughTheApi() {
      Decision direct = TRIBUTARY.evaluate(publicUrl, Request.of(Caller.anonymous(), INVOKE_FUNCTION, MY_FUNCTION));
      assertInstanceOf(ImplicitDeny.class, direct);
      assertTrue(direct.reason().contains("FunctionURLAllowInvokeAction needs Bool lambda:InvokedViaFunctionUrl true "
          + "(the request has no lambda:InvokedViaFunctionUrl)"), direct.reason());
      assertTrue(direct.reason().contains("FunctionURLAllowPublicAccess is for action lambda:InvokeFunctionUrl"),
          direct.reason());
    }

    @Test
    void urlsAuthCliCommandsStoredByAddPermissionOpenTheUrl() {
      // aws lambda add-permission --function-name my-function --action lambda:InvokeFunctionUrl
      //   --principal "*" --function-url-auth-type NONE --statement-id UrlPolicyInvokeURL
      // aws lambda add-permission --function-name my-function --action lambda:InvokeFunction
      //   --principal "*" --invoked-via-function-url --statement-id UrlPolicyInvokeFunction
      List<PolicyStatement> both = List.of(
          added("UrlPolicyInvokeURL", INVOKE_FUNCTION_URL, "*", MY_FUNCTION, null, null, null, "NONE", false),
          added("UrlPolicyInvokeFunction", INVOKE_FUNCTION, "*", MY_FUNCTION, null, null, null, null, true));
      Decision allowed = TRIBUTARY.functionUrl(both, Caller.anonymous(), MY_FUNCTION, "NONE");
      assertTrue(allowed.allowed(), allowed.reason());
      assertEquals(INVOKE_FUNCTION, allowed.request().action(), "the second check decides when the first allows");
      assertEquals("UrlPolicyInvokeFunction", ((AllowedByStatement) allowed).sid());
    }

    @Test
    void aUrlWithOnlyThePreOctober2025StatementIsRefusedAtTheInvokeCheck() {
      List<PolicyStatement> urlOnly = List.of(
          added("FunctionURLAllowPublicAccess", INVOKE_FUNCTION_URL, "*", MY_FUNCTION, null, null, null, "NONE",
              false));
      Decision d = TRIBUTARY.functionUrl(urlOnly, Caller.anonymous(), MY_FUNCTION, "NONE");
      assertInstanceOf(ImplicitDeny.class, d);
      assertEquals(INVOKE_FUNCTION, d.request().action());
      assertEquals(Map.of("lambda:InvokedViaFunctionUrl", "true"), d.request().context());
    }

    @Test
    void withoutTheUrlStatementTheFirstCheckRefuses() {
      List<PolicyStatement> invokeOnly = List.of(
          added("FunctionURLAllowInvokeAction", INVOKE_FUNCTION, "*", MY_FUNCTION, null, null, null, null, true));
      Decision d = TRIBUTARY.functionUrl(invokeOnly, Caller.anonymous(), MY_FUNCTION, "NONE");
      assertInstanceOf(ImplicitDeny.class, d);
      assertEquals(INVOKE_FUNCTION_URL, d.request().action());
      assertTrue(d.reason().startsWith("anonymous lambda:InvokeFunctionUrl on " + MY_FUNCTION), d.reason());
    }

    @Test
    void aStatementForAuthTypeNoneDoesNotOpenAnAwsIamUrlToAnotherAccount() {
      Decision d = TRIBUTARY.functionUrl(List.of(
              added("url", INVOKE_FUNCTION_URL, "*", MY_FUNCTION, null, null, null, "NONE", false),
              added("invoke", INVOKE_FUNCTION, "*", MY_FUNCTION, null, null, null, null, true)),
          Caller.iam("arn:aws:iam::444455556666:user/mallory"), MY_FUNCTION, "AWS_IAM");
      assertInstanceOf(ImplicitDeny.class, d);
      assertTrue(d.reason().contains("url needs StringEquals lambda:FunctionUrlAuthType NONE "
          + "(got AWS_IAM)"), d.reason());
    }

    /** urls-auth, AWS_IAM: "the following resource-based policy allows the example role in 444455556666 ...". */
    final List<Statement> crossAccountIam = policy("""
        {"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/example"},
           "Action": "lambda:InvokeFunctionUrl", "Resource": "%1$s",
           "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
          {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/example"},
           "Action": "lambda:InvokeFunction", "Resource": "%1$s",
           "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}]}
        """.formatted(MY_FUNCTION));

    @Test
    void theExampleRoleOfAnotherAccountCallsAnAwsIamUrl() {
      Caller session = Caller.iam("arn:aws:sts::444455556666:assumed-role/example/alice");
      assertTrue(url(crossAccountIam, session, "AWS_IAM").allowed(), "a session of the named role");
      assertTrue(url(crossAccountIam, Caller.iam("arn:aws:iam::444455556666:role/example"), "AWS_IAM").allowed());
      Decision other = url(crossAccountIam, Caller.iam("arn:aws:sts::444455556666:assumed-role/other/bob"), "AWS_IAM");
      assertInstanceOf(ImplicitDeny.class, other);
      assertTrue(other.reason().contains("needs a statement"), other.reason());
      assertFalse(url(crossAccountIam, session, "NONE").allowed(), "its statements hold only for AuthType AWS_IAM");
    }

    @Test
    void aPrincipalOfTheFunctionsOwnAccountNeedsNoStatement() {
      // urls-auth: same account, "the resource-based policy is optional" when the identity allows it.
      Decision d = url(List.of(), Caller.iam("arn:aws:iam::123456789012:user/developer"), "AWS_IAM");
      assertInstanceOf(AllowedByIdentity.class, d);
      assertEquals(INVOKE_FUNCTION, d.request().action());
      assertInstanceOf(AllowedByIdentity.class, url(List.of(), Caller.account(ACCOUNT), "AWS_IAM"));
      assertInstanceOf(ImplicitDeny.class, url(List.of(), Caller.anonymous(), "NONE"),
          "an anonymous caller has no identity: a NONE URL with no policy is closed");
    }

    private Decision url(List<Statement> statements, Caller caller, String authType) {
      Decision first = TRIBUTARY.evaluate(statements, Request.of(caller, INVOKE_FUNCTION_URL, MY_FUNCTION)
          .with("lambda:FunctionUrlAuthType", authType));
      return !first.allowed() ? first : TRIBUTARY.evaluate(statements,
          Request.of(caller, INVOKE_FUNCTION, MY_FUNCTION).with("lambda:InvokedViaFunctionUrl", "true"));
    }
  }

  @Nested
  class ServicePrincipals {

    @Test
    void eventBridgeMayInvokeForTheRuleNamedInSourceArn() {
      // aws lambda add-permission --function-name my-function --statement-id my-scheduled-event
      //   --action lambda:InvokeFunction --principal events.amazonaws.com
      //   --source-arn arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule
      List<PolicyStatement> policy = List.of(added("my-scheduled-event", INVOKE_FUNCTION, "events.amazonaws.com",
          MY_FUNCTION, "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule", null, null, null, false));
      Decision rule = TRIBUTARY.serviceInvoke(policy, "events.amazonaws.com", MY_FUNCTION,
          "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule", ACCOUNT);
      assertEquals("my-scheduled-event", ((AllowedByStatement) rule).sid());
      Decision otherRule = TRIBUTARY.serviceInvoke(policy, "events.amazonaws.com", MY_FUNCTION,
          "arn:aws:events:us-east-1:123456789012:rule/another-rule", ACCOUNT);
      assertInstanceOf(ImplicitDeny.class, otherRule);
      assertTrue(otherRule.reason().contains("needs ArnLike AWS:SourceArn "
          + "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule "
          + "(got arn:aws:events:us-east-1:123456789012:rule/another-rule)"), otherRule.reason());
      Decision sns = TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", MY_FUNCTION,
          "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule", ACCOUNT);
      assertTrue(sns.reason().contains("my-scheduled-event is for principal events.amazonaws.com"), sns.reason());
    }

    @Test
    void s3MayInvokeOnlyForTheBucketInTheOwningAccount() {
      // aws lambda add-permission --function-name my-function --action lambda:InvokeFunction
      //   --statement-id s3-account --principal s3.amazonaws.com
      //   --source-arn arn:aws:s3:::amzn-s3-demo-bucket --source-account 123456789012
      // Bucket ARNs hold no account: SourceAccount keeps a bucket of the same name elsewhere out.
      List<PolicyStatement> policy = List.of(added("s3-account", INVOKE_FUNCTION, "s3.amazonaws.com", MY_FUNCTION,
          "arn:aws:s3:::amzn-s3-demo-bucket", ACCOUNT, null, null, false));
      assertTrue(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", MY_FUNCTION, "arn:aws:s3:::amzn-s3-demo-bucket",
          ACCOUNT).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", MY_FUNCTION, "arn:aws:s3:::amzn-s3-demo-bucket",
          "444455556666").allowed(), "the same bucket name in another account");
      assertFalse(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", MY_FUNCTION, "arn:aws:s3:::amzn-s3-demo-bucket",
          null).allowed(), "a request without aws:SourceAccount fails the StringEquals condition");
      assertFalse(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", MY_FUNCTION, "arn:aws:s3:::other-bucket",
          ACCOUNT).allowed());
    }

    @Test
    void snsMayInvokeForItsTopic() {
      String topic = "arn:aws:sns:us-east-1:123456789012:my-topic";
      List<PolicyStatement> policy = List.of(
          added("sns", INVOKE_FUNCTION, "sns.amazonaws.com", MY_FUNCTION, topic, null, null, null, false));
      assertTrue(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", MY_FUNCTION, topic, ACCOUNT).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", MY_FUNCTION,
          "arn:aws:sns:us-east-1:444455556666:my-topic", "444455556666").allowed(),
          "a topic of the same name elsewhere");
    }

    @Test
    void apiGatewaySourceArnWildcardsMatchPartByPart() {
      // API Gateway's example: --principal apigateway.amazonaws.com
      //   --source-arn "arn:aws:execute-api:us-east-2:123456789012:mnh1yprki7/*/GET/pets"
      String fn = "arn:aws:lambda:us-east-2:123456789012:function:my-function";
      List<PolicyStatement> policy = List.of(added("apigateway-get", INVOKE_FUNCTION, "apigateway.amazonaws.com", fn,
          "arn:aws:execute-api:us-east-2:123456789012:mnh1yprki7/*/GET/pets", null, null, null, false));
      assertTrue(TRIBUTARY.serviceInvoke(policy, "apigateway.amazonaws.com", fn,
          "arn:aws:execute-api:us-east-2:123456789012:mnh1yprki7/prod/GET/pets", null).allowed());
      assertTrue(TRIBUTARY.serviceInvoke(policy, "apigateway.amazonaws.com", fn,
          "arn:aws:execute-api:us-east-2:123456789012:mnh1yprki7/test/GET/pets", null).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "apigateway.amazonaws.com", fn,
          "arn:aws:execute-api:us-east-2:123456789012:mnh1yprki7/prod/POST/pets", null).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "apigateway.amazonaws.com", fn,
          "arn:aws:execute-api:us-east-2:444455556666:mnh1yprki7/prod/GET/pets", null).allowed(),
          "the account is its own part of the ARN");
    }

    @Test
    void aPermissionOnAnAliasCoversOnlyCallsThatNameTheAlias() {
      // using-aliases: aws lambda add-permission --function-name helloworld --qualifier PROD
      //   --statement-id 1 --principal s3.amazonaws.com --action lambda:InvokeFunction
      //   --source-arn arn:aws:s3:::amzn-s3-demo-bucket --source-account 123456789012
      String helloworld = "arn:aws:lambda:us-east-1:123456789012:function:helloworld";
      List<PolicyStatement> policy = List.of(added("1", INVOKE_FUNCTION, "s3.amazonaws.com", helloworld + ":PROD",
          "arn:aws:s3:::amzn-s3-demo-bucket", ACCOUNT, null, null, false));
      String bucket = "arn:aws:s3:::amzn-s3-demo-bucket";
      assertTrue(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", helloworld + ":PROD", bucket, ACCOUNT).allowed());
      Decision unqualified = TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", helloworld, bucket, ACCOUNT);
      assertTrue(unqualified.reason().contains("1 is for resource " + helloworld + ":PROD"), unqualified.reason());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "s3.amazonaws.com", helloworld + ":1", bucket, ACCOUNT).allowed(),
          "not even the version PROD points to");
    }

    @Test
    void aPermissionWithoutQualifierDoesNotCoverAnAliasOrVersion() {
      // versioning-aliases-permissions: "If you use an unqualified function name (such as helloworld), the
      // permission is valid only for invoking the helloworld function using the unqualified function ARN".
      String helloworld = "arn:aws:lambda:us-east-1:123456789012:function:helloworld";
      List<PolicyStatement> policy = List.of(
          added("sns", INVOKE_FUNCTION, "sns.amazonaws.com", helloworld, null, null, null, null, false));
      assertTrue(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", helloworld, null, null).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", helloworld + ":BETA", null, null).allowed());
      assertFalse(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", helloworld + ":1", null, null).allowed());
    }
  }

  @Nested
  class CrossAccount {

    /** permissions-function-cross-account: --function-name my-function:prod --principal 111122223333. */
    final List<PolicyStatement> xaccount = List.of(
        added("xaccount", INVOKE_FUNCTION, "111122223333", MY_FUNCTION + ":prod", null, null, null, null, false));

    @Test
    void theOtherAccountInvokesThroughTheAliasOnly() {
      Caller developer = Caller.iam("arn:aws:iam::111122223333:user/developer");
      Decision prod = TRIBUTARY.evaluate(Statement.of(xaccount), Request.of(developer, INVOKE_FUNCTION,
          MY_FUNCTION + ":prod"));
      assertEquals("xaccount", ((AllowedByStatement) prod).sid());
      // "It requires the other account to include the alias in the function ARN."
      Decision unqualified = TRIBUTARY.evaluate(Statement.of(xaccount), Request.of(developer, INVOKE_FUNCTION,
          MY_FUNCTION));
      assertInstanceOf(ImplicitDeny.class, unqualified);
      assertTrue(unqualified.reason().contains("a caller of account 111122223333, not the function's account "
          + "123456789012, needs a statement"), unqualified.reason());
      assertFalse(TRIBUTARY.evaluate(Statement.of(xaccount), Request.of(Caller.iam(
          "arn:aws:iam::444455556666:user/developer"), INVOKE_FUNCTION, MY_FUNCTION + ":prod")).allowed());
    }

    @Test
    void theResourcePolicyDoesNotLetUsersOfTheOtherAccountExceedTheirOwnPermissions() {
      // "Users in the other account must have the corresponding user permissions."
      PolicyEvaluator nothingGranted = new PolicyEvaluator(request -> false);
      Decision d = nothingGranted.evaluate(Statement.of(xaccount), Request.of(
          Caller.iam("arn:aws:iam::111122223333:user/developer"), INVOKE_FUNCTION, MY_FUNCTION + ":prod"));
      assertInstanceOf(ImplicitDeny.class, d);
      assertTrue(d.reason().contains("also needs its own identity-based policies"), d.reason());
    }

    @Test
    void inTheFunctionsAccountEitherTheIdentityOrAStatementAllows() {
      PolicyEvaluator nothingGranted = new PolicyEvaluator(request -> false);
      Caller developer = Caller.iam("arn:aws:iam::123456789012:user/developer");
      assertInstanceOf(ImplicitDeny.class, nothingGranted.evaluate(List.of(),
          Request.of(developer, INVOKE_FUNCTION, MY_FUNCTION)));
      List<PolicyStatement> named = List.of(added("developer", INVOKE_FUNCTION,
          "arn:aws:iam::123456789012:user/developer", MY_FUNCTION, null, null, null, null, false));
      assertInstanceOf(AllowedByStatement.class, nothingGranted.evaluate(Statement.of(named),
          Request.of(developer, INVOKE_FUNCTION, MY_FUNCTION)));
      assertInstanceOf(AllowedByIdentity.class, TRIBUTARY.evaluate(List.of(),
          Request.of(developer, INVOKE_FUNCTION, MY_FUNCTION)));
    }

    @Test
    void aFullPolicyNamesAnAccountAndOneRoleOfAnother() {
      // permissions-function-cross-account, put-resource-policy's example.
      List<Statement> policy = policy("""
          {"Version": "2012-10-17", "Statement": [
            {"Sid": "allow-account-invoke", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::111122223333:root",
                                   "arn:aws:iam::444455556666:role/cross-account-role"]},
             "Action": "lambda:InvokeFunction",
             "Resource": "arn:aws:lambda:us-east-2:123456789012:function:my-function"}]}
          """);
      String fn = "arn:aws:lambda:us-east-2:123456789012:function:my-function";
      assertTrue(TRIBUTARY.evaluate(policy, Request.of(Caller.iam("arn:aws:iam::111122223333:role/anyone"),
          INVOKE_FUNCTION, fn)).allowed(), "any principal of the account named by its root");
      assertTrue(TRIBUTARY.evaluate(policy, Request.of(Caller.account("111122223333"), INVOKE_FUNCTION, fn)).allowed());
      assertTrue(TRIBUTARY.evaluate(policy, Request.of(
          Caller.iam("arn:aws:sts::444455556666:assumed-role/cross-account-role/session"), INVOKE_FUNCTION, fn))
          .allowed());
      assertFalse(TRIBUTARY.evaluate(policy, Request.of(Caller.iam("arn:aws:iam::444455556666:role/other-role"),
          INVOKE_FUNCTION, fn)).allowed());
      assertFalse(TRIBUTARY.evaluate(policy, Request.of(Caller.anonymous(), INVOKE_FUNCTION, fn)).allowed(),
          "an account principal is not everyone");
      assertFalse(TRIBUTARY.evaluate(policy, Request.of(Caller.iam("arn:aws:iam::111122223333:role/anyone"),
          "lambda:GetFunction", fn)).allowed(), "only the action granted");
    }
  }

  @Nested
  class Organizations {

    /** permissions-function-organization: --principal "*" --principal-org-id o-a1b2c3d4e5f. */
    final List<PolicyStatement> org = List.of(
        added("org", INVOKE_FUNCTION, "*", MY_FUNCTION, null, null, "o-a1b2c3d4e5f", null, false));

    @Test
    void everyAccountOfTheOrganizationMayInvoke() {
      Request member = Request.of(Caller.iam("arn:aws:iam::444455556666:role/member"), INVOKE_FUNCTION, MY_FUNCTION);
      assertTrue(TRIBUTARY.evaluate(Statement.of(org), member.with("aws:PrincipalOrgID", "o-a1b2c3d4e5f")).allowed());
      assertFalse(TRIBUTARY.evaluate(Statement.of(org), member.with("aws:PrincipalOrgID", "o-otherorg00")).allowed());
      Decision outside = TRIBUTARY.evaluate(Statement.of(org), member);
      assertTrue(outside.reason().contains("org needs StringEquals aws:PrincipalOrgID o-a1b2c3d4e5f "
          + "(the request has no aws:PrincipalOrgID)"), outside.reason());
      assertFalse(TRIBUTARY.evaluate(Statement.of(org), Request.of(Caller.anonymous(), INVOKE_FUNCTION, MY_FUNCTION))
          .allowed(), "principal * with an organization condition is not public");
    }
  }

  @Nested
  class Effects {

    @Test
    void anExplicitDenyWinsOverEveryAllow() {
      List<Statement> policy = policy("""
          {"Version": "2012-10-17", "Statement": [
            {"Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "lambda:*", "Resource": "%1$s"},
            {"Sid": "iam-only", "Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
             "Resource": "%1$s", "Condition": {"StringNotEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}}]}
          """.formatted(MY_FUNCTION));
      Decision none = TRIBUTARY.evaluate(policy, Request.of(Caller.anonymous(), INVOKE_FUNCTION_URL, MY_FUNCTION)
          .with("lambda:FunctionUrlAuthType", "NONE"));
      assertEquals("iam-only", ((ExplicitDeny) none).sid());
      assertTrue(none.reason().endsWith("denied by statement iam-only"), none.reason());
      Decision sameAccount = TRIBUTARY.evaluate(policy, Request.of(Caller.account(ACCOUNT), INVOKE_FUNCTION_URL,
          MY_FUNCTION).with("lambda:FunctionUrlAuthType", "NONE"));
      assertInstanceOf(ExplicitDeny.class, sameAccount, "a Deny also overrides the caller's own identity");
      assertInstanceOf(AllowedByStatement.class, TRIBUTARY.evaluate(policy, Request.of(Caller.anonymous(),
          INVOKE_FUNCTION_URL, MY_FUNCTION).with("lambda:FunctionUrlAuthType", "AWS_IAM")));
    }

    @Test
    void noPolicyIsAnImplicitDenyForAnonymousCallersAndServices() {
      Decision anonymous = TRIBUTARY.evaluate(List.of(), Request.of(Caller.anonymous(), INVOKE_FUNCTION, MY_FUNCTION));
      assertEquals("anonymous lambda:InvokeFunction on " + MY_FUNCTION
          + ": not allowed: the function has no resource-based policy", anonymous.reason());
      assertFalse(TRIBUTARY.evaluate(List.of(), Request.of(Caller.service("events.amazonaws.com"), INVOKE_FUNCTION,
          MY_FUNCTION)).allowed());
    }

    @Test
    void actionsMatchByPatternWithoutRegardToCase() {
      for (String action : List.of("lambda:InvokeFunction", "lambda:invokefunction", "lambda:*", "*",
          "lambda:Invoke*")) {
        List<PolicyStatement> policy = List.of(
            added("a", action, "sns.amazonaws.com", MY_FUNCTION, null, null, null, null, false));
        assertTrue(TRIBUTARY.serviceInvoke(policy, "sns.amazonaws.com", MY_FUNCTION, null, null).allowed(), action);
      }
      List<PolicyStatement> getFunction = List.of(
          added("a", "lambda:GetFunction", "sns.amazonaws.com", MY_FUNCTION, null, null, null, null, false));
      assertFalse(TRIBUTARY.serviceInvoke(getFunction, "sns.amazonaws.com", MY_FUNCTION, null, null).allowed());
      List<PolicyStatement> url = List.of(
          added("a", "lambda:InvokeFunctionUrl", "sns.amazonaws.com", MY_FUNCTION, null, null, null, null, false));
      assertFalse(TRIBUTARY.serviceInvoke(url, "sns.amazonaws.com", MY_FUNCTION, null, null).allowed(),
          "lambda:InvokeFunctionUrl is not lambda:InvokeFunction");
    }

    @Test
    void resourcesMatchByPatternPartByPart() {
      Request alias = Request.of(Caller.service("sns.amazonaws.com"), INVOKE_FUNCTION, MY_FUNCTION + ":live");
      Request unqualified = Request.of(Caller.service("sns.amazonaws.com"), INVOKE_FUNCTION, MY_FUNCTION);
      List<Statement> anyQualifier = List.of(statement("*", MY_FUNCTION + ":*"));
      assertTrue(TRIBUTARY.evaluate(anyQualifier, alias).allowed());
      assertFalse(TRIBUTARY.evaluate(anyQualifier, unqualified).allowed(), "function:my-function:* needs a qualifier");
      assertTrue(TRIBUTARY.evaluate(List.of(statement("*", "*")), alias).allowed());
      assertTrue(TRIBUTARY.evaluate(List.of(statement("*", "arn:aws:lambda:*:123456789012:function:my-?unction")),
          unqualified).allowed());
      assertFalse(TRIBUTARY.evaluate(List.of(statement("*", "arn:aws:lambda:us-east-1:*")), unqualified).allowed(),
          "a wildcard stays within its part: five parts do not match six");
      assertFalse(TRIBUTARY.evaluate(List.of(statement("*", MY_FUNCTION.toUpperCase())), unqualified).allowed(),
          "resources are case-sensitive");
    }

    private Statement statement(String principal, String resource) {
      return new Statement("s", Effect.ALLOW, List.of(principal.equals("*") ? Principal.ANYONE
          : Principal.aws(principal)), List.of(INVOKE_FUNCTION), List.of(resource), List.of());
    }
  }

  @Nested
  class ConditionOperators {

    final Map<String, String> context = Map.of("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:orders-topic",
        "aws:SourceAccount", "123456789012", "lambda:InvokedViaFunctionUrl", "true");

    @Test
    void stringOperatorsAreCaseSensitiveExceptIgnoreCase() {
      assertTrue(holds("StringEquals", "aws:SourceAccount", "123456789012"));
      assertTrue(holds("StringLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:orders-*"));
      assertTrue(holds("StringLike", "aws:SourceArn", "arn:aws:sns:us-east-?:*"), "* spans colons in StringLike");
      assertFalse(holds("StringLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:ORDERS-*"));
      assertFalse(holds("StringEquals", "aws:SourceArn", "ARN:AWS:SNS:US-EAST-1:123456789012:ORDERS-TOPIC"));
      assertTrue(holds("StringEqualsIgnoreCase", "aws:SourceArn", "ARN:AWS:SNS:US-EAST-1:123456789012:ORDERS-TOPIC"));
      assertTrue(holds("StringNotEquals", "aws:SourceAccount", "444455556666"));
      assertFalse(holds("StringNotLike", "aws:SourceArn", "*orders*"));
    }

    @Test
    void arnOperatorsMatchEachOfTheSixPartsOnItsOwn() {
      assertTrue(holds("ArnLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:*"));
      assertTrue(holds("ArnEquals", "aws:SourceArn", "arn:aws:sns:*:123456789012:*"), "ArnEquals behaves as ArnLike");
      assertFalse(holds("ArnLike", "aws:SourceArn", "arn:aws:sns:*"), "a wildcard does not span parts");
      assertFalse(holds("ArnLike", "aws:SourceArn", "arn:aws:s3:::*"));
      assertFalse(holds("ArnLike", "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:Orders-Topic"));
      assertTrue(holds("ArnNotLike", "aws:SourceArn", "arn:aws:sqs:*:*:*"));
    }

    @Test
    void boolComparesTheBoolean() {
      assertTrue(holds("Bool", "lambda:InvokedViaFunctionUrl", "true"));
      assertFalse(holds("Bool", "lambda:InvokedViaFunctionUrl", "false"));
      assertFalse(new Condition("Bool", "lambda:InvokedViaFunctionUrl", "true")
          .holds(Map.of("lambda:InvokedViaFunctionUrl", "false")));
    }

    @Test
    void severalValuesOfOneKeyAreAlternatives() {
      assertTrue(new Condition("StringEquals", "aws:SourceAccount", List.of("444455556666", "123456789012"))
          .holds(context));
      assertFalse(new Condition("StringEquals", "aws:SourceAccount", List.of("444455556666", "111122223333"))
          .holds(context));
      assertFalse(new Condition("StringNotEquals", "aws:SourceAccount", List.of("444455556666", "123456789012"))
          .holds(context), "a negated operator holds only when no value matches");
    }

    @Test
    void everyKeyOfEveryOperatorMustHold() {
      List<Statement> policy = policy("""
          {"Statement": {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
           "Action": "lambda:InvokeFunction", "Resource": "%s",
           "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:123456789012:*"},
                         "StringEquals": {"AWS:SourceAccount": "123456789012", "aws:PrincipalOrgID": "o-a1b2c3d4e5f"}}}}
          """.formatted(MY_FUNCTION));
      Request sns = Request.of(Caller.service("sns.amazonaws.com"), INVOKE_FUNCTION, MY_FUNCTION)
          .with("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:orders-topic")
          .with("aws:SourceAccount", "123456789012");
      Decision missingOrg = TRIBUTARY.evaluate(policy, sns);
      assertTrue(missingOrg.reason().contains("#1 needs StringEquals aws:PrincipalOrgID o-a1b2c3d4e5f"),
          "a statement without Sid is named by its place: " + missingOrg.reason());
      assertTrue(TRIBUTARY.evaluate(policy, sns.with("aws:PrincipalOrgID", "o-a1b2c3d4e5f")).allowed());
    }

    @Test
    void aMissingKeyFailsAConditionUnlessNegatedOrIfExists() {
      Map<String, String> none = Map.of();
      assertFalse(new Condition("StringEquals", "aws:SourceAccount", "123456789012").holds(none));
      assertFalse(new Condition("ArnLike", "aws:SourceArn", "arn:*:*:*:*:*").holds(none));
      assertFalse(new Condition("Bool", "lambda:InvokedViaFunctionUrl", "false").holds(none),
          "an absent key is not false");
      assertTrue(new Condition("StringNotLike", "aws:SourceArn", "arn:aws:s3:::*").holds(none));
      assertTrue(new Condition("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::*").holds(none));
      assertTrue(new Condition("StringEqualsIfExists", "aws:SourceAccount", "123456789012").holds(none));
      assertFalse(new Condition("StringEqualsIfExists", "aws:SourceAccount", "444455556666").holds(context),
          "IfExists still checks a key that is there");
    }

    @Test
    void keyNamesAreComparedWithoutRegardToCase() {
      // GetPolicy shows AWS:SourceArn; the request context spells it aws:SourceArn.
      assertTrue(holds("ArnLike", "AWS:SOURCEARN", "arn:aws:sns:us-east-1:123456789012:orders-topic"));
    }

    @Test
    void unsupportedOperatorsAreRefusedWhenTheStatementIsBuilt() {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Condition("NumericLessThan", "aws:MultiFactorAuthAge", "3600"));
      assertTrue(e.getMessage().contains("NumericLessThan is not supported"), e.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> new Condition("ForAnyValue:StringEquals", "aws:TagKeys", "team"));
    }

    private boolean holds(String operator, String key, String value) {
      return new Condition(operator, key, value).holds(new Request(Caller.anonymous(), INVOKE_FUNCTION, MY_FUNCTION,
          context).context());
    }
  }

  @Nested
  class AddPermissionStatements {

    @Test
    void readAsTheStatementGetPolicyShows() {
      // The statement AWS answered to AddPermission with every optional member (recorded against AWS
      // in LocalStack's test_add_lambda_permission_fields snapshot), and the same call as stored here.
      List<Statement> shown = policy("""
          {"Statement": [{"Sid": "urlPermission", "Effect": "Allow", "Principal": "*",
            "Action": "lambda:InvokeFunctionUrl", "Resource": "%s",
            "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012", "lambda:FunctionUrlAuthType": "NONE",
                                           "aws:PrincipalOrgID": "o-1234567890"},
                          "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"}}}]}
          """.formatted(MY_FUNCTION));
      Statement stored = Statement.of(added("urlPermission", INVOKE_FUNCTION_URL, "*", MY_FUNCTION,
          "arn:aws:s3:::test-bucket", ACCOUNT, "o-1234567890", "NONE", false));
      assertEquals(withoutConditionOrder(shown.get(0)), withoutConditionOrder(stored));

      List<Statement> invoke = policy("""
          {"Statement": [{"Sid": "invoke", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
            "Resource": "%s", "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}]}
          """.formatted(MY_FUNCTION));
      assertEquals(invoke.get(0), Statement.of(added("invoke", INVOKE_FUNCTION, "*", MY_FUNCTION, null, null, null,
          null, true)));
    }

    @Test
    void anAccountIdPrincipalIsTheAccountsRoot() {
      Statement byId = Statement.of(added("a", INVOKE_FUNCTION, "111122223333", MY_FUNCTION, null, null, null, null,
          false));
      Statement byRoot = Statement.of(added("a", INVOKE_FUNCTION, "arn:aws:iam::111122223333:root", MY_FUNCTION, null,
          null, null, null, false));
      for (Statement s : List.of(byId, byRoot)) {
        assertTrue(TRIBUTARY.evaluate(List.of(s), Request.of(Caller.iam("arn:aws:iam::111122223333:user/dev"),
            INVOKE_FUNCTION, MY_FUNCTION)).allowed());
        assertFalse(TRIBUTARY.evaluate(List.of(s), Request.of(Caller.service("111122223333"), INVOKE_FUNCTION,
            MY_FUNCTION)).allowed());
      }
    }
  }

  @Test
  void globMatchesIamWildcards() {
    assertTrue(PolicyEvaluator.glob("*", "", false));
    assertTrue(PolicyEvaluator.glob("a*b*c", "aXXbYYbc", false));
    assertTrue(PolicyEvaluator.glob("a?c", "abc", false));
    assertFalse(PolicyEvaluator.glob("a?c", "ac", false));
    assertFalse(PolicyEvaluator.glob("a*d", "abc", false));
    assertTrue(PolicyEvaluator.glob("*.amazonaws.com", "events.amazonaws.com", false));
    assertTrue(PolicyEvaluator.glob("LAMBDA:invoke*", "lambda:InvokeFunctionUrl", true));
    assertFalse(PolicyEvaluator.glob("LAMBDA:invoke*", "lambda:InvokeFunctionUrl", false));
    assertTrue(PolicyEvaluator.glob("**?", "x", false));
  }

  // ---- helpers ----

  /** A statement as FunctionRoutes.addPermission stores it. */
  static PolicyStatement added(String sid, String action, String principal, String resource, String sourceArn,
                               String sourceAccount, String principalOrgId, String functionUrlAuthType,
                               boolean invokedViaFunctionUrl) {
    return new PolicyStatement(sid, "", action, principal, resource, sourceArn, sourceAccount, null, principalOrgId,
        functionUrlAuthType, invokedViaFunctionUrl);
  }

  private static Statement withoutConditionOrder(Statement s) {
    List<Condition> sorted = new ArrayList<>(s.conditions());
    sorted.sort((a, b) -> (a.operator() + a.key()).compareToIgnoreCase(b.operator() + b.key()));
    return new Statement(s.sid(), s.effect(), s.principals(), s.actions(), s.resources(), sorted);
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** An IAM policy document as AWS's pages write it, read into statements. */
  static List<Statement> policy(String json) {
    try {
      JsonNode statements = JSON.readTree(json).get("Statement");
      List<Statement> out = new ArrayList<>();
      for (JsonNode s : statements.isArray() ? statements : JSON.createArrayNode().add(statements)) {
        List<Principal> principals = new ArrayList<>();
        JsonNode p = s.get("Principal");
        if (p.isTextual()) {
          principals.add(Principal.ANYONE);
        } else {
          strings(p.get("AWS")).forEach(a -> principals.add(Principal.aws(a)));
          strings(p.get("Service")).forEach(a -> principals.add(Principal.service(a)));
        }
        List<Condition> conditions = new ArrayList<>();
        if (s.has("Condition")) {
          s.get("Condition").fields().forEachRemaining(operator -> operator.getValue().fields().forEachRemaining(
              key -> conditions.add(new Condition(operator.getKey(), key.getKey(), strings(key.getValue())))));
        }
        out.add(new Statement(s.has("Sid") ? s.get("Sid").asText() : null,
            s.get("Effect").asText().equals("Deny") ? Effect.DENY : Effect.ALLOW, principals,
            strings(s.get("Action")), strings(s.get("Resource")), conditions));
      }
      return out;
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  private static List<String> strings(JsonNode node) {
    List<String> out = new ArrayList<>();
    if (node != null) {
      (node.isArray() ? node : JSON.createArrayNode().add(node)).forEach(n -> out.add(n.asText()));
    }
    return out;
  }
}

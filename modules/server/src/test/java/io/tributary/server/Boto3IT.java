package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 21's operations through the machine's boto3, which knows operations Debian's awscli 2.9
 * lacks: today's runtime ids, the code signing reads Terraform makes, runtime management and
 * recursion configs, the legacy InvokeAsync and LoggingConfig, each answering boto3 as AWS does,
 * and bad input refused with AWS's code and status, nothing stored. (Mapping tags: MappingTagsIT.)
 */
class Boto3IT {

  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension("it_boto3");

  private static String pythonZip(String source) {
    return Base64.getEncoder().encodeToString(Zips.of(Map.of("app.py", source)));
  }

  private static JsonNode run(String script) {
    return Boto3.run(NODE.node(), "import base64\n" + script, Map.of("role", ROLE, "zip", pythonZip("""
        import platform
        def handler(event, context):
            return {"python": platform.python_version(), "event": event}
        """)));
  }

  @Test
  void runtimeIdsAreAcceptedOrRefusedAsAwsDoesAndShowTheVersionThatRuns() {
    JsonNode out = run("""
        zip = base64.b64decode(args["zip"])
        created = lam.create_function(FunctionName="b3-py312", Runtime="python3.12", Role=args["role"],
                                      Handler="app.handler", Code={"ZipFile": zip})
        ran = json.loads(lam.invoke(FunctionName="b3-py312", Payload=b"{}")["Payload"].read())
        result = {
            "runtime": created["Runtime"],
            "arn": lam.get_function(FunctionName="b3-py312")["Configuration"]["RuntimeVersionConfig"]["RuntimeVersionArn"],
            "ran": ran["python"],
            "notLambda": client_error(lam.create_function, FunctionName="b3-bad", Runtime="python3", Role=args["role"],
                                      Handler="app.handler", Code={"ZipFile": zip}),
            "ruby": client_error(lam.create_function, FunctionName="b3-bad", Runtime="ruby3.3", Role=args["role"],
                                 Handler="app.handler", Code={"ZipFile": zip}),
            "stored": client_error(lam.get_function, FunctionName="b3-bad"),
        }
        """);
    assertEquals("python3.12", out.get("runtime").asText());
    assertEquals("arn:aws:lambda:us-east-1::runtime:python-" + out.get("ran").asText(), out.get("arn").asText());
    assertEquals("ValidationException", out.at("/notLambda/Code").asText());
    assertEquals(400, out.at("/notLambda/Status").asInt());
    assertEquals("InvalidParameterValueException", out.at("/ruby/Code").asText());
    assertEquals("ResourceNotFoundException", out.at("/stored/Code").asText());
  }

  @Test
  void functionSettingsCodeSigningAndInvokeAsyncAnswerAsAws() {
    JsonNode out = run("""
        zip = base64.b64decode(args["zip"])
        lam.create_function(FunctionName="b3-settings", Runtime="python3.11", Role=args["role"],
                            Handler="app.handler", Code={"ZipFile": zip})
        signing = lam.get_function_code_signing_config(FunctionName="b3-settings")
        lam.delete_function_code_signing_config(FunctionName="b3-settings")
        csc = "arn:aws:lambda:us-east-1:000000000000:code-signing-config:csc-0123456789abcdef0"
        runtime_arn = "arn:aws:lambda:us-east-1::runtime:python-3.11.2"
        before = lam.get_runtime_management_config(FunctionName="b3-settings")
        lam.put_runtime_management_config(FunctionName="b3-settings", UpdateRuntimeOn="Manual",
                                          RuntimeVersionArn=runtime_arn)
        recursion_before = lam.get_function_recursion_config(FunctionName="b3-settings")
        lam.put_function_recursion_config(FunctionName="b3-settings", RecursiveLoop="Allow")
        result = {
            "signing": {"arn": signing["CodeSigningConfigArn"], "function": signing["FunctionName"]},
            "attach": client_error(lam.put_function_code_signing_config, FunctionName="b3-settings",
                                   CodeSigningConfigArn=csc),
            "create": client_error(lam.create_code_signing_config,
                                   AllowedPublishers={"SigningProfileVersionArns": [
                                       "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdefghij"]}),
            "listed": lam.list_code_signing_configs()["CodeSigningConfigs"],
            "getConfig": client_error(lam.get_code_signing_config, CodeSigningConfigArn=csc),
            "runtimeBefore": before["UpdateRuntimeOn"],
            "runtimeAfter": lam.get_runtime_management_config(FunctionName="b3-settings"),
            "manualWithoutArn": client_error(lam.put_runtime_management_config, FunctionName="b3-settings",
                                             UpdateRuntimeOn="Manual"),
            "badMode": client_error(lam.put_runtime_management_config, FunctionName="b3-settings",
                                    UpdateRuntimeOn="Sometimes"),
            "runtimeKept": lam.get_runtime_management_config(FunctionName="b3-settings")["UpdateRuntimeOn"],
            "recursionBefore": recursion_before["RecursiveLoop"],
            "recursionAfter": lam.get_function_recursion_config(FunctionName="b3-settings")["RecursiveLoop"],
            "badLoop": client_error(lam.put_function_recursion_config, FunctionName="b3-settings",
                                    RecursiveLoop="Sometimes"),
            "invokeAsync": lam.invoke_async(FunctionName="b3-settings", InvokeArgs=b'{"legacy": true}')["Status"],
            "invokeAsyncMissing": client_error(lam.invoke_async, FunctionName="b3-nobody", InvokeArgs=b"{}"),
        }
        """);
    assertEquals("", out.at("/signing/arn").asText(), "an unsigned function, as AWS answers it");
    assertEquals("b3-settings", out.at("/signing/function").asText());
    assertEquals("CodeSigningConfigNotFoundException", out.at("/attach/Code").asText());
    assertEquals(404, out.at("/attach/Status").asInt());
    assertEquals("InvalidParameterValueException", out.at("/create/Code").asText());
    assertEquals(0, out.get("listed").size());
    assertEquals("ResourceNotFoundException", out.at("/getConfig/Code").asText());
    assertEquals("Auto", out.get("runtimeBefore").asText());
    assertEquals("Manual", out.at("/runtimeAfter/UpdateRuntimeOn").asText());
    assertEquals("arn:aws:lambda:us-east-1::runtime:python-3.11.2", out.at("/runtimeAfter/RuntimeVersionArn").asText());
    assertEquals("InvalidParameterValueException", out.at("/manualWithoutArn/Code").asText());
    assertEquals("ValidationException", out.at("/badMode/Code").asText());
    assertEquals("Manual", out.get("runtimeKept").asText());
    assertEquals("Terminate", out.get("recursionBefore").asText());
    assertEquals("Allow", out.get("recursionAfter").asText());
    assertEquals("ValidationException", out.at("/badLoop/Code").asText());
    assertEquals(202, out.get("invokeAsync").asInt());
    assertEquals("ResourceNotFoundException", out.at("/invokeAsyncMissing/Code").asText());
  }

  @Test
  void loggingConfigIsKeptMergedAndRefusedAsAwsDoes() {
    JsonNode out = run("""
        zip = base64.b64decode(args["zip"])
        lam.create_function(FunctionName="b3-logs", Runtime="python3.11", Role=args["role"], Handler="app.handler",
                            Code={"ZipFile": zip}, LoggingConfig={"LogFormat": "JSON", "LogGroup": "/custom/b3"})
        lam.update_function_configuration(FunctionName="b3-logs", LoggingConfig={"ApplicationLogLevel": "WARN"})
        result = {
            "merged": lam.get_function_configuration(FunctionName="b3-logs")["LoggingConfig"],
            "levelsWithText": client_error(lam.update_function_configuration, FunctionName="b3-logs",
                                           LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "WARN"}),
            "badLevel": client_error(lam.update_function_configuration, FunctionName="b3-logs",
                                     LoggingConfig={"SystemLogLevel": "TRACE"}),
            "kept": lam.get_function_configuration(FunctionName="b3-logs")["LoggingConfig"],
        }
        """);
    JsonNode merged = out.get("merged");
    assertEquals("JSON", merged.get("LogFormat").asText());
    assertEquals("WARN", merged.get("ApplicationLogLevel").asText());
    assertEquals("INFO", merged.get("SystemLogLevel").asText());
    assertEquals("/custom/b3", merged.get("LogGroup").asText());
    assertEquals("InvalidParameterValueException", out.at("/levelsWithText/Code").asText());
    assertEquals("ValidationException", out.at("/badLevel/Code").asText());
    assertEquals(merged, out.get("kept"), "refused updates change nothing");
    assertTrue(out.at("/levelsWithText/Message").asText().contains("LogFormat"), out.toString());
  }
}

package io.tributary.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Layers as a function sees them, end to end through the AWS SDK: published with
 * PublishLayerVersion, named in CreateFunction's {@code Layers}, and imported by real Python,
 * Node.js and Java code from where AWS's runtimes look (LayersRuntimeIT covers every path and the
 * merge in the runtime module; LayersIT the operations).
 */
class LayerImportsIT {

  private static final String KEYSPACE = "it_layer_imports";
  private static final String ROLE = "arn:aws:iam::000000000000:role/lambda-role";
  private static LambdaClient lambda;

  @RegisterExtension
  static final NodeExtension NODE = new NodeExtension(KEYSPACE);

  @BeforeAll
  static void start() {
    lambda = NODE.lambda();
  }

  private static String publish(String layer, byte[] zip) {
    return lambda.publishLayerVersion(b -> b.layerName(layer).content(c -> c.zipFile(SdkBytes.fromByteArray(zip))))
        .layerVersionArn();
  }

  private static String invoke(String function) {
    var response = lambda.invoke(b -> b.functionName(function).payload(SdkBytes.fromUtf8String("{}")));
    String payload = response.payload().asUtf8String();
    assertEquals(null, response.functionError(), payload);
    return payload;
  }

  @Test
  void pythonImportsFromBothPythonPathsTheLaterLayerWinsAndItsToolsAreOnThePath() {
    String base = publish("py-base", Zips.of(Map.of(
        "python/shared.py", "GREETING = 'from the first layer'\n",
        "python/lib/python3.11/site-packages/vendored/__init__.py", "VALUE = 'vendored'\n")));
    String override = publish("py-override", Zips.withUnixMode(Zips.of(Map.of(
        "python/shared.py", "GREETING = 'from the second layer'\n",
        "bin/layer-tool", "#!/bin/sh\necho tool-output\n")), 0100755));
    lambda.createFunction(b -> b.functionName("py-layers").runtime("python3.11").role(ROLE).handler("app.handler")
        .layers(base, override).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("app.py", """
            import subprocess, shared, vendored
            def handler(event, context):
                tool = subprocess.check_output(["layer-tool"], text=True).strip()
                return [shared.GREETING, vendored.VALUE, tool]
            """))))));
    assertEquals("[\"from the second layer\", \"vendored\", \"tool-output\"]", invoke("py-layers"));

    // A deleted layer version stays usable by the functions that name it, as on AWS, in new environments too.
    lambda.deleteLayerVersion(b -> b.layerName("py-base").versionNumber(1L));
    lambda.updateFunctionConfiguration(b -> b.functionName("py-layers").environment(e -> e.variables(
        Map.of("REVISION", "2"))));
    assertEquals("[\"from the second layer\", \"vendored\", \"tool-output\"]", invoke("py-layers"));
  }

  @Test
  void nodeRequiresAPackageFromTheLayersNodeModules() {
    String layer = publish("node-lib", Zips.of(Map.of(
        "nodejs/node_modules/shout/package.json", "{\"name\": \"shout\", \"main\": \"index.js\"}",
        "nodejs/node_modules/shout/index.js", "module.exports = (s) => s.toUpperCase() + '!';\n")));
    lambda.createFunction(b -> b.functionName("node-layers").runtime("nodejs20.x").role(ROLE)
        .handler("index.handler").layers(layer).code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.of(Map.of("index.js", """
            const shout = require('shout');
            exports.handler = async () => shout('from a layer');
            """))))));
    assertEquals("\"FROM A LAYER!\"", invoke("node-layers"));
  }

  @Test
  void javaLoadsAJarLayerInAProcessAndInProcess() throws IOException {
    Map<String, byte[]> classes = compile(Map.of(
        "lib/Greeter.java", """
            package lib;
            public class Greeter {
              public static String greet(String who) { return "hello " + who + " from " + Greeter.class
                  .getProtectionDomain().getCodeSource().getLocation().getPath().replaceAll(".*/", ""); }
            }
            """,
        "fn/Hello.java", """
            package fn;
            import com.amazonaws.services.lambda.runtime.Context;
            import com.amazonaws.services.lambda.runtime.RequestHandler;
            import java.util.Map;
            public class Hello implements RequestHandler<Map<String, Object>, String> {
              public String handleRequest(Map<String, Object> event, Context context) {
                return lib.Greeter.greet("java");
              }
            }
            """));
    byte[] jar = Zips.ofBytes(Map.of("lib/Greeter.class", classes.get("lib/Greeter.class")));
    String layer = publish("java-lib", Zips.ofBytes(Map.of("java/lib/greeter.jar", jar)));
    byte[] function = Zips.ofBytes(Map.of("fn/Hello.class", classes.get("fn/Hello.class")));
    for (String mode : List.of("process", "in-process")) {
      String name = "java-layers-" + mode;
      lambda.createFunction(b -> b.functionName(name).runtime("java17").role(ROLE).handler("fn.Hello").memorySize(512)
          .timeout(30).layers(layer).environment(e -> e.variables(mode.equals("process") ? Map.of()
              : Map.of("TRIBUTARY_JAVA_MODE", "in-process")))
          .code(c -> c.zipFile(SdkBytes.fromByteArray(function))));
      assertEquals("\"hello java from greeter.jar\"", invoke(name), mode);
    }
  }

  /** Compiles {@code sources} (path → text) together; class file path → bytes. */
  private static Map<String, byte[]> compile(Map<String, String> sources) throws IOException {
    Path dir = Files.createTempDirectory("layer-classes");
    List<String> args = new java.util.ArrayList<>(List.of("-d", dir.toString(), "-cp",
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), "--release", "17"));
    for (var source : sources.entrySet()) {
      Path file = dir.resolve("src").resolve(source.getKey());
      Files.createDirectories(file.getParent());
      Files.writeString(file, source.getValue());
      args.add(file.toString());
    }
    if (javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(String[]::new)) != 0) {
      throw new IllegalStateException("javac failed");
    }
    Map<String, byte[]> classes = new java.util.HashMap<>();
    try (var files = Files.walk(dir)) {
      for (Path c : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        classes.put(dir.relativize(c).toString(), Files.readAllBytes(c));
      }
    }
    return classes;
  }
}

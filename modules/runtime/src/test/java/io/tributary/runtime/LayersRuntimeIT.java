package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.api.FunctionConfig;
import io.tributary.api.FunctionConfig.Layer;
import io.tributary.api.InvocationResult;
import io.tributary.runtime.handlers.LayerUser;
import io.tributary.runtime.handlers.Salutation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Functions with layers on real interpreters: each runtime finds its layers where AWS's looks in
 * /opt, here in the node's merged tree under {@code <work-dir>/layers}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LayersRuntimeIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LOOP = """
      #!/bin/bash
      set -euo pipefail
      API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
      while true; do
        HEADERS="$(mktemp)"
        EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
        REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
        %s
      done
      """;

  @TempDir
  static Path work;
  private static TestRuntime runtime;
  private static TestCode code;
  private static Map<String, Long> optBefore;

  @BeforeAll
  static void start() throws IOException {
    optBefore = opt();
    runtime = new TestRuntime("layers-it", work, "tributary.runtime.init-timeout = 20s\n"
        // Tests run in their module's directory, not the root where deploy/runtimes.sh installs Node 22 and 24.
        + "tributary.runtime.interpreters.nodejs = [\"node\", \"" + projectRoot()
        + "/.tributary/runtimes/node-*/node_modules/node-linux-*/bin/node\"]\n"
        + (Files.isExecutable(ProcessRuntimeIT.JAVA25)
            ? "tributary.runtime.interpreters.java25 = \"" + ProcessRuntimeIT.JAVA25 + "\"" : ""));
    code = runtime.code;
  }

  @AfterAll
  static void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  private static JsonNode invoke(FunctionConfig fn, String payload) throws Exception {
    InvocationResult result = runtime.invoke(fn, payload);
    String text = new String(result.payload(), StandardCharsets.UTF_8);
    assertNull(result.functionError(), text + "\n" + result.logTail());
    return JSON.readTree(text);
  }

  private static Path tree(Layer... layers) {
    return work.resolve("layers").resolve(LayerTree.key(List.of(layers)));
  }

  private static FunctionConfig bash(String name, String step, Layer... layers) {
    return TestCode.withLayers(code.function(name, "provided.al2023", "handler", 5,
        Map.of("bootstrap", LOOP.formatted(step))), Map.of(), layers);
  }

  /** A bash step that answers with {@code json} (a shell-expanded JSON document). */
  private static String respond(String json) {
    return "curl -sS -X POST \"$API/invocation/$REQUEST_ID/response\" -d \"" + json + "\" >/dev/null";
  }

  @Test
  @Order(1)
  void pythonImportsFromALayersPythonAndSitePackagesAndItsPthFiles() throws Exception {
    Layer libs = code.textLayer("pylibs", Map.of(
        "python/layer_top.py", "VALUE = 'top'\n",
        "python/lib/python3.12/site-packages/layer_site/__init__.py", "VALUE = 'site'\n",
        "python/lib/python3.12/site-packages/vendor.pth", "vendored\n",
        "python/lib/python3.12/site-packages/vendored/pth_mod.py", "VALUE = 'pth'\n"));
    FunctionConfig fn = TestCode.withLayers(code.function("py-layers", "python3.12", "app.handler", 5, Map.of("app.py", """
        import layer_top, layer_site, pth_mod
        def handler(event, context):
            return {"values": [layer_top.VALUE, layer_site.VALUE, pth_mod.VALUE], "file": layer_top.__file__}
        """)), Map.of(), libs);
    JsonNode answer = invoke(fn, "{}");
    assertEquals("[\"top\",\"site\",\"pth\"]", answer.get("values").toString());
    assertEquals(tree(libs).resolve("python/layer_top.py").toString(), answer.get("file").asText(),
        "imported from the node's merged tree");
  }

  @Test
  @Order(2)
  void pythonOnAnotherReleasesInterpreterFindsBothReleasesSitePackages() throws Exception {
    Map<String, String> files = new TreeMap<>();
    for (int minor = 10; minor <= 15; minor++) {
      String site = "python/lib/python3." + minor + "/site-packages/";
      files.put(site + "which_release.py", "RELEASE = '3." + minor + "'\n");
      files.put(site + "only_3_" + minor + ".py", "OK = True\n");
    }
    Layer releases = code.textLayer("releases", files);
    FunctionConfig fn = TestCode.withLayers(code.function("py-releases", "python3.14", "app.handler", 5,
        Map.of("app.py", """
            import sys, which_release, only_3_14
            def handler(event, context):
                return {"first": which_release.RELEASE, "interpreter": "%d.%d" % sys.version_info[:2],
                        "id": only_3_14.OK}
            """)), Map.of(), releases);
    JsonNode answer = invoke(fn, "{}");
    assertEquals(answer.get("interpreter").asText(), answer.get("first").asText(),
        "the interpreter's own site-packages come first: " + answer);
    assertTrue(answer.get("id").asBoolean(), "the runtime id's site-packages are on the path too");
  }

  @Test
  @Order(3)
  void nodeRequiresPackagesFromALayersNodeModules() throws Exception {
    Layer modules = code.textLayer("nodelibs", Map.of(
        "nodejs/node_modules/layerpkg/index.js", "module.exports = { name: 'layerpkg' };\n",
        "nodejs/node_modules/versioned/index.js", "module.exports = { where: 'nodejs/node_modules' };\n",
        "nodejs/node20/node_modules/versioned/index.js", "module.exports = { where: 'nodejs/node20' };\n"));
    FunctionConfig fn = TestCode.withLayers(code.function("js-layers", "nodejs20.x", "index.handler", 5,
        Map.of("index.js", """
            const layerpkg = require('layerpkg');
            const versioned = require('versioned');
            exports.handler = async () => ({ name: layerpkg.name, where: versioned.where,
              file: require.resolve('layerpkg') });
            """)), Map.of(), modules);
    JsonNode answer = invoke(fn, "{}");
    assertEquals("layerpkg", answer.get("name").asText());
    assertEquals("nodejs/node20", answer.get("where").asText(), "the runtime's own nodeNN directory comes first");
    assertEquals(tree(modules).resolve("nodejs/node_modules/layerpkg/index.js").toString(),
        answer.get("file").asText());
  }

  @Test
  @Order(3)
  void anEsModuleHandlerImportsALayersPackagesByBareNameAsOnAwsNode18AndLater() throws Exception {
    esModuleImports("esm-node20", "nodejs20.x");
  }

  @Test
  @Order(3)
  void anEsModuleHandlerImportsALayersPackagesOnNode22() throws Exception {
    assumeTrue(runtime.offers().get("nodejs22.x") != null && runtime.offers().get("nodejs22.x").exact(),
        "needs Node 22 (deploy/runtimes.sh)");
    esModuleImports("esm-node22", "nodejs22.x");
  }

  private static void esModuleImports(String name, String runtimeId) throws Exception {
    Layer modules = code.textLayer("esmlibs", Map.of(
        "nodejs/node_modules/esmpkg/package.json",
        "{\"name\": \"esmpkg\", \"type\": \"module\", \"exports\": {\"import\": \"./index.js\"}}\n",
        "nodejs/node_modules/esmpkg/index.js", "export const where = 'an ES module of a layer';\n",
        "nodejs/node_modules/cjspkg/index.js", "module.exports = { name: 'a CommonJS module of a layer' };\n"));
    FunctionConfig fn = TestCode.withLayers(code.function(name, runtimeId, "index.handler", 5, Map.of("index.mjs", """
        import { where } from 'esmpkg';
        import cjs from 'cjspkg';
        export const handler = async () => ({ where, cjs: cjs.name, version: process.version });
        """)), Map.of(), modules);
    JsonNode answer = invoke(fn, "{}");
    assertEquals("an ES module of a layer", answer.get("where").asText(), answer.toString());
    assertEquals("a CommonJS module of a layer", answer.get("cjs").asText());

    FunctionConfig missing = TestCode.withLayers(code.function(name + "-missing", runtimeId, "index.handler", 5,
        Map.of("index.mjs", "import 'nowhere';\nexport const handler = async () => 1;\n")), Map.of(), modules);
    InvocationResult failed = runtime.invoke(missing, "{}");
    String text = new String(failed.payload(), StandardCharsets.UTF_8);
    assertTrue(text.contains("Runtime.ImportModuleError") && text.contains("nowhere"),
        "a package in no layer is still the runtime's import error: " + text);
  }

  private static Layer jarLayer() throws IOException {
    String name = Salutation.class.getName().replace('.', '/') + ".class";
    try (InputStream in = Salutation.class.getClassLoader().getResourceAsStream(name)) {
      byte[] jar = TestCode.zipBytes(Map.of(name, in.readAllBytes()));
      return code.layer("salutation", Map.of("java/lib/salutation.jar", jar));
    }
  }

  private static void usesTheJarLayer(String name, String runtimeId, Map<String, String> environment) throws Exception {
    Layer jar = jarLayer();
    FunctionConfig fn = TestCode.withLayers(code.javaFunction(name, runtimeId,
        "io.tributary.runtime.handlers.LayerUser", environment, 10, LayerUser.class), Map.of(), jar);
    JsonNode answer = invoke(fn, "{\"name\":\"Ada\"}");
    assertEquals("Salut, Ada", answer.get("salutation").asText(), answer.toString());
    assertEquals("file:" + tree(jar).resolve("java/lib/salutation.jar"), answer.get("from").asText(),
        "the class came from the layer's jar");
  }

  @Test
  @Order(4)
  void processJavaFindsALayersJarOnJava17() throws Exception {
    usesTheJarLayer("jar-java17", "java17", Map.of());
  }

  @Test
  @Order(4)
  void processJavaFindsALayersJarOnJava21() throws Exception {
    assumeTrue(Files.isExecutable(ProcessRuntimeIT.JAVA25), "java21 runs on JDK 25 here");
    usesTheJarLayer("jar-java21", "java21", Map.of());
  }

  @Test
  @Order(4)
  void inProcessJavaFindsALayersJar() throws Exception {
    usesTheJarLayer("jar-in-process", "java17", Map.of(InProcessEnvironment.MODE_VARIABLE, InProcessEnvironment.MODE));
  }

  @Test
  @Order(5)
  void aLayersBinIsOnPathAndItsLibOnTheLibraryPath() throws Exception {
    Layer tools = code.textLayer("tools", Map.of("bin/tool", "#!/bin/sh\necho tool-from-layer\n"));
    FunctionConfig fn = bash("bash-tools", respond("{\\\"tool\\\":\\\"$(tool)\\\",\\\"path\\\":\\\"$PATH\\\","
        + "\\\"lib\\\":\\\"$LD_LIBRARY_PATH\\\"}"), tools);
    JsonNode answer = invoke(fn, "{}");
    Path root = work.resolve("code").resolve(fn.codeSha256Hex());
    assertEquals("tool-from-layer", answer.get("tool").asText(), "run by bare name");
    assertEquals("/usr/local/bin:/usr/bin:/bin:" + tree(tools).resolve("bin"), answer.get("path").asText());
    assertEquals(root + ":" + root.resolve("lib") + ":" + tree(tools).resolve("lib"), answer.get("lib").asText());
  }

  @Test
  @Order(5)
  void aSharedLibraryInALayersLibLoadsByName() throws Exception {
    Path libz = Stream.of("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1").map(Path::of).filter(Files::isReadable)
        .findFirst().orElse(null);
    assumeTrue(libz != null, "needs the system's zlib to copy into a layer");
    Layer nativeLib = code.layer("native", Map.of("lib/libtributary_layer_z.so", Files.readAllBytes(libz)));
    FunctionConfig fn = TestCode.withLayers(code.function("py-native", "python3.11", "app.handler", 5,
        Map.of("app.py", """
            import ctypes, zlib
            def handler(event, context):
                lib = ctypes.CDLL("libtributary_layer_z.so")
                lib.zlibVersion.restype = ctypes.c_char_p
                return {"loaded": lib.zlibVersion().decode(), "python": zlib.ZLIB_RUNTIME_VERSION}
            """)), Map.of(), nativeLib);
    JsonNode answer = invoke(fn, "{}");
    assertEquals(answer.get("python").asText(), answer.get("loaded").asText(),
        "dlopen found the layer's library through LD_LIBRARY_PATH: " + answer);
  }

  @Test
  @Order(6)
  void laterLayersWinAndACustomRuntimesBootstrapMayComeFromALayer() throws Exception {
    Layer runtimeLayer = code.textLayer("bash-runtime", Map.of(
        "bootstrap", LOOP.formatted(respond("{\\\"message\\\":\\\"$(cat \"$(dirname \"$0\")/message\")\\\","
            + "\\\"bootstrap\\\":\\\"$0\\\"}")),
        "message", "from layer 1"));
    Layer override = code.textLayer("override", Map.of("message", "from layer 2"));
    FunctionConfig fn = TestCode.withLayers(code.function("layer-runtime", "provided.al2023", "handler", 5,
        Map.of("README", "no bootstrap of its own")), Map.of(), runtimeLayer, override);
    JsonNode answer = invoke(fn, "{}");
    assertEquals("from layer 2", answer.get("message").asText(), "the later layer's file");
    assertEquals(tree(runtimeLayer, override).resolve("bootstrap").toString(), answer.get("bootstrap").asText());

    FunctionConfig none = TestCode.withLayers(code.function("no-runtime", "provided.al2023", "handler", 5,
        Map.of("README", "no bootstrap")), Map.of(), override);
    InvocationResult result = runtime.invoke(none, "{}");
    String text = new String(result.payload(), StandardCharsets.UTF_8);
    assertEquals("Unhandled", result.functionError());
    assertTrue(text.contains("Runtime.InvalidEntrypoint") && text.contains(tree(override).resolve("bootstrap").toString()),
        "both places looked in are named: " + text);
  }

  @Test
  @Order(7)
  void theFunctionsOwnPathVariablesWinAsOnAws() throws Exception {
    Layer tools = code.textLayer("tools", Map.of("bin/tool", "#!/bin/sh\necho tool-from-layer\n"));
    FunctionConfig fn = TestCode.withLayers(code.function("own-paths", "provided.al2023", "handler", 5,
        Map.of("bootstrap", LOOP.formatted(respond("{\\\"path\\\":\\\"$PATH\\\",\\\"lib\\\":\\\"$LD_LIBRARY_PATH\\\","
            + "\\\"tool\\\":\\\"$(command -v tool || true)\\\"}")))),
        Map.of("PATH", "/usr/bin:/bin", "LD_LIBRARY_PATH", "/srv/lib"), tools);
    JsonNode answer = invoke(fn, "{}");
    assertEquals("/usr/bin:/bin", answer.get("path").asText());
    assertEquals("/srv/lib", answer.get("lib").asText());
    assertEquals("", answer.get("tool").asText(), "its PATH replaced the one with the layers' bin");
  }

  @Test
  @Order(8)
  void aLayerListIsMergedOncePerNodeAndSharedByFunctionVersions() throws Exception {
    Layer shared = code.textLayer("shared", Map.of("python/shared_mod.py", "VALUE = 'shared'\n"));
    String app = """
        import shared_mod
        def handler(event, context):
            return {"file": shared_mod.__file__}
        """;
    FunctionConfig first = TestCode.withLayers(code.function("uses-shared-a", "python3.11", "app.handler", 5,
        Map.of("app.py", app)), Map.of(), shared);
    JsonNode a = invoke(first, "{}");
    Path tree = tree(shared);
    Files.writeString(tree.resolve("marker"), "the first build");
    FunctionConfig second = TestCode.withLayers(code.function("uses-shared-b", "python3.11", "app.handler", 5,
        Map.of("app.py", app + "# another version\n")), Map.of(), shared);
    JsonNode b = invoke(second, "{}");

    assertEquals(tree.resolve("python/shared_mod.py").toString(), a.get("file").asText());
    assertEquals(a.get("file"), b.get("file"), "another function version with the same layers uses the same tree");
    assertEquals("the first build", Files.readString(tree.resolve("marker")), "not rebuilt");
    try (Stream<Path> trees = Files.list(work.resolve("layers"))) {
      List<String> names = trees.map(p -> p.getFileName().toString()).toList();
      assertTrue(names.stream().noneMatch(n -> n.contains(".merging-")), "no scratch directory left: " + names);
    }
    assertTrue(Files.isDirectory(work.resolve("code").resolve(shared.codeSha256Hex())),
        "the layer was unpacked with the node's code, once");
  }

  @Test
  @Order(100)
  void nothingWasWrittenUnderTheHostsOpt() throws IOException {
    assertEquals(optBefore, opt());
  }

  private static Path projectRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir.getParent() != null && !Files.isRegularFile(dir.resolve("config/logback.xml"))) {
      dir = dir.getParent();
    }
    return dir;
  }

  /** /opt's entries two levels deep with their modification times (empty when there is no /opt). */
  private static Map<String, Long> opt() throws IOException {
    Map<String, Long> entries = new LinkedHashMap<>();
    Path opt = Path.of("/opt");
    if (!Files.isDirectory(opt)) {
      return entries;
    }
    try (Stream<Path> walk = Files.walk(opt, 2)) {
      for (Path p : walk.sorted().toList()) {
        try {
          entries.put(p.toString(), Files.getLastModifiedTime(p).toMillis());
        } catch (IOException e) {
          entries.put(p.toString(), -1L);
        }
      }
    }
    return entries;
  }
}

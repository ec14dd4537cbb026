package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigUtil;
import io.tributary.api.FunctionConfig;
import io.tributary.api.InvocationResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An init error as the Invoke caller receives it; no runtime process is started. */
class InitErrorTest {

  @TempDir
  Path temp;

  @Test
  void aMissingBootstrapUnderAPathWithQuotesAndANewlineIsAnExactJsonError() throws Exception {
    Path work = temp.resolve("we\"ird\\work\ndir").toAbsolutePath();
    try (TestRuntime runtime = new TestRuntime("init-error", temp,
        "tributary.runtime.work-dir = " + ConfigUtil.quoteString(work.toString()))) {
      FunctionConfig fn = runtime.code.function("empty", "provided.al2023", "handler", 3,
          Map.of("README", "no bootstrap"));
      InvocationResult result = runtime.invoke(fn, "{}");
      assertEquals("Unhandled", result.functionError());
      JsonNode body = new ObjectMapper().readTree(result.payload());
      List<String> fields = new ArrayList<>();
      body.fieldNames().forEachRemaining(fields::add);
      assertEquals(List.of("errorMessage", "errorType"), fields);
      assertEquals("Runtime.InvalidEntrypoint", body.get("errorType").textValue());
      assertEquals("Couldn't find valid bootstrap(s): [" + work.resolve("code").resolve(fn.codeSha256Hex())
          .resolve("bootstrap") + "]", body.get("errorMessage").textValue());
    }
  }
}

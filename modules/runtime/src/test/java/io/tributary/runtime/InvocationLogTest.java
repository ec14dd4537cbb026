package io.tributary.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tributary.api.FunctionConfig.LoggingConfig;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InvocationLogTest {

  @Test
  void aHandlerThatPrintsMegabytesKeepsTheFirstBytesTheCountAndTheReport() {
    InvocationLog log = new InvocationLog(1024);
    log.start("r1", "$LATEST");
    byte[] chunk = "x".repeat(1000).concat("\n").getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 1000; i++) {
      log.append(chunk, 0, chunk.length);
    }
    log.end("r1", 12.345, 128, 40, null);
    String text = log.text();
    assertTrue(text.startsWith("START RequestId: r1 Version: $LATEST\n"), text);
    assertTrue(text.contains("bytes of output dropped]"), text);
    assertTrue(text.endsWith("Max Memory Used: 40 MB\n"), "the report survives the cut: " + text);
    assertTrue(text.length() < 2048, "bounded: " + text.length());
  }

  @Test
  void theTailIsTheLast4KbIncludingEndAndReport() {
    InvocationLog log = new InvocationLog(256 * 1024);
    log.start("r2", "7");
    byte[] line = "0123456789\n".getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < 1000; i++) {
      log.append(line, 0, line.length);
    }
    log.end("r2", 1.5, 256, 10, 120.25);
    String tail = log.tailText();
    assertEquals(InvocationLog.TAIL_BYTES, tail.getBytes(StandardCharsets.UTF_8).length);
    assertTrue(tail.endsWith("REPORT RequestId: r2\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB"
        + "\tMax Memory Used: 10 MB\tInit Duration: 120.25 ms\n"), tail);
    assertTrue(tail.contains("END RequestId: r2\n"), tail);
  }

  @Test
  void theTailOfACutOutputIsTheLast4KbOfAllThatWasPrinted() {
    InvocationLog log = new InvocationLog(5000);
    StringBuilder printed = new StringBuilder();
    for (int i = 0; i < 700; i++) {
      String line = "line " + i + " " + "y".repeat(i % 37) + "\n";
      printed.append(line);
      log.line(line.substring(0, line.length() - 1));
    }
    byte[] all = printed.toString().getBytes(StandardCharsets.UTF_8);
    assertEquals(new String(all, all.length - InvocationLog.TAIL_BYTES, InvocationLog.TAIL_BYTES,
        StandardCharsets.UTF_8), log.tailText());
    assertTrue(log.text().startsWith(printed.substring(0, 100)), "the first bytes are kept");
  }

  @Test
  void shortOutputIsKeptWhole() {
    InvocationLog log = new InvocationLog(1024);
    log.start("r3", "$LATEST");
    log.line("hello");
    log.end("r3", 0.4, 128, 0, null);
    assertEquals(log.text(), log.tailText());
    assertTrue(log.text().contains("hello\nEND RequestId: r3\n"), log.text());
  }

  @Test
  void durationsArePrintedWithTwoDecimalsAsLambdaDoes() {
    assertEquals("12.35", InvocationLog.twoDecimals(12.345678));
    assertEquals("0.05", InvocationLog.twoDecimals(0.049));
    assertEquals("3.00", InvocationLog.twoDecimals(2.999));
    assertEquals("1000.10", InvocationLog.twoDecimals(1000.1));
    assertEquals("0.00", InvocationLog.twoDecimals(0));
  }

  private static void print(InvocationLog log, String output) {
    byte[] bytes = output.getBytes(StandardCharsets.UTF_8);
    log.append(bytes, 0, bytes.length);
  }

  @Test
  void applicationLevelWarnDropsInfoLinesEvenWhenALineArrivesInPieces() {
    InvocationLog log = new InvocationLog(64 * 1024,
        LogLines.of(new LoggingConfig("JSON", "WARN", "INFO", "/aws/lambda/f")));
    log.start("r1", "$LATEST", "arn:f");
    print(log, "plain print\n{\"level\":\"WA");
    print(log, "RN\",\"message\":\"kept\"}\n{\"level\":\"DEBUG\",\"message\":\"dropped\"}\n");
    print(log, "{\"level\":\"ERROR\",\"message\":\"no newline before the end\"}");
    log.end("r1", 2.5, 128, 30, null, "success");
    String[] lines = log.text().split("\n");
    assertEquals(4, lines.length, log.text());
    assertTrue(lines[0].contains("\"type\":\"platform.start\""), lines[0]);
    assertEquals("{\"level\":\"WARN\",\"message\":\"kept\"}", lines[1]);
    assertEquals("{\"level\":\"ERROR\",\"message\":\"no newline before the end\"}", lines[2]);
    assertTrue(lines[3].contains("\"type\":\"platform.report\""), lines[3]);
    assertEquals(log.text(), log.tailText());
  }

  @Test
  void theInitOutputIsJudgedOnceAndPlatformLinesNeverByTheApplicationLevel() {
    LogLines lines = LogLines.of(new LoggingConfig("JSON", "ERROR", "INFO", "/aws/lambda/f"));
    InvocationLog init = new InvocationLog(64 * 1024, lines);
    init.initStart("python:3.11.7", "arn:aws:lambda:us-east-1::runtime:abc", "f", "$LATEST");
    print(init, "importing...\n{\"level\":\"ERROR\",\"message\":\"init went wrong\"}\n");
    InvocationLog first = new InvocationLog(64 * 1024, lines);
    byte[] copied = init.text().getBytes(StandardCharsets.UTF_8);
    first.appendJudged(copied, 0, copied.length);
    first.line("RequestId: r1 Error: Runtime exited with error: exit status 1");
    String text = first.text();
    assertTrue(text.startsWith("{\"time\":"), text);
    assertTrue(text.contains("\"type\":\"platform.initStart\""), text);
    assertFalse(text.contains("importing"), text);
    assertTrue(text.contains("init went wrong"), text);
    assertTrue(text.contains("Runtime exited with error"), "the platform's own error lines are never filtered: " + text);
  }

  @Test
  void aTextLogKeepsEveryLineAsPrinted() {
    InvocationLog log = new InvocationLog(1024, LogLines.of(LoggingConfig.defaults("f")));
    log.initStart("python:3.11.7", "arn:aws:lambda:us-east-1::runtime:abc", "f", "$LATEST");
    print(log, "{\"level\":\"DEBUG\"}\nhalf a li");
    assertEquals("INIT_START Runtime Version: python:3.11.7\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc\n"
        + "{\"level\":\"DEBUG\"}\nhalf a li", log.text());
  }
}

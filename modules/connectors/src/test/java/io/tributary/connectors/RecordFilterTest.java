package io.tributary.connectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tributary.api.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** FilterCriteria as AWS applies them: OR-ed EventBridge patterns over each record, payload as JSON. */
class RecordFilterTest {

  private static JsonNode message(String body) {
    var o = RecordFilter.object();
    o.put("messageId", "m-1");
    o.set("body", RecordFilter.payload(body.getBytes(StandardCharsets.UTF_8)));
    return o;
  }

  @Test
  void patternsAreOredAndMatchTheBodyAsJson() {
    RecordFilter filter = RecordFilter.of(List.of("{\"body\":{\"kind\":[\"order\"]}}",
        "{\"body\":{\"amount\":[{\"numeric\":[\">\",100]}]}}"));
    assertTrue(filter.matches(message("{\"kind\":\"order\",\"amount\":5}")));
    assertTrue(filter.matches(message("{\"kind\":\"refund\",\"amount\":500}")));
    assertFalse(filter.matches(message("{\"kind\":\"refund\",\"amount\":5}")));
  }

  @Test
  void prefixAnythingButAndExistsWork() {
    assertTrue(RecordFilter.of(List.of("{\"body\":{\"region\":[{\"prefix\":\"eu-\"}]}}"))
        .matches(message("{\"region\":\"eu-west-1\"}")));
    assertFalse(RecordFilter.of(List.of("{\"body\":{\"kind\":[{\"anything-but\":[\"audit\"]}]}}"))
        .matches(message("{\"kind\":\"audit\"}")));
    assertTrue(RecordFilter.of(List.of("{\"body\":{\"note\":[{\"exists\":false}]}}"))
        .matches(message("{\"kind\":\"order\"}")));
  }

  @Test
  void aBodyThatIsNotJsonIsMatchedAsText() {
    assertTrue(RecordFilter.of(List.of("{\"body\":[{\"prefix\":\"hello\"}]}")).matches(message("hello world")));
    assertFalse(RecordFilter.of(List.of("{\"body\":{\"kind\":[\"order\"]}}")).matches(message("kind=order")));
  }

  @Test
  void noPatternsMeansNoFilter() {
    assertNull(RecordFilter.of(List.of()));
  }

  @Test
  void badPatternsAreRefusedWithTheReason() {
    LambdaException notAList = assertThrows(LambdaException.class,
        () -> RecordFilter.check(List.of("{\"body\":{\"kind\":\"order\"}}")));
    assertEquals(400, notAList.status());
    assertTrue(notAList.getMessage().startsWith("Invalid filter pattern definition"), notAList.getMessage());
    assertThrows(LambdaException.class, () -> RecordFilter.check(List.of("not json")));
    assertTrue(assertThrows(LambdaException.class, () -> RecordFilter.check(Collections.nCopies(6, "{\"a\":[1]}")))
        .getMessage().contains("at most 5"));
  }
}

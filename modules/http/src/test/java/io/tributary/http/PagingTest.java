package io.tributary.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tributary.api.LambdaException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Marker, MaxItems and NextMarker as every List* operation takes and answers them. */
class PagingTest {

  private static final List<String> VERSIONS = List.of("$LATEST", "1", "2", "3");

  private static Paging.Request request(String marker, String maxItems) {
    Map<String, String> query = new HashMap<>();
    if (marker != null) {
      query.put("Marker", marker);
    }
    if (maxItems != null) {
      query.put("MaxItems", maxItems);
    }
    return Paging.request(query, 10_000);
  }

  private static Paging.Page<String> page(String marker, String maxItems) {
    return Paging.page(VERSIONS, Function.identity(), request(marker, maxItems));
  }

  @Test
  void eachPageEndsWithTheMarkerOfTheNextUntilTheLast() {
    Paging.Page<String> first = page(null, "2");
    assertEquals(List.of("$LATEST", "1"), first.items());
    assertEquals("MQ", first.nextMarker(), "the key of the last item, base64url");
    Paging.Page<String> second = page(first.nextMarker(), "2");
    assertEquals(List.of("2", "3"), second.items());
    assertNull(second.nextMarker(), "nothing after the last item");
    assertNull(page(null, "4").nextMarker(), "a page that holds the rest is the last");
    assertEquals(List.of("3"), page(Paging.marker("2"), null).items());
  }

  @Test
  void aPageHoldsAtMostFiftyWhateverMaxItemsAsks() {
    assertEquals(new Paging.Request(null, 50), request(null, null));
    assertEquals(new Paging.Request(null, 50), request(null, "10000"));
    assertEquals(new Paging.Request(null, 7), request(null, "7"));
  }

  @Test
  void aMarkerWhoseItemIsGoneEndsTheListing() {
    Paging.Page<String> page = page(Paging.marker("4"), null);
    assertEquals(List.of(), page.items());
    assertNull(page.nextMarker());
  }

  @Test
  void markersCarryAnyKey() {
    String key = "arn:aws:lambda:us-east-1:000000000000:function:é/+=";
    assertEquals(key, request(Paging.marker(key), null).after());
    assertNull(request("", null).after(), "an empty marker is the start");
  }

  @Test
  void maxItemsOutsideTheOperationsRangeOrAMarkerNotReturnedIsRefused() {
    LambdaException zero = assertThrows(LambdaException.class, () -> request(null, "0"));
    assertEquals("ValidationException", zero.errorType());
    assertEquals("1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have"
        + " value between 1 and 10000", zero.getMessage());
    assertEquals("1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have"
        + " value between 1 and 50",
        assertThrows(LambdaException.class, () -> Paging.request(Map.of("MaxItems", "51"), 50)).getMessage());
    LambdaException notNumber = assertThrows(LambdaException.class, () -> request(null, "ten"));
    assertEquals("InvalidParameterValueException", notNumber.errorType());
    assertEquals("MaxItems must be an integer from 1 to 10000, got 'ten'.", notNumber.getMessage());
    LambdaException marker = assertThrows(LambdaException.class, () -> request("not base64!", null));
    assertEquals("InvalidParameterValueException", marker.errorType());
    assertEquals("Marker 'not base64!' is not a marker this API returned: pass the NextMarker of the previous page"
        + " unchanged.", marker.getMessage());
  }
}

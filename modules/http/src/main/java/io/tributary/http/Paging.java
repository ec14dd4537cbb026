package io.tributary.http;

import io.tributary.api.LambdaException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Marker, MaxItems and NextMarker, as every List* operation takes and answers them.
 *
 * <p>MaxItems is checked against AWS's range for the operation (1 to 10,000 for most lists, 1 to
 * 50 for ListFunctionEventInvokeConfigs); a page holds at most {@link #PAGE_LIMIT} items whatever
 * it asks, as AWS lets a server answer fewer. NextMarker is the key of the page's last item
 * (function name, version, alias name, qualifier, UUID), base64url-encoded so that callers treat
 * it as opaque; it is absent on the last page. The next page starts after the item that key names.
 *
 * <p>Example: versions {@code $LATEST, 1, 2, 3} with MaxItems 2 are {@code [$LATEST, 1]} with
 * NextMarker {@code MQ} ("1"), then {@code [2, 3]} without one. A marker whose item was deleted in
 * between ends the listing there.
 */
final class Paging {

  static final int PAGE_LIMIT = 50;

  /** Where a list starts: after the item keyed {@code after} (null: at its start), and at most {@code limit} items. */
  record Request(String after, int limit) {}

  /** One page, and the NextMarker that asks for the one after it (null on the last). */
  record Page<T>(List<T> items, String nextMarker) {}

  private Paging() {}

  /** The Marker and MaxItems of a request's query; {@code mostItems}: the largest MaxItems the operation takes. */
  static Request request(Map<String, String> query, int mostItems) {
    int limit = maxItems(query.get("MaxItems"), mostItems);
    return new Request(key(query.get("Marker")), limit);
  }

  /** The page of {@code all}, in its order, that {@code request} asks for; {@code key} names an item. */
  static <T> Page<T> page(List<T> all, Function<T, String> key, Request request) {
    int start = 0;
    if (request.after() != null) {
      start = all.size();
      for (int i = 0; i < all.size(); i++) {
        if (key.apply(all.get(i)).equals(request.after())) {
          start = i + 1;
          break;
        }
      }
    }
    int end = Math.min(all.size(), start + request.limit());
    List<T> items = List.copyOf(all.subList(start, end));
    return new Page<>(items, end < all.size() ? marker(key.apply(all.get(end - 1))) : null);
  }

  /** The NextMarker that resumes after the item keyed {@code key}. */
  static String marker(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private static String key(String marker) {
    if (marker == null || marker.isEmpty()) {
      return null;
    }
    try {
      return new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw LambdaException.invalidParameter("Marker '" + marker + "' is not a marker this API returned: pass the "
          + "NextMarker of the previous page unchanged.");
    }
  }

  private static int maxItems(String raw, int mostItems) {
    if (raw == null) {
      return PAGE_LIMIT;
    }
    int n;
    try {
      n = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw LambdaException.invalidParameter("MaxItems must be an integer from 1 to " + mostItems + ", got '" + raw
          + "'.");
    }
    if (n < 1 || n > mostItems) {
      throw LambdaException.validation(n, "maxItems", "Member must have value between 1 and " + mostItems);
    }
    return Math.min(n, PAGE_LIMIT);
  }
}

package io.tributary.http;

import io.tributary.api.LambdaException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The node's operations, each declared once by the routes that answer it, and the lookup of the
 * one a request asks for: by method and path, in one pass over the table. A request that matches
 * none is {@link #UNKNOWN}: signed like any other, then answered with AWS's
 * {@code UnknownOperationException}.
 */
final class Operations {

  /** What a request that names no operation is counted as, and answered by. */
  static final Operation UNKNOWN = new Operation("Unknown", "", Operation.Path.of("/"), Operation.Limit.DOCUMENT,
      Operation.Access.SIGNED, call -> CompletableFuture.completedFuture(unknown(call.request())), null);

  /** An operation and the variables of the request's path. */
  record Match(Operation operation, List<String> variables) {}

  private final List<Operation> all;
  /** {@link #all}, those whose path names a query parameter first, so the first match is the one to take. */
  private final List<Operation> lookup;
  /** The operations of JSON 1.1 APIs, by their {@code X-Amz-Target}. */
  private final Map<String, Operation> targets = new HashMap<>();

  Operations(List<Operation> all) {
    this.all = List.copyOf(all);
    for (Operation operation : all) {
      if (operation.json11()) {
        targets.put(operation.target(), operation);
      }
    }
    List<Operation> lookup = new ArrayList<>(all);
    lookup.sort(Comparator.comparing(o -> o.path().query() == null));
    this.lookup = List.copyOf(lookup);
  }

  @SafeVarargs
  static Operations of(List<Operation>... groups) {
    List<Operation> all = new ArrayList<>();
    for (List<Operation> group : groups) {
      all.addAll(group);
    }
    return new Operations(all);
  }

  List<Operation> all() {
    return all;
  }

  /**
   * Once per request: the first operation of the request's method whose path matches, where a path
   * that names a query parameter the request carries comes before the same path without one.
   */
  Match resolve(HttpRequest request) {
    if (!targets.isEmpty() && request.method().name().equals("POST")) {
      Optional<String> target = request.getHeader(X_AMZ_TARGET).map(HttpHeader::value);
      if (target.isPresent()) {
        Operation operation = targets.get(target.get());
        if (operation != null) {
          return new Match(operation, List.of());
        }
        if (target.get().startsWith(EventBridgeRoutes.TARGET_PREFIX)) {
          return new Match(unknownTarget(target.get()), List.of());
        }
      }
    }
    return resolve(request.method().name(), request.getUri().getPathString(),
        request.getUri().rawQueryString().orElse(null));
  }

  static final String X_AMZ_TARGET = "X-Amz-Target";

  /** A JSON 1.1 operation Tributary does not offer: signed like any other, then AWS's UnknownOperationException. */
  private static Operation unknownTarget(String target) {
    return Operation.target(target, call -> CompletableFuture.failedFuture(new LambdaException(400,
        "UnknownOperationException", "Tributary's event buses do not offer " + target.substring(target.indexOf('.') + 1)
        + "; see the README for the EventBridge operations they do.")));
  }

  /** The same for a request target: a path and an optional {@code ?query}. */
  Match resolve(String method, String target) {
    int q = target.indexOf('?');
    return q < 0 ? resolve(method, target, null) : resolve(method, target.substring(0, q), target.substring(q + 1));
  }

  Match resolve(String method, String path, String rawQuery) {
    String[] segments = Operation.Path.split(path);
    for (Operation operation : lookup) {
      if (operation.method().equals(method) && operation.path().accepts(rawQuery)) {
        List<String> variables = operation.path().match(segments);
        if (variables != null) {
          return new Match(operation, variables);
        }
      }
    }
    return new Match(UNKNOWN, List.of());
  }

  /** The operation named {@code name}; there must be one. */
  Operation named(String name) {
    return all.stream().filter(o -> o.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("No operation " + name));
  }

  static HttpResponse unknown(HttpRequest request) {
    return Responses.error(new LambdaException(404, "UnknownOperationException",
        "No Lambda operation matches " + request.method().name() + " " + request.getUri().path()
            + ". Check the path and method against the Lambda API reference."));
  }
}

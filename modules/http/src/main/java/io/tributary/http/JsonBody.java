package io.tributary.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.api.LambdaException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A JSON request body read the way AWS reads it: malformed JSON and members of the wrong type are
 * {@code InvalidRequestContentException}; members Tributary does not know are refused by name
 * rather than silently dropped.
 */
final class JsonBody {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private final ObjectNode node;
  private final String path;

  private JsonBody(ObjectNode node, String path) {
    this.node = node;
    this.path = path;
  }

  static JsonBody parse(byte[] bytes, Set<String> allowed) {
    if (bytes.length == 0) {
      return new JsonBody(MAPPER.createObjectNode(), "");
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw LambdaException.invalidRequestContent("Could not parse request body into json: " + firstLine(e.getMessage()));
    }
    if (tree == null || tree.isMissingNode()) {
      return new JsonBody(MAPPER.createObjectNode(), "");
    }
    if (!tree.isObject()) {
      throw LambdaException.invalidRequestContent("Could not parse request body into json: expected a JSON object, got "
          + tree.getNodeType().toString().toLowerCase());
    }
    return new JsonBody((ObjectNode) tree, "").allowOnly(allowed);
  }

  JsonBody allowOnly(Set<String> allowed) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw LambdaException.invalidRequestContent("Unknown member " + path + name + " in the request body. "
            + "Tributary accepts: " + String.join(", ", allowed.stream().sorted().toList()) + ".");
      }
    }
    return this;
  }

  boolean has(String name) {
    JsonNode v = node.get(name);
    return v != null && !v.isNull();
  }

  String string(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw wrongType(name, "a string", v);
    }
    return v.textValue();
  }

  String requiredString(String name) {
    String v = string(name);
    if (v == null) {
      throw LambdaException.invalidParameter(path + name + " is required.");
    }
    return v;
  }

  Integer integer(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw wrongType(name, "an integer", v);
    }
    return v.intValue();
  }

  Double number(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isNumber()) {
      throw wrongType(name, "a number", v);
    }
    return v.doubleValue();
  }

  Boolean bool(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isBoolean()) {
      throw wrongType(name, "a boolean", v);
    }
    return v.booleanValue();
  }

  JsonBody object(String name, Set<String> allowed) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      throw wrongType(name, "an object", v);
    }
    return new JsonBody((ObjectNode) v, path + name + ".").allowOnly(allowed);
  }

  Map<String, String> stringMap(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      throw wrongType(name, "an object of strings", v);
    }
    Map<String, String> map = new LinkedHashMap<>();
    v.fields().forEachRemaining(e -> {
      if (!e.getValue().isTextual()) {
        throw wrongType(name + "." + e.getKey(), "a string", e.getValue());
      }
      map.put(e.getKey(), e.getValue().textValue());
    });
    return map;
  }

  Map<String, Double> numberMap(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isObject()) {
      throw wrongType(name, "an object of numbers", v);
    }
    Map<String, Double> map = new LinkedHashMap<>();
    v.fields().forEachRemaining(e -> {
      if (!e.getValue().isNumber()) {
        throw wrongType(name + "." + e.getKey(), "a number", e.getValue());
      }
      map.put(e.getKey(), e.getValue().doubleValue());
    });
    return map;
  }

  List<String> stringList(String name) {
    JsonNode v = value(name);
    if (v == null) {
      return null;
    }
    if (!v.isArray()) {
      throw wrongType(name, "an array of strings", v);
    }
    List<String> list = new ArrayList<>();
    for (JsonNode item : v) {
      if (!item.isTextual()) {
        throw wrongType(name, "an array of strings", v);
      }
      list.add(item.textValue());
    }
    return list;
  }

  /** An array of objects, each allowed only the given members; empty when absent. */
  List<JsonBody> objectList(String name, Set<String> allowed) {
    JsonNode v = value(name);
    if (v == null) {
      return List.of();
    }
    if (!v.isArray()) {
      throw wrongType(name, "an array of objects", v);
    }
    List<JsonBody> list = new ArrayList<>();
    int i = 0;
    for (JsonNode item : v) {
      if (!item.isObject()) {
        throw wrongType(name, "an array of objects", v);
      }
      list.add(new JsonBody((ObjectNode) item, path + name + "." + (i++) + ".").allowOnly(allowed));
    }
    return list;
  }

  /** A member Tributary accepts only when it asks for nothing (an empty list or object). */
  void refuseUnlessEmpty(String name, String why) {
    JsonNode v = value(name);
    if (v != null && !(v.isContainerNode() && allEmpty(v))) {
      throw LambdaException.invalidParameter(path + name + " is not supported by Tributary: " + why);
    }
  }

  private static boolean allEmpty(JsonNode v) {
    if (v.isArray()) {
      return v.isEmpty();
    }
    if (v.isObject()) {
      for (JsonNode child : v) {
        if (!(child.isNull() || (child.isContainerNode() && allEmpty(child)))) {
          return false;
        }
      }
      return true;
    }
    return v.isNull();
  }

  private JsonNode value(String name) {
    JsonNode v = node.get(name);
    return v == null || v.isNull() ? null : v;
  }

  private LambdaException wrongType(String name, String expected, JsonNode actual) {
    return LambdaException.invalidRequestContent("Could not parse request body into json: " + path + name
        + " must be " + expected + ", got " + actual.getNodeType().toString().toLowerCase() + " " + abbreviate(actual));
  }

  private static String abbreviate(JsonNode v) {
    String s = v.toString();
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "malformed JSON";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  static Map<String, Object> orderedMap() {
    return new LinkedHashMap<>();
  }
}

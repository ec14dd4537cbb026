package io.tributary.http;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.tributary.api.LambdaException;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * JSON bodies in AWS's shapes: requests read into records, responses written from them.
 *
 * <p>Members are named as AWS names them: a record component {@code functionName} is the member
 * {@code FunctionName}; the few AWS spells otherwise ({@code KMSKeyArn}) say so with
 * {@code @JsonProperty}. A request is read the way AWS reads it: malformed JSON and a member of the
 * wrong type are {@code InvalidRequestContentException} naming the member and what it got; nothing
 * is converted (a string is not a number, a number is not a string, {@code 1.5} is not an
 * integer); a member Tributary does not know is refused by name with the members it accepts,
 * never silently dropped. An explicit {@code null} is an absent member. A member Tributary accepts
 * only when it asks for nothing ({@code Layers: []}) is a {@link JsonNode}, checked by
 * {@link #refuseUnlessEmpty}.
 */
final class JsonBody {

  static final ObjectMapper MAPPER = mapper();

  private JsonBody() {}

  private static ObjectMapper mapper() {
    JsonMapper mapper = JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
        .build();
    mapper.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return mapper;
  }

  /** The request body {@code bytes} as a {@code shape}; an empty body is {@code {}}. */
  static <T> T read(byte[] bytes, Class<T> shape) {
    JsonNode tree = tree(bytes);
    JavaType type = MAPPER.constructType(shape);
    // Members unknown at the top are named before anything else is read, as AWS does.
    Set<String> accepted = accepted(type);
    Iterator<String> names = tree.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!accepted.contains(name)) {
        throw unknownMember(name, accepted);
      }
    }
    try {
      return MAPPER.treeToValue(tree, shape);
    } catch (JsonMappingException e) {
      throw refused(e, tree, type);
    } catch (JsonProcessingException e) {
      throw LambdaException.invalidRequestContent("Could not parse request body into json: "
          + firstLine(e.getOriginalMessage()));
    }
  }

  private static JsonNode tree(byte[] bytes) {
    if (bytes.length == 0) {
      return MAPPER.createObjectNode();
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw LambdaException.invalidRequestContent("Could not parse request body into json: " + firstLine(e.getMessage()));
    }
    if (tree == null || tree.isMissingNode()) {
      return MAPPER.createObjectNode();
    }
    if (!tree.isObject()) {
      throw LambdaException.invalidRequestContent("Could not parse request body into json: expected a JSON object, got "
          + tree.getNodeType().toString().toLowerCase());
    }
    return tree;
  }

  /** True when a member of free shape was given a value (not absent, not null). */
  static boolean given(JsonNode value) {
    return value != null && !value.isNull();
  }

  /** A member Tributary accepts only when it asks for nothing (an empty list or object, or null). */
  static void refuseUnlessEmpty(JsonNode value, String name, String why) {
    if (given(value) && !(value.isContainerNode() && allEmpty(value))) {
      throw LambdaException.invalidParameter(name + " is not supported by Tributary: " + why);
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

  /** The members of a request that were given a value, by AWS's names, for checks that refuse members by name. */
  static Set<String> givenMembers(Object request) {
    Set<String> given = new TreeSet<>();
    MAPPER.valueToTree(request).properties().forEach(member -> {
      if (!member.getValue().isNull()) {
        given.add(member.getKey());
      }
    });
    return given;
  }

  /** The members a record of {@code type} accepts, by their JSON names. */
  private static Set<String> accepted(JavaType type) {
    return properties(type).stream().map(BeanPropertyDefinition::getName)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static List<BeanPropertyDefinition> properties(JavaType type) {
    return MAPPER.getDeserializationConfig().introspect(type).findProperties();
  }

  private static LambdaException unknownMember(String member, Set<?> accepted) {
    return LambdaException.invalidRequestContent("Unknown member " + member + " in the request body. "
        + "Tributary accepts: " + String.join(", ", accepted.stream().map(String::valueOf).sorted().toList()) + ".");
  }

  /**
   * AWS's error for what Jackson could not bind, named by its path in the body: a member of the
   * wrong type ({@code Timeout must be an integer, got string "ten"}); in a list the list itself
   * ({@code Architectures must be an array of strings, got array [1]}); in a map the entry
   * ({@code Environment.Variables.STAGE must be a string, got number 1}).
   */
  private static LambdaException refused(JsonMappingException e, JsonNode tree, JavaType type) {
    List<JsonMappingException.Reference> path = e.getPath();
    StringBuilder name = new StringBuilder();
    if (e instanceof UnrecognizedPropertyException unknown) {
      for (JsonMappingException.Reference step : path.subList(0, path.size() - 1)) {
        name.append(step.getFieldName() != null ? step.getFieldName() : Integer.toString(step.getIndex())).append('.');
      }
      return unknownMember(name + unknown.getPropertyName(), new TreeSet<>(unknown.getKnownPropertyIds()));
    }
    JavaType at = type;
    JsonNode node = tree;
    for (int i = 0; i < path.size() && at != null && node != null; i++) {
      JsonMappingException.Reference step = path.get(i);
      boolean last = i == path.size() - 1;
      if (at.isCollectionLikeType()) {
        if (last) {
          return wrongType(name.toString(), at, node);
        }
        name.append('.').append(step.getIndex());
        node = node.get(step.getIndex());
        at = at.getContentType();
      } else if (at.isMapLikeType()) {
        name.append('.').append(step.getFieldName());
        node = node.get(step.getFieldName());
        at = at.getContentType();
      } else {
        name.append(name.length() == 0 ? "" : ".").append(step.getFieldName());
        node = node.get(step.getFieldName());
        at = properties(at).stream().filter(p -> p.getName().equals(step.getFieldName())).findFirst()
            .map(BeanPropertyDefinition::getPrimaryType).orElse(null);
      }
    }
    if (at == null || node == null || name.length() == 0) {
      return LambdaException.invalidRequestContent("Could not parse request body into json: "
          + firstLine(e.getOriginalMessage()));
    }
    return wrongType(name.toString(), at, node);
  }

  private static LambdaException wrongType(String name, JavaType expected, JsonNode actual) {
    return LambdaException.invalidRequestContent("Could not parse request body into json: " + name + " must be "
        + describe(expected) + ", got " + actual.getNodeType().toString().toLowerCase() + " " + abbreviate(actual));
  }

  private static String describe(JavaType type) {
    if (type.isCollectionLikeType()) {
      return type.getContentType().hasRawClass(String.class) ? "an array of strings" : "an array of objects";
    }
    if (type.isMapLikeType()) {
      return type.getContentType().hasRawClass(String.class) ? "an object of strings"
          : Number.class.isAssignableFrom(type.getContentType().getRawClass()) ? "an object of numbers" : "an object";
    }
    Class<?> raw = type.getRawClass();
    if (raw == String.class) {
      return "a string";
    }
    if (raw == Integer.class || raw == int.class || raw == Long.class || raw == long.class) {
      return "an integer";
    }
    if (raw == Double.class || raw == double.class || raw == BigDecimal.class) {
      return "a number";
    }
    if (raw == Boolean.class || raw == boolean.class) {
      return "a boolean";
    }
    return "an object";
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
}

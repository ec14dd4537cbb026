package io.tributary.cluster.push;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an Amazon EventBridge rule target hands a Lambda function for a matched event, and the PutTargets check of
 * a target's input settings. Sources: the user guide's "Amazon EventBridge input transformation"
 * (eb-transform-target-input), the API reference's Target and InputTransformer, and PutTargets answers recorded
 * against AWS (LocalStack's AWS-validated snapshots, tests/aws/services/events/test_events_inputs.snapshot.json).
 *
 * <ul>
 *   <li>No setting: the event itself. {@code Input}: that text, as given. {@code InputPath}: the JSON of the value
 *       the path selects; a path that selects nothing delivers nothing ({@code null}: AWS documents no payload for
 *       it, and the only documented analogue, a transformer variable, "isn't created").
 *   <li>{@code InputTransformer}: each {@code InputPathsMap} path is read from the event, then every
 *       {@code <name>} of {@code InputTemplate} is replaced by text that depends on where it stands. Outside a
 *       JSON string it becomes the value's JSON ({@code "RUNNING"}, {@code 9}, {@code {"a":1}}), or {@code ""}
 *       when the path selected nothing (AWS answers {@code "command": ""}). Inside a string it becomes the value's
 *       text: a string's characters, a number's or boolean's JSON ({@code "Command is true!"}), nothing when the
 *       path selected nothing. An object or array inside a string is its JSON with every double quote dropped
 *       when the template is a string, its first non-blank character a quote ({@code "[ACTIVE,INACTIVE] items"},
 *       as AWS answers), and its JSON as is in any other template: AWS does not escape it, the result is not
 *       JSON, and AWS delivers nothing.
 *   <li>The predefined variables: {@code aws.events.rule-arn}, {@code aws.events.rule-name},
 *       {@code aws.events.event.ingestion-time} (ISO 8601, to the second), {@code aws.events.event.json} (the
 *       whole event) and {@code aws.events.event}, which AWS answers as the envelope without {@code detail} and
 *       with {@code detail-type} renamed: {@code {"id","account","detailType","time","source","region",
 *       "resources","version"}}.
 *   <li>The result is minified, as the guide says. If it is not one JSON value the function gets nothing
 *       ({@code null}): AWS drops a JSON template that came out invalid, and Lambda refuses a payload that is
 *       not JSON, such as an unquoted text template or several quoted lines.
 *   <li>One deliberate difference: the guide says EventBridge "doesn't escape values extracted by Input Path"
 *       inside a string, so on AWS a value holding {@code "} breaks the JSON and the event is lost. Here a string
 *       value's quotes, backslashes and control characters are escaped, so the function gets the text it names.
 * </ul>
 *
 * <p>Paths are EventBridge's documented subset of JSONPath, read over Jackson nodes: {@code $}, then
 * {@code .name}, {@code [index]}, {@code .*} or {@code [*]}; {@code InputPath} alone also takes
 * {@code ['name']}, which the API reference allows there and refuses in {@code InputPathsMap}. A path with a
 * wildcard selects the array of everything it reaches.
 *
 * <p>Worked example, from the guide: the event {@code {"time":"2015-11-11T21:29:54Z","detail":{"instance-id":
 * "i-0123456789","state":"RUNNING"}, …}}, the paths {@code {"instance":"$.detail.instance-id","state":
 * "$.detail.state"}} and the template {@code {"instance": <instance>, "status": "instance \"<instance>\" is in
 * <state>"}}. {@code <instance>} stands outside a string and becomes {@code "i-0123456789"}; inside the string
 * both become their text. The function gets {@code {"instance":"i-0123456789","status":"instance
 * \"i-0123456789\" is in RUNNING"}}. With the string template {@code "<instance> is <state>"} it gets the JSON
 * string {@code "i-0123456789 is RUNNING"}, quotes included.
 */
public final class TargetInput {
  /** How a target shapes its input; at most one of the three is set; all null = the whole event. */
  public record Settings(String input, String inputPath, Map<String, String> inputPathsMap, String inputTemplate) {}

  /** The rule's ARN and name, and when the event was ingested, for the predefined aws.events.* variables. */
  public record Context(String ruleArn, String ruleName, Instant ingestionTime) {}

  static final int MAX_INPUT = 8192;
  static final int MAX_PATH = 256;
  static final int MAX_VARIABLES = 100;
  static final int MAX_TEMPLATE = 8192;
  static final int MAX_NAME = 256;

  private static final String RULE_ARN = "aws.events.rule-arn";
  private static final String RULE_NAME = "aws.events.rule-name";
  private static final String INGESTION_TIME = "aws.events.event.ingestion-time";
  private static final String EVENT = "aws.events.event";
  private static final String EVENT_JSON = "aws.events.event.json";
  private static final Set<String> PREDEFINED = Set.of(RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON);
  /** The envelope fields of {@code <aws.events.event>} in AWS's order, each with the name AWS gives it there. */
  private static final List<String[]> EVENT_FIELDS = List.of(new String[] {"id", "id"},
      new String[] {"account", "account"}, new String[] {"detail-type", "detailType"}, new String[] {"time", "time"},
      new String[] {"source", "source"}, new String[] {"region", "region"},
      new String[] {"resources", "resources"}, new String[] {"version", "version"});

  private static final Pattern VARIABLE = Pattern.compile("[A-Za-z0-9_\\-]+");
  private static final Pattern PLACEHOLDER = Pattern.compile("<([A-Za-z0-9_.\\-]+)>");
  /** A name after a dot: the documented letters, digits, - _ and /, and anything else that can't end it. */
  private static final Pattern DOT_NAME = Pattern.compile("[^.\\[\\]*'\"\\s]+");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectReader STRICT =
      JSON.readerFor(JsonNode.class).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private TargetInput() {}

  /**
   * What the function receives: UTF-8 JSON bytes (for a string template, the JSON of that string, quotes
   * included), or {@code null} when EventBridge would invoke it with nothing (see the class comment).
   */
  public static byte[] apply(Settings settings, JsonNode event, Context context) {
    if (settings == null) {
      return json(event).getBytes(UTF_8);
    }
    if (settings.input() != null) {
      return settings.input().getBytes(UTF_8);
    }
    if (settings.inputPath() != null) {
      Path path = Path.parse(settings.inputPath(), true);
      JsonNode selected = path == null ? null : path.select(event);
      return selected == null ? null : json(selected).getBytes(UTF_8);
    }
    if (settings.inputTemplate() != null) {
      return transform(settings, event, context);
    }
    return json(event).getBytes(UTF_8);
  }

  /** {@link #problem(Settings, String)} for a target whose id the message leaves out. */
  public static String problem(Settings settings) {
    return problem(settings, null);
  }

  /**
   * The problem with a target's settings as EventBridge's ValidationException message says it, or null when
   * they are fine. Limits first, worded as AWS's request validation words them (with the member's path within
   * the target, as one target holds no index), then EventBridge's own checks in AWS's words.
   */
  public static String problem(Settings settings, String targetId) {
    if (settings == null) {
      return null;
    }
    String target = targetId == null ? "" : " for target " + targetId;
    Map<String, String> paths = settings.inputPathsMap() == null ? Map.of() : settings.inputPathsMap();
    boolean transformer = settings.inputPathsMap() != null || settings.inputTemplate() != null;
    String limit = limitProblem(settings, paths, transformer);
    if (limit != null) {
      return limit;
    }
    int given = (settings.input() != null ? 1 : 0) + (settings.inputPath() != null ? 1 : 0) + (transformer ? 1 : 0);
    if (given > 1) {
      return "Only one of Input, InputPath, or InputTransformer must be provided" + target + ".";
    }
    if (settings.input() != null) {
      try {
        STRICT.readValue(settings.input());
      } catch (JsonProcessingException e) {
        return "JSON syntax error in input" + target + ": " + source(settings.input(), e);
      }
    }
    if (settings.inputPath() != null && Path.parse(settings.inputPath(), true) == null) {
      return "InputPath" + target + " is invalid.";
    }
    if (!transformer) {
      return null;
    }
    for (String path : paths.values()) {
      if (Path.parse(path, false) == null) {
        return "InputPath" + target + " is invalid.";
      }
    }
    Matcher placeholder = PLACEHOLDER.matcher(settings.inputTemplate());
    while (placeholder.find()) {
      String name = placeholder.group(1);
      if (!paths.containsKey(name) && !PREDEFINED.contains(name)) {
        return "InputTemplate" + target + " contains invalid placeholder " + name + ".";
      }
    }
    return null;
  }

  private static String limitProblem(Settings settings, Map<String, String> paths, boolean transformer) {
    if (settings.input() != null && settings.input().length() > MAX_INPUT) {
      return constraint("input", "Member must have length less than or equal to " + MAX_INPUT);
    }
    if (settings.inputPath() != null && settings.inputPath().length() > MAX_PATH) {
      return constraint("inputPath", "Member must have length less than or equal to " + MAX_PATH);
    }
    if (!transformer) {
      return null;
    }
    String map = "inputTransformer.inputPathsMap";
    if (paths.size() > MAX_VARIABLES) {
      return constraint(map, "Member must have length less than or equal to " + MAX_VARIABLES);
    }
    for (Map.Entry<String, String> entry : paths.entrySet()) {
      String name = entry.getKey();
      if (name.isEmpty()) {
        return constraint(map,
            "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]");
      }
      if (name.length() > MAX_NAME) {
        return constraint(map, "Map keys must satisfy constraint: [Member must have length less than or equal to "
            + MAX_NAME + "]");
      }
      // The key pattern has no dot, which is how the reserved aws.* names are refused.
      if (!VARIABLE.matcher(name).matches()) {
        return constraint(map, "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
            + "[A-Za-z0-9\\_\\-]+]");
      }
      if (entry.getValue() == null || entry.getValue().length() > MAX_PATH) {
        return constraint(map, "Map value must satisfy constraint: [Member must have length less than or equal to "
            + MAX_PATH + "]");
      }
    }
    String template = "inputTransformer.inputTemplate";
    if (settings.inputTemplate() == null) {
      return "1 validation error detected: Value null at '" + template
          + "' failed to satisfy constraint: Member must not be null";
    }
    if (settings.inputTemplate().isEmpty()) {
      return constraint(template, "Member must have length greater than or equal to 1");
    }
    if (settings.inputTemplate().length() > MAX_TEMPLATE) {
      return constraint(template, "Member must have length less than or equal to " + MAX_TEMPLATE);
    }
    return null;
  }

  private static String constraint(String member, String rule) {
    return "1 validation error detected: Value at '" + member + "' failed to satisfy constraint: " + rule;
  }

  /** Jackson's account of where a JSON text broke, in the form AWS's message quotes it. */
  private static String source(String text, JsonProcessingException e) {
    String shown = text.length() <= 500 ? "\"" + text + "\""
        : "\"" + text.substring(0, 500) + "\"[truncated " + (text.length() - 500) + " chars]";
    int line = e.getLocation() == null ? 1 : e.getLocation().getLineNr();
    int column = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getColumnNr());
    return "[Source: (String)" + shown + "; line: " + line + ", column: " + column + "]";
  }

  private static byte[] transform(Settings settings, JsonNode event, Context context) {
    Map<String, String> paths = settings.inputPathsMap() == null ? Map.of() : settings.inputPathsMap();
    String template = settings.inputTemplate();
    boolean stringTemplate = template.strip().startsWith("\"");
    StringBuilder out = new StringBuilder(template.length() + 64);
    Matcher placeholder = PLACEHOLDER.matcher(template);
    boolean inString = false;
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c == '<' && placeholder.region(i, template.length()).lookingAt()) {
        JsonNode value = value(placeholder.group(1), paths, event, context);
        out.append(render(value, inString, stringTemplate));
        i = placeholder.end();
        continue;
      }
      if (inString && c == '\\' && i + 1 < template.length()) {
        out.append(c).append(template.charAt(i + 1));
        i += 2;
        continue;
      }
      if (c == '"') {
        inString = !inString;
      }
      out.append(c);
      i++;
    }
    String text = out.toString();
    try {
      STRICT.readValue(text);
    } catch (JsonProcessingException e) {
      return null;
    }
    return minify(text).getBytes(UTF_8);
  }

  /** A variable's value, or null when its path selects nothing. */
  private static JsonNode value(String name, Map<String, String> paths, JsonNode event, Context context) {
    switch (name) {
      case RULE_ARN:
        return context == null || context.ruleArn() == null ? null : TextNode.valueOf(context.ruleArn());
      case RULE_NAME:
        return context == null || context.ruleName() == null ? null : TextNode.valueOf(context.ruleName());
      case INGESTION_TIME:
        return context == null || context.ingestionTime() == null ? null : TextNode.valueOf(
            DateTimeFormatter.ISO_INSTANT.format(context.ingestionTime().truncatedTo(ChronoUnit.SECONDS)));
      case EVENT_JSON:
        return event;
      case EVENT:
        ObjectNode envelope = JSON.createObjectNode();
        for (String[] field : EVENT_FIELDS) {
          if (event.has(field[0])) {
            envelope.set(field[1], event.get(field[0]));
          }
        }
        return envelope;
      default:
        Path path = paths.containsKey(name) ? Path.parse(paths.get(name), false) : null;
        return path == null ? null : path.select(event);
    }
  }

  private static String render(JsonNode value, boolean inString, boolean stringTemplate) {
    if (value == null) {
      return inString ? "" : "\"\"";
    }
    if (!inString) {
      return json(value);
    }
    if (value.isTextual()) {
      return escape(value.asText());
    }
    if (value.isContainerNode()) {
      return stringTemplate ? escape(json(value).replace("\"", "")) : json(value);
    }
    return json(value);
  }

  private static String escape(String text) {
    return new String(JsonStringEncoder.getInstance().quoteAsString(text));
  }

  /** The JSON text without the white space between its tokens (the text is known to be JSON). */
  private static String minify(String text) {
    StringBuilder out = new StringBuilder(text.length());
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        out.append(c);
        if (c == '\\') {
          out.append(text.charAt(++i));
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
        out.append(c);
      } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static String json(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree that can't be written", e);
    }
  }

  /** A parsed path: its steps, and whether a wildcard makes it select an array of everything it reaches. */
  private record Path(List<Step> steps, boolean wildcard) {

    /** A member name, an array index, or any member or element ({@link #ANY}). */
    private record Step(String name, int index) {
      static final Step ANY = new Step(null, -1);
    }

    /** The path, or null when it is not one EventBridge takes; quoted bracket names only when allowed. */
    static Path parse(String text, boolean quotedNames) {
      if (text == null || !text.startsWith("$")) {
        return null;
      }
      List<Step> steps = new ArrayList<>();
      boolean wildcard = false;
      int i = 1;
      while (i < text.length()) {
        char c = text.charAt(i);
        if (c == '.') {
          int end = i + 1;
          while (end < text.length() && text.charAt(end) != '.' && text.charAt(end) != '[') {
            end++;
          }
          String name = text.substring(i + 1, end);
          if (name.equals("*")) {
            steps.add(Step.ANY);
            wildcard = true;
          } else if (DOT_NAME.matcher(name).matches()) {
            steps.add(new Step(name, -1));
          } else {
            return null;
          }
          i = end;
        } else if (c == '[' && i + 1 < text.length()) {
          char open = text.charAt(i + 1);
          int close;
          if (open == '\'' || open == '"') {
            int quote = text.indexOf(open, i + 2);
            if (!quotedNames || quote < 0 || quote == i + 2 || quote + 1 >= text.length()
                || text.charAt(quote + 1) != ']') {
              return null;
            }
            steps.add(new Step(text.substring(i + 2, quote), -1));
            close = quote + 1;
          } else {
            close = text.indexOf(']', i);
            String inside = close < 0 ? "" : text.substring(i + 1, close);
            if (inside.equals("*")) {
              steps.add(Step.ANY);
              wildcard = true;
            } else if (inside.matches("[0-9]{1,9}")) {
              steps.add(new Step(null, Integer.parseInt(inside)));
            } else {
              return null;
            }
          }
          i = close + 1;
        } else {
          return null;
        }
      }
      return new Path(List.copyOf(steps), wildcard);
    }

    /** What the path selects in the event, or null when it selects nothing. */
    JsonNode select(JsonNode root) {
      List<JsonNode> reached = List.of(root);
      for (Step step : steps) {
        List<JsonNode> next = new ArrayList<>();
        for (JsonNode node : reached) {
          if (step == Step.ANY) {
            node.elements().forEachRemaining(next::add);
          } else {
            JsonNode child = step.name() != null ? (node.isObject() ? node.get(step.name()) : null)
                : (node.isArray() ? node.get(step.index()) : null);
            if (child != null) {
              next.add(child);
            }
          }
        }
        reached = next;
      }
      if (wildcard) {
        ArrayNode all = JSON.createArrayNode();
        reached.forEach(all::add);
        return all;
      }
      return reached.isEmpty() ? null : reached.get(0);
    }
  }
}

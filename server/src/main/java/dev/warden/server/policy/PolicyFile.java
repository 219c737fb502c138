package dev.warden.server.policy;

import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyAction;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.Rule;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a policy file (YAML; the format is in docs/policy.md). Everything is checked at load, and
 * every problem is reported at once as {@code file:line:column: reason}: unknown keys, bad actions
 * and values, duplicate rule names, CEL conditions that do not compile. The built-in default policy
 * is read through the same parser, so what the documentation quotes is what runs.
 */
public final class PolicyFile {
  /** A policy file larger than this is refused before it is parsed. */
  static final int MAX_FILE_BYTES = 1 << 20;

  /** The class-path resource holding the default policy. */
  static final String DEFAULT_RESOURCE = "/dev/warden/server/policy/default-policy.yaml";

  /** The name the default policy goes by in messages and {@link Policy#name()}. */
  public static final String DEFAULT_NAME = "the built-in default policy";

  private static final List<String> TOP_KEYS = List.of("default", "rules");
  private static final List<String> RULE_KEYS =
      List.of("name", "description", "when", "action", "sqlstate", "message", "hint", "max_rows");
  private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,63}");
  private static final String ACTIONS =
      Arrays.stream(PolicyAction.values())
          .map(PolicyAction::fileName)
          .collect(Collectors.joining(", "));

  private final String file;
  private final List<PolicyException.Problem> problems = new ArrayList<>();

  private PolicyFile(String file) {
    this.file = file;
  }

  /** Reads and compiles the policy file at {@code path}. */
  public static Policy load(Path path) throws PolicyException {
    return parse(path.toString(), read(path));
  }

  /** Parses and compiles policy text; {@code name} is the file name shown in messages. */
  public static Policy parse(String name, String text) throws PolicyException {
    return new PolicyFile(name).policy(text);
  }

  /** The built-in default policy. */
  public static Policy defaultPolicy() {
    try {
      return parse(DEFAULT_NAME, defaultPolicyText());
    } catch (PolicyException e) {
      throw new IllegalStateException(
          "the built-in default policy is broken: " + e.getMessage(), e);
    }
  }

  /** The text of the built-in default policy, as shipped. */
  public static String defaultPolicyText() {
    try (InputStream in = PolicyFile.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the built-in default policy is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the built-in default policy: " + e, e);
    }
  }

  static String read(Path path) throws PolicyException {
    String name = path.toString();
    try {
      if (Files.size(path) > MAX_FILE_BYTES) {
        throw new PolicyException(
            "", "policy file " + name + " is larger than " + MAX_FILE_BYTES + " bytes");
      }
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(Files.readAllBytes(path)))
          .toString();
    } catch (CharacterCodingException e) {
      throw new PolicyException("", "policy file " + name + " is not valid UTF-8");
    } catch (NoSuchFileException e) {
      throw new PolicyException("", "cannot read policy file " + name + ": no such file");
    } catch (AccessDeniedException e) {
      throw new PolicyException("", "cannot read policy file " + name + ": permission denied");
    } catch (IOException e) {
      throw new PolicyException("", "cannot read policy file " + name + ": " + e.getMessage());
    }
  }

  private Policy policy(String text) throws PolicyException {
    Node root = compose(text);
    if (root == null) {
      throw new PolicyException(
          file, "the policy file is empty; it needs at least 'default: allow' or 'default: deny'");
    }
    Map<String, NodeTuple> top = entries(root, "the policy file", TOP_KEYS);
    if (top == null) {
      throw new PolicyException(problems);
    }
    PolicyAction defaultAction = PolicyAction.DENY;
    NodeTuple defaultEntry = top.get("default");
    if (defaultEntry == null) {
      problem(
          root,
          "the policy file is missing 'default:', the action for statements no rule matches"
              + " (one of: "
              + ACTIONS
              + ")");
    } else {
      defaultAction = action(defaultEntry.getValueNode(), "default").orElse(PolicyAction.DENY);
    }
    List<Rule> rules = new ArrayList<>();
    if (top.containsKey("rules")) {
      Node list = top.get("rules").getValueNode();
      if (list instanceof SequenceNode sequence) {
        for (Node item : sequence.getValue()) {
          rule(item).ifPresent(rules::add);
        }
      } else if (!isNull(list)) {
        problem(list, "rules must be a list, each rule starting with '- name:'");
      }
    }
    Policy policy = null;
    try {
      policy = Policy.compile(file, rules, defaultAction);
    } catch (PolicyException e) {
      problems.addAll(e.problems());
    }
    if (!problems.isEmpty()) {
      throw new PolicyException(sorted(problems));
    }
    return policy;
  }

  private Node compose(String text) throws PolicyException {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_FILE_BYTES);
    options.setMaxAliasesForCollections(10);
    options.setNestingDepthLimit(20);
    options.setAllowRecursiveKeys(false);
    try {
      return new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem() : "malformed YAML";
      throw new PolicyException(
          mark == null ? file : file + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1),
          "invalid YAML: " + problem);
    } catch (YAMLException e) {
      throw new PolicyException(file, "invalid YAML: " + e.getMessage());
    }
  }

  private Optional<Rule> rule(Node item) {
    Map<String, NodeTuple> keys = entries(item, "a rule", RULE_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String name = required(keys, "name", item).map(n -> string(n, "name")).orElse(null);
    if (name != null && !RULE_NAME.matcher(name).matches()) {
      problem(
          keys.get("name").getValueNode(),
          "rule name '"
              + shorten(name)
              + "' may contain only letters, digits, '_', '-' and '.' (at most 63)");
    }
    String what = name == null ? "a rule" : "rule '" + shorten(name) + "'";
    String condition = required(keys, "when", item).map(n -> string(n, "when")).orElse(null);
    PolicyAction action =
        required(keys, "action", item).flatMap(n -> action(n, "action")).orElse(null);
    String sqlState = Rule.DEFAULT_SQLSTATE;
    if (keys.containsKey("sqlstate")) {
      Node node = keys.get("sqlstate").getValueNode();
      String value = string(node, "sqlstate");
      if (value != null && !Rule.validSqlState(value)) {
        problem(
            node,
            "sqlstate must be five digits or capital letters (e.g. 42501), found '"
                + shorten(value)
                + "'");
      }
      sqlState = value;
    }
    String description = optionalString(keys, "description");
    String message = optionalString(keys, "message");
    String hint = optionalString(keys, "hint");
    OptionalLong maxRows = OptionalLong.empty();
    if (keys.containsKey("max_rows")) {
      Node node = keys.get("max_rows").getValueNode();
      maxRows = positive(node, "max_rows");
      if (maxRows.isPresent() && action != null && action.refuses()) {
        problem(
            keys.get("max_rows").getKeyNode(),
            what
                + ": max_rows limits what an allow or observe rule lets through; a "
                + action.fileName()
                + " rule runs nothing");
      }
    }
    if (problems.size() > before) {
      return Optional.empty();
    }
    return Optional.of(
        new Rule(
            name,
            description,
            condition,
            action,
            sqlState,
            message,
            hint,
            maxRows,
            location(item)));
  }

  private Optional<PolicyAction> action(Node node, String key) {
    String value = string(node, key);
    if (value == null) {
      return Optional.empty();
    }
    Optional<PolicyAction> action = PolicyAction.fromFileName(value);
    if (action.isEmpty()) {
      String lower = value.toLowerCase(Locale.ROOT).replace('-', '_').replace(' ', '_');
      Optional<PolicyAction> close = PolicyAction.fromFileName(lower);
      problem(
          node,
          key
              + " '"
              + shorten(value)
              + "' is not an action"
              + close.map(a -> " (did you mean '" + a.fileName() + "'?)").orElse("")
              + "; expected one of: "
              + ACTIONS);
    }
    return action;
  }

  private OptionalLong positive(Node node, String key) {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.INT)) {
      try {
        long value = Long.parseLong(scalar.getValue().replace("_", ""));
        if (value > 0) {
          return OptionalLong.of(value);
        }
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    problem(node, key + " must be a positive whole number, found " + describe(node));
    return OptionalLong.empty();
  }

  // ---- YAML structure --------------------------------------------------------------------------

  /** The entries of a mapping, or null (with the problem recorded) if it is not one. */
  private Map<String, NodeTuple> entries(Node node, String what, List<String> allowed) {
    if (!(node instanceof MappingNode mapping)) {
      problem(node, what + " must be a mapping of key: value lines, found " + describe(node));
      return null;
    }
    Map<String, NodeTuple> entries = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
        problem(
            tuple.getKeyNode(), "keys must be plain names, found " + describe(tuple.getKeyNode()));
        continue;
      }
      String key = keyNode.getValue();
      if (!allowed.contains(key)) {
        problem(
            keyNode,
            "unknown key '"
                + shorten(key)
                + "' in "
                + what
                + closest(key, allowed)
                    .map(s -> " (did you mean '" + s + "'?)")
                    .orElse("; expected one of: " + String.join(", ", allowed)));
        continue;
      }
      NodeTuple first = entries.putIfAbsent(key, tuple);
      if (first != null) {
        problem(
            keyNode,
            "duplicate key '"
                + key
                + "' in "
                + what
                + " (first at line "
                + (first.getKeyNode().getStartMark().getLine() + 1)
                + ")");
      }
    }
    return entries;
  }

  private Optional<Node> required(Map<String, NodeTuple> keys, String key, Node anchor) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      problem(anchor, "a rule is missing the required key '" + key + "'");
      return Optional.empty();
    }
    return Optional.of(entry.getValueNode());
  }

  private String optionalString(Map<String, NodeTuple> keys, String key) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      return "";
    }
    String value = string(entry.getValueNode(), key);
    return value == null ? "" : value;
  }

  /** A non-empty single value, or null with the problem recorded. */
  private String string(Node node, String key) {
    if (!(node instanceof ScalarNode scalar)) {
      problem(node, key + " must be a single value, found " + describe(node));
      return null;
    }
    if (isNull(scalar) || scalar.getValue().isBlank()) {
      problem(node, key + " must not be empty");
      return null;
    }
    return scalar.getValue();
  }

  private static boolean isNull(Node node) {
    return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
  }

  // ---- messages --------------------------------------------------------------------------------

  private void problem(Node node, String reason) {
    problems.add(new PolicyException.Problem(location(node), reason));
  }

  private String location(Node node) {
    Mark mark = node.getStartMark();
    return file + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
  }

  /** Problems in file order (CEL errors are found after the structure is read). */
  private List<PolicyException.Problem> sorted(List<PolicyException.Problem> all) {
    List<PolicyException.Problem> copy = new ArrayList<>(all);
    copy.sort(
        (a, b) -> {
          long[] pa = position(a.origin());
          long[] pb = position(b.origin());
          return pa[0] != pb[0] ? Long.compare(pa[0], pb[0]) : Long.compare(pa[1], pb[1]);
        });
    return copy;
  }

  private long[] position(String origin) {
    if (!origin.startsWith(file + ":")) {
      return new long[] {0, 0};
    }
    String[] parts = origin.substring(file.length() + 1).split(":");
    try {
      return new long[] {Long.parseLong(parts[0]), parts.length > 1 ? Long.parseLong(parts[1]) : 0};
    } catch (NumberFormatException e) {
      return new long[] {0, 0};
    }
  }

  private static String describe(Node node) {
    return switch (node) {
      case MappingNode m -> "a mapping";
      case SequenceNode s -> "a list";
      case ScalarNode s when s.getTag().equals(Tag.NULL) -> "nothing";
      case ScalarNode s -> "'" + shorten(s.getValue()) + "'";
      default -> "an unsupported value";
    };
  }

  private static String shorten(String value) {
    return value.length() <= 40 ? value : value.substring(0, 37) + "...";
  }

  /**
   * "Did you mean": the allowed key within two edits of {@code typed}, ignoring case and - vs _.
   */
  static Optional<String> closest(String typed, List<String> allowed) {
    String t = typed.toLowerCase(Locale.ROOT).replace('-', '_');
    String best = null;
    int bestDistance = 3;
    for (String candidate : allowed) {
      int d = distance(t, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return Optional.ofNullable(best);
  }

  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}

package dev.warden.server.policy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.masking.MaskingStrategy;
import dev.warden.core.masking.PatternDetector;
import dev.warden.core.policy.AccessRule;
import dev.warden.core.policy.AccessRules;
import dev.warden.core.policy.AutoApproval;
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
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
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

  private static final List<String> TOP_KEYS = List.of("default", "rules", "masking", "access");
  private static final List<String> ACCESS_KEYS = List.of("default", "rules");
  private static final List<String> ACCESS_RULE_KEYS =
      List.of("name", "description", "when", "action", "message");
  private static final List<String> ACCESS_ACTIONS = List.of("allow", "deny");
  private static final List<String> MASKING_KEYS =
      List.of("enabled", "deny_inference", "strategies", "exempt", "columns", "detectors");
  private static final List<String> EXEMPTION_KEYS =
      List.of("identity", "group", "from", "until", "environments", "description");
  private static final List<String> COLUMN_KEYS =
      List.of("column", "kind", "environment", "database", "description");
  private static final List<String> DETECTOR_KEYS =
      List.of("name", "kind", "pattern", "description");

  /** The key of {@code strategies:} for computed columns whose kind is unknown. */
  private static final String UNKNOWN_KIND = "unknown";

  /** The kind of {@code columns:} that unmarks a column. */
  private static final String NO_KIND = "none";

  private static final List<String> KINDS =
      Arrays.stream(DataKind.values()).map(MaskingRules::kindName).toList();
  private static final List<String> STRATEGY_KEYS = concat(KINDS, List.of(UNKNOWN_KIND));
  private static final List<String> STRATEGIES =
      Arrays.stream(MaskingStrategy.values()).map(MaskingStrategy::fileName).toList();
  private static final List<String> RULE_KEYS =
      List.of(
          "name",
          "description",
          "when",
          "action",
          "sqlstate",
          "message",
          "hint",
          "max_rows",
          "over_max_rows",
          "approval",
          "auto_approve",
          "break_glass");
  private static final List<String> APPROVAL_KEYS =
      List.of(
          "approvers",
          "min_approvals",
          "all_of",
          "wait",
          "hold_timeout",
          "expires",
          "require_reason",
          "break_glass");

  /** What a break-glass deny rule's {@code approval:} may say: who, and for how long. */
  private static final List<String> BREAK_GLASS_APPROVAL_KEYS = List.of("approvers", "expires");

  private static final List<String> AUTO_APPROVE_KEYS = List.of("name", "description", "when");
  private static final List<String> WAITS =
      Arrays.stream(ApprovalRequirement.Wait.values())
          .map(w -> w.name().toLowerCase(Locale.ROOT))
          .toList();

  /** The most approvals a rule may ask for: more is a typo, not a process. */
  static final int MAX_APPROVALS = 100;

  static final Duration MIN_HOLD = Duration.ofSeconds(1);
  static final Duration MAX_HOLD = Duration.ofHours(24);
  static final Duration MIN_EXPIRES = Duration.ofMinutes(1);
  static final Duration MAX_EXPIRES = Duration.ofDays(30);
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(s|m|h|d)");
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
    MaskingRules masking = MaskingRules.defaults();
    if (top.containsKey("masking")) {
      masking = masking(top.get("masking").getValueNode());
    }
    AccessRules access = AccessRules.OPEN;
    if (top.containsKey("access")) {
      access = access(top.get("access").getValueNode());
    }
    Policy policy = null;
    try {
      policy = Policy.compile(file, rules, defaultAction, masking, access);
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
    // over_max_rows: require_approval lets the rule's approval: and auto_approve: apply to a change
    // over its max_rows (which an allow or observe rule has; a refusing one was reported above).
    boolean overMaxRows = false;
    if (keys.containsKey("over_max_rows")) {
      NodeTuple entry = keys.get("over_max_rows");
      overMaxRows = overMaxRows(entry.getValueNode()).orElse(false);
      if (!keys.containsKey("max_rows")) {
        problem(
            entry.getKeyNode(),
            what
                + ": over_max_rows says what happens to a change over max_rows, and the rule has"
                + " no max_rows");
      }
      overMaxRows &= action != null && !action.refuses();
    }
    Optional<ApprovalRequirement> approval = Optional.empty();
    List<AutoApproval> autoApprove = List.of();
    boolean breakGlass = false;
    if (keys.containsKey("break_glass")) {
      NodeTuple entry = keys.get("break_glass");
      breakGlass = bool(entry.getValueNode(), "break_glass").orElse(false);
      if (action != null && action != PolicyAction.DENY) {
        problem(
            entry.getKeyNode(),
            what
                + ": break_glass applies only to a deny rule (a reviewer may let a statement it"
                + " denies through once); "
                + (action == PolicyAction.REQUIRE_APPROVAL
                    ? "a require_approval rule allows break-glass with break_glass: true in its"
                        + " approval: block"
                    : "a " + action.fileName() + " rule refuses nothing"));
        breakGlass = false;
      }
    }
    if (action == PolicyAction.DENY && keys.containsKey("approval")) {
      NodeTuple entry = keys.get("approval");
      if (breakGlass) {
        approval = breakGlassApproval(entry.getValueNode());
      } else {
        problem(
            entry.getKeyNode(),
            what
                + ": approval: on a deny rule says who may let a denied statement through as"
                + " break-glass; add break_glass: true, or remove it");
      }
    } else if (breakGlass) {
      approval =
          Optional.of(
              ApprovalRequirement.breakGlassOnly(
                  ApprovalRequirement.DEFAULT.approverGroups(),
                  ApprovalRequirement.DEFAULT.lifetime()));
    }
    for (String key : List.of("approval", "auto_approve")) {
      if (keys.containsKey(key)
          && action != null
          && action != PolicyAction.REQUIRE_APPROVAL
          && !(action == PolicyAction.DENY && key.equals("approval"))
          && !overMaxRows) {
        problem(
            keys.get(key).getKeyNode(),
            what
                + ": "
                + key
                + ": applies only to a require_approval rule; a "
                + action.fileName()
                + " rule waits for no approval"
                + (action.refuses()
                    ? ""
                    : " (unless it has max_rows and over_max_rows: require_approval, when a change"
                        + " over the limit waits for one)"));
      }
    }
    if (keys.containsKey("approval") && action != PolicyAction.DENY) {
      approval = approval(keys.get("approval").getValueNode());
    }
    if (overMaxRows) {
      approval = Optional.of(approval.orElse(ApprovalRequirement.DEFAULT));
      if (approval.get().waiting() == ApprovalRequirement.Wait.HOLD) {
        Node block = keys.get("approval").getValueNode();
        problem(
            valueOf(block, "wait").orElse(block),
            what
                + ": a change over max_rows cannot be held while it waits for approval (it has run,"
                + " and would hold its locks): use wait: error; the client is refused at once and"
                + " sends the same statement again once approved");
      }
    }
    if (keys.containsKey("auto_approve")) {
      List<AutoApproval> autos = new ArrayList<>();
      for (Node auto : list(keys, "auto_approve", "'- name:'")) {
        autoApproval(auto).ifPresent(autos::add);
      }
      autoApprove = autos;
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
            location(item),
            approval,
            autoApprove));
  }

  // ---- approvals -------------------------------------------------------------------------------

  /** A rule's approval block; empty (the defaults) when it is empty or has a problem. */
  private Optional<ApprovalRequirement> approval(Node node) {
    if (isNull(node)) {
      return Optional.empty();
    }
    Map<String, NodeTuple> keys = entries(node, "an approval", APPROVAL_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    ApprovalRequirement d = ApprovalRequirement.DEFAULT;
    Set<String> groups = d.approverGroups();
    if (keys.containsKey("approvers")) {
      groups = approvers(keys.get("approvers").getValueNode());
    }
    int minApprovals = d.minApprovals();
    if (keys.containsKey("min_approvals")) {
      Node n = keys.get("min_approvals").getValueNode();
      OptionalLong value = positive(n, "min_approvals");
      if (value.isPresent() && value.getAsLong() > MAX_APPROVALS) {
        problem(
            n, "min_approvals must be at most " + MAX_APPROVALS + ", found " + value.getAsLong());
      } else if (value.isPresent()) {
        minApprovals = (int) value.getAsLong();
      }
    }
    boolean allOf = flag(keys, "all_of", d.allOfGroups());
    ApprovalRequirement.Wait waiting = d.waiting();
    boolean waitKnown = true;
    if (keys.containsKey("wait")) {
      Optional<ApprovalRequirement.Wait> mode = waitMode(keys.get("wait").getValueNode());
      waitKnown = mode.isPresent();
      waiting = mode.orElse(waiting);
    }
    Duration lifetime = d.lifetime();
    if (keys.containsKey("expires")) {
      lifetime =
          duration(keys.get("expires").getValueNode(), "expires", "1h", MIN_EXPIRES, MAX_EXPIRES)
              .orElse(lifetime);
    }
    // Unless it is written, a hold ends when the request expires, if that comes first.
    Duration holdTimeout = d.holdTimeout().compareTo(lifetime) > 0 ? lifetime : d.holdTimeout();
    if (keys.containsKey("hold_timeout")) {
      NodeTuple entry = keys.get("hold_timeout");
      Optional<Duration> hold =
          duration(entry.getValueNode(), "hold_timeout", "10m", MIN_HOLD, MAX_HOLD);
      // Written with wait: error it is unused (so that a block listing every key stays valid when
      // only the mode changes); with hold it must end before the request does.
      if (hold.isPresent()
          && waitKnown
          && waiting == ApprovalRequirement.Wait.HOLD
          && hold.get().compareTo(lifetime) > 0) {
        problem(
            entry.getValueNode(),
            "hold_timeout must not be longer than expires ("
                + human(lifetime)
                + "): the request would expire while the statement is held");
      }
      holdTimeout = hold.orElse(holdTimeout);
    }
    boolean reasonRequired = flag(keys, "require_reason", d.reasonRequired());
    boolean breakGlass = flag(keys, "break_glass", d.breakGlass());
    if (problems.size() > before) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new ApprovalRequirement(
              groups,
              minApprovals,
              allOf,
              waiting,
              holdTimeout,
              lifetime,
              reasonRequired,
              breakGlass));
    } catch (IllegalArgumentException e) {
      problem(node, "the approval is not valid: " + e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * A break-glass deny rule's approval block: who may let a denied statement through ({@code
   * approvers}) and how long its request stays open ({@code expires}); the rest is fixed (one
   * reviewer, as break-glass, with a justification, for a request made with the requester's reason,
   * refused at once). Empty (with the problem recorded) when it has a problem.
   */
  private Optional<ApprovalRequirement> breakGlassApproval(Node node) {
    ApprovalRequirement d = ApprovalRequirement.DEFAULT;
    if (isNull(node)) {
      return Optional.of(ApprovalRequirement.breakGlassOnly(d.approverGroups(), d.lifetime()));
    }
    int before = problems.size();
    Map<String, NodeTuple> keys = entries(node, "a break-glass approval", APPROVAL_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    for (Map.Entry<String, NodeTuple> entry : keys.entrySet()) {
      if (!BREAK_GLASS_APPROVAL_KEYS.contains(entry.getKey())) {
        problem(
            entry.getValue().getKeyNode(),
            entry.getKey()
                + " does not apply to a break-glass deny rule, whose approval takes only "
                + String.join(" and ", BREAK_GLASS_APPROVAL_KEYS)
                + ": one reviewer lets the statement through, as break-glass with a"
                + " justification, for a request made with the requester's reason; the client is"
                + " refused at once");
      }
    }
    Set<String> groups = d.approverGroups();
    if (keys.containsKey("approvers")) {
      groups = approvers(keys.get("approvers").getValueNode());
    }
    Duration lifetime = d.lifetime();
    if (keys.containsKey("expires")) {
      lifetime =
          duration(keys.get("expires").getValueNode(), "expires", "1h", MIN_EXPIRES, MAX_EXPIRES)
              .orElse(lifetime);
    }
    if (problems.size() > before) {
      return Optional.empty();
    }
    try {
      return Optional.of(ApprovalRequirement.breakGlassOnly(groups, lifetime));
    } catch (IllegalArgumentException e) {
      problem(node, "the approval is not valid: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** {@code over_max_rows}: true for {@code require_approval}, false for {@code deny}. */
  private Optional<Boolean> overMaxRows(Node node) {
    String value = string(node, "over_max_rows");
    if (value == null) {
      return Optional.empty();
    }
    List<String> allowed =
        List.of(PolicyAction.DENY.fileName(), PolicyAction.REQUIRE_APPROVAL.fileName());
    if (allowed.contains(value)) {
      return Optional.of(value.equals(PolicyAction.REQUIRE_APPROVAL.fileName()));
    }
    problem(
        node,
        "over_max_rows '"
            + shorten(value)
            + "' is not what can happen to a change over max_rows"
            + closest(value, allowed).map(v -> " (did you mean '" + v + "'?)").orElse("")
            + "; expected deny (it is rolled back and refused) or require_approval (it is rolled"
            + " back and waits for approval)");
    return Optional.empty();
  }

  /** The value node of {@code key} in {@code mapping}, if it is a mapping that has the key. */
  private static Optional<Node> valueOf(Node mapping, String key) {
    if (mapping instanceof MappingNode m) {
      for (NodeTuple tuple : m.getValue()) {
        if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
          return Optional.of(tuple.getValueNode());
        }
      }
    }
    return Optional.empty();
  }

  /** The approver groups: one name or a non-empty list of them. */
  private Set<String> approvers(Node node) {
    List<String> names = new ArrayList<>();
    if (node instanceof ScalarNode && !isNull(node)) {
      String one = string(node, "approvers");
      if (one != null) {
        names.add(one);
      }
    } else if (node instanceof SequenceNode sequence && !sequence.getValue().isEmpty()) {
      for (Node item : sequence.getValue()) {
        String value = string(item, "approvers entries");
        if (value != null) {
          names.add(value);
        }
      }
    } else {
      problem(
          node,
          "approvers must name at least one group whose members may approve, found "
              + describe(node));
    }
    return names.isEmpty() ? ApprovalRequirement.DEFAULT.approverGroups() : Set.copyOf(names);
  }

  private Optional<ApprovalRequirement.Wait> waitMode(Node node) {
    String value = string(node, "wait");
    if (value == null) {
      return Optional.empty();
    }
    if (WAITS.contains(value)) {
      return Optional.of(ApprovalRequirement.Wait.valueOf(value.toUpperCase(Locale.ROOT)));
    }
    problem(
        node,
        "wait '"
            + shorten(value)
            + "' is not a way to wait"
            + closest(value, WAITS).map(w -> " (did you mean '" + w + "'?)").orElse("")
            + "; expected error (the client is told at once) or hold (the statement waits)");
    return Optional.empty();
  }

  private boolean flag(Map<String, NodeTuple> keys, String key, boolean otherwise) {
    NodeTuple entry = keys.get(key);
    return entry == null ? otherwise : bool(entry.getValueNode(), key).orElse(otherwise);
  }

  /** A duration such as {@code 90s}, {@code 10m}, {@code 1h} or {@code 7d}, within bounds. */
  private Optional<Duration> duration(
      Node node, String key, String example, Duration min, Duration max) {
    if (!(node instanceof ScalarNode scalar) || isNull(node)) {
      problem(
          node,
          key
              + " must be a duration such as "
              + example
              + " (s, m, h or d), found "
              + describe(node));
      return Optional.empty();
    }
    Matcher m = DURATION.matcher(scalar.getValue().strip());
    if (!m.matches()) {
      problem(
          node,
          key
              + " must be a duration such as "
              + example
              + " (a whole number of s, m, h or d), found "
              + describe(node));
      return Optional.empty();
    }
    long amount = Long.parseLong(m.group(1));
    Duration value =
        switch (m.group(2)) {
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      problem(
          node,
          key
              + " must be between "
              + human(min)
              + " and "
              + human(max)
              + ", found "
              + scalar.getValue().strip());
      return Optional.empty();
    }
    return Optional.of(value);
  }

  private static String human(Duration d) {
    long s = d.toSeconds();
    if (s % 86_400 == 0 && s > 86_400) {
      return s / 86_400 + "d";
    }
    if (s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  private Optional<AutoApproval> autoApproval(Node item) {
    String what = "an automatic approval";
    Map<String, NodeTuple> keys = entries(item, what, AUTO_APPROVE_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String name = required(keys, "name", item, what).map(n -> string(n, "name")).orElse(null);
    if (name != null && !RULE_NAME.matcher(name).matches()) {
      problem(
          keys.get("name").getValueNode(),
          "automatic approval name '"
              + shorten(name)
              + "' may contain only letters, digits, '_', '-' and '.' (at most 63)");
    }
    String condition = required(keys, "when", item, what).map(n -> string(n, "when")).orElse(null);
    optionalString(keys, "description");
    if (problems.size() > before) {
      return Optional.empty();
    }
    return Optional.of(new AutoApproval(name, condition, location(item)));
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

  // ---- access ----------------------------------------------------------------------------------

  private AccessRules access(Node node) {
    if (isNull(node)) {
      return AccessRules.OPEN;
    }
    Map<String, NodeTuple> keys = entries(node, "the access section", ACCESS_KEYS);
    if (keys == null) {
      return AccessRules.OPEN;
    }
    boolean allowByDefault = true;
    if (keys.containsKey("default")) {
      allowByDefault =
          accessAction(keys.get("default").getValueNode(), "the access default").orElse(true);
    }
    List<AccessRule> rules = new ArrayList<>();
    for (Node item : list(keys, "rules", "'- name:'")) {
      accessRule(item).ifPresent(rules::add);
    }
    return new AccessRules(allowByDefault, rules);
  }

  private Optional<AccessRule> accessRule(Node item) {
    Map<String, NodeTuple> keys = entries(item, "an access rule", ACCESS_RULE_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String what = "an access rule";
    String name = required(keys, "name", item, what).map(n -> string(n, "name")).orElse(null);
    if (name != null && !RULE_NAME.matcher(name).matches()) {
      problem(
          keys.get("name").getValueNode(),
          "rule name '"
              + shorten(name)
              + "' may contain only letters, digits, '_', '-' and '.' (at most 63)");
    }
    String condition = required(keys, "when", item, what).map(n -> string(n, "when")).orElse(null);
    Optional<Boolean> allows =
        required(keys, "action", item, what).flatMap(n -> accessAction(n, "an access action"));
    String description = optionalString(keys, "description");
    String message = optionalString(keys, "message");
    if (allows.orElse(false) && keys.containsKey("message")) {
      problem(
          keys.get("message").getKeyNode(),
          "access rule '"
              + shorten(name == null ? "?" : name)
              + "': message is what a refused session is told; an allow rule refuses no one");
    }
    if (problems.size() > before || allows.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new AccessRule(name, description, condition, allows.get(), message, location(item)));
  }

  /** {@code allow} (true) or {@code deny} (false), or empty with the problem recorded. */
  private Optional<Boolean> accessAction(Node node, String what) {
    String value = string(node, what);
    if (value == null) {
      return Optional.empty();
    }
    if (ACCESS_ACTIONS.contains(value)) {
      return Optional.of(value.equals("allow"));
    }
    problem(
        node,
        what
            + " '"
            + shorten(value)
            + "' is not allow or deny"
            + closest(value, ACCESS_ACTIONS).map(a -> " (did you mean '" + a + "'?)").orElse("")
            + "; who may use an environment is allowed or denied, nothing else");
    return Optional.empty();
  }

  // ---- masking ---------------------------------------------------------------------------------

  private MaskingRules masking(Node node) {
    MaskingRules.Builder b = MaskingRules.builder();
    if (isNull(node)) {
      return b.build();
    }
    Map<String, NodeTuple> keys = entries(node, "the masking section", MASKING_KEYS);
    if (keys == null) {
      return b.build();
    }
    if (keys.containsKey("enabled")) {
      bool(keys.get("enabled").getValueNode(), "enabled").ifPresent(b::enabled);
    }
    if (keys.containsKey("deny_inference")) {
      bool(keys.get("deny_inference").getValueNode(), "deny_inference").ifPresent(b::denyInference);
    }
    if (keys.containsKey("strategies")) {
      strategies(keys.get("strategies").getValueNode(), b);
    }
    for (Node item : list(keys, "exempt", "'- identity:' or '- group:'")) {
      exemption(item).ifPresent(b::exempt);
    }
    Map<String, Node> overrides = new LinkedHashMap<>();
    for (Node item : list(keys, "columns", "'- column:'")) {
      columnOverride(item, overrides).ifPresent(b::column);
    }
    Map<String, Node> detectorNames = new LinkedHashMap<>();
    for (Node item : list(keys, "detectors", "'- name:'")) {
      detector(item, detectorNames).ifPresent(b::detector);
    }
    return b.build();
  }

  private void strategies(Node node, MaskingRules.Builder b) {
    if (isNull(node)) {
      return;
    }
    Map<String, NodeTuple> keys =
        entries(node, "masking strategies (kind: strategy)", STRATEGY_KEYS);
    if (keys == null) {
      return;
    }
    for (Map.Entry<String, NodeTuple> e : keys.entrySet()) {
      strategy(e.getValue().getValueNode(), e.getKey())
          .ifPresent(
              s -> {
                if (e.getKey().equals(UNKNOWN_KIND)) {
                  b.unknownStrategy(s);
                } else {
                  b.strategy(MaskingRules.kindNamed(e.getKey()).orElseThrow(), s);
                }
              });
    }
  }

  private Optional<MaskingStrategy> strategy(Node node, String kind) {
    // YAML reads a bare null as "nothing": the strategy of that name is meant.
    if (node instanceof ScalarNode scalar && isNull(scalar) && scalar.getValue().equals("null")) {
      return Optional.of(MaskingStrategy.NULL);
    }
    if (node instanceof ScalarNode scalar && isNull(scalar) && !scalar.getValue().isEmpty()) {
      // Null, NULL or ~: YAML's other spellings of nothing, most likely meant as the strategy.
      problem(
          node,
          "'"
              + shorten(scalar.getValue())
              + "' is not a masking strategy (did you mean 'null'?); expected one of: "
              + String.join(", ", STRATEGIES));
      return Optional.empty();
    }
    String value = string(node, "the strategy for " + kind);
    if (value == null) {
      return Optional.empty();
    }
    Optional<MaskingStrategy> strategy = MaskingStrategy.fromFileName(value);
    if (strategy.isEmpty()) {
      problem(
          node,
          "'"
              + shorten(value)
              + "' is not a masking strategy"
              + closest(value, STRATEGIES).map(s -> " (did you mean '" + s + "'?)").orElse("")
              + "; expected one of: "
              + String.join(", ", STRATEGIES));
    }
    return strategy;
  }

  private Optional<MaskingRules.Exemption> exemption(Node item) {
    Map<String, NodeTuple> keys = entries(item, "an exemption", EXEMPTION_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    Optional<String> identity = optional(keys, "identity");
    Optional<String> group = optional(keys, "group");
    if (keys.containsKey("identity") && keys.containsKey("group")) {
      problem(
          keys.get("group").getKeyNode(),
          "an exemption names an identity or a group, not both (write two exemptions)");
    } else if (!keys.containsKey("identity") && !keys.containsKey("group")) {
      problem(item, "an exemption needs 'identity:' or 'group:'");
    }
    Optional<Instant> from = instant(keys, "from");
    Optional<Instant> until = instant(keys, "until");
    if (from.isPresent() && until.isPresent() && !from.get().isBefore(until.get())) {
      problem(keys.get("until").getValueNode(), "until must be later than from");
    }
    Set<String> environments = Set.copyOf(stringList(keys, "environments"));
    optionalString(keys, "description");
    if (problems.size() > before) {
      return Optional.empty();
    }
    return Optional.of(new MaskingRules.Exemption(identity, group, from, until, environments));
  }

  private Optional<MaskingRules.ColumnOverride> columnOverride(Node item, Map<String, Node> seen) {
    Map<String, NodeTuple> keys = entries(item, "a column override", COLUMN_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String path =
        required(keys, "column", item, "a column override")
            .map(n -> string(n, "column"))
            .orElse(null);
    Optional<Optional<DataKind>> kind =
        required(keys, "kind", item, "a column override").flatMap(n -> kindOrNone(n));
    Optional<String> environment = optional(keys, "environment");
    Optional<String> database = optional(keys, "database");
    optionalString(keys, "description");
    MaskingRules.ColumnOverride override = null;
    if (path != null) {
      try {
        override =
            MaskingRules.ColumnOverride.of(
                path, kind.orElse(Optional.empty()), environment, database);
      } catch (IllegalArgumentException e) {
        problem(
            keys.get("column").getValueNode(),
            "column '"
                + shorten(path)
                + "' is not [schema.]table.column (e.g. public.users.email)");
      }
    }
    if (override != null) {
      String key = override.path() + "\0" + environment.orElse("") + "\0" + database.orElse("");
      Node first = seen.putIfAbsent(key, item);
      if (first != null) {
        problem(
            keys.get("column").getValueNode(),
            "column '"
                + shorten(path)
                + "' is overridden twice for the same environment and database (first at line "
                + (first.getStartMark().getLine() + 1)
                + ")");
      }
    }
    if (problems.size() > before || override == null || kind.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(override);
  }

  private Optional<PatternDetector> detector(Node item, Map<String, Node> seen) {
    Map<String, NodeTuple> keys = entries(item, "a detector", DETECTOR_KEYS);
    if (keys == null) {
      return Optional.empty();
    }
    int before = problems.size();
    String name =
        required(keys, "name", item, "a detector").map(n -> string(n, "name")).orElse(null);
    if (name != null) {
      if (!RULE_NAME.matcher(name).matches()) {
        problem(
            keys.get("name").getValueNode(),
            "detector name '"
                + shorten(name)
                + "' may contain only letters, digits, '_', '-' and '.' (at most 63)");
      }
      Node first = seen.putIfAbsent(name, item);
      if (first != null) {
        problem(
            keys.get("name").getValueNode(),
            "duplicate detector name '"
                + shorten(name)
                + "' (first at line "
                + (first.getStartMark().getLine() + 1)
                + ")");
      }
    }
    Optional<DataKind> kind =
        required(keys, "kind", item, "a detector")
            .flatMap(
                n ->
                    kindOrNone(n)
                        .flatMap(
                            k -> {
                              if (k.isEmpty()) {
                                problem(
                                    n,
                                    "a detector finds data of a kind; '"
                                        + NO_KIND
                                        + "' is for column overrides");
                              }
                              return k;
                            }));
    String regex =
        required(keys, "pattern", item, "a detector").map(n -> string(n, "pattern")).orElse(null);
    optionalString(keys, "description");
    if (problems.size() > before || name == null || kind.isEmpty() || regex == null) {
      return Optional.empty();
    }
    Node patternNode = keys.get("pattern").getValueNode();
    try {
      return Optional.of(PatternDetector.compile(name, kind.get(), regex));
    } catch (PatternSyntaxException e) {
      problem(
          patternNode,
          "detector '"
              + shorten(name)
              + "': the pattern does not compile: "
              + e.getDescription()
              + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1) : ""));
    } catch (IllegalArgumentException e) {
      problem(patternNode, "detector '" + shorten(name) + "': " + e.getMessage());
    }
    return Optional.empty();
  }

  /** A kind name, or {@code none} (empty inside), or empty with the problem recorded. */
  private Optional<Optional<DataKind>> kindOrNone(Node node) {
    String value = string(node, "kind");
    if (value == null) {
      return Optional.empty();
    }
    if (value.equals(NO_KIND)) {
      return Optional.of(Optional.empty());
    }
    Optional<DataKind> kind = MaskingRules.kindNamed(value);
    if (kind.isEmpty()) {
      problem(
          node,
          "'"
              + shorten(value)
              + "' is not a kind of data"
              + closest(value, KINDS).map(k -> " (did you mean '" + k + "'?)").orElse("")
              + "; expected one of: "
              + String.join(", ", KINDS)
              + " (or "
              + NO_KIND
              + " in a column override)");
      return Optional.empty();
    }
    return Optional.of(kind);
  }

  private Optional<Instant> instant(Map<String, NodeTuple> keys, String key) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      return Optional.empty();
    }
    String value = string(entry.getValueNode(), key);
    if (value == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(value));
    } catch (DateTimeParseException e) {
      problem(
          entry.getValueNode(),
          key
              + " must be an instant in UTC such as 2026-12-31T18:00:00Z, found '"
              + shorten(value)
              + "'");
      return Optional.empty();
    }
  }

  private Optional<Boolean> bool(Node node, String key) {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.BOOL)) {
      String v = scalar.getValue().toLowerCase(Locale.ROOT);
      if (v.equals("true") || v.equals("false")) {
        return Optional.of(v.equals("true"));
      }
    }
    problem(node, key + " must be true or false, found " + describe(node));
    return Optional.empty();
  }

  /** The items of a list under {@code key}: none when absent or empty, recorded when no list. */
  private List<Node> list(Map<String, NodeTuple> keys, String key, String itemStart) {
    NodeTuple entry = keys.get(key);
    if (entry == null || isNull(entry.getValueNode())) {
      return List.of();
    }
    if (entry.getValueNode() instanceof SequenceNode sequence) {
      return sequence.getValue();
    }
    problem(
        entry.getValueNode(),
        key
            + " must be a list, each item starting with "
            + itemStart
            + ", found "
            + describe(entry.getValueNode()));
    return List.of();
  }

  private List<String> stringList(Map<String, NodeTuple> keys, String key) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      return List.of();
    }
    Node node = entry.getValueNode();
    if (node instanceof ScalarNode && !isNull(node)) {
      String one = string(node, key);
      return one == null ? List.of() : List.of(one);
    }
    if (!(node instanceof SequenceNode sequence)) {
      problem(node, key + " must be a list of names, found " + describe(node));
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (Node item : sequence.getValue()) {
      String value = string(item, key + " entries");
      if (value != null) {
        out.add(value);
      }
    }
    if (sequence.getValue().isEmpty()) {
      problem(node, key + " must list at least one environment name or tag (or be left out)");
    }
    return out;
  }

  private Optional<String> optional(Map<String, NodeTuple> keys, String key) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(string(entry.getValueNode(), key));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
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
    return required(keys, key, anchor, "a rule");
  }

  private Optional<Node> required(
      Map<String, NodeTuple> keys, String key, Node anchor, String what) {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      problem(anchor, what + " is missing the required key '" + key + "'");
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

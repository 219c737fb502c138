package dev.warden.core.policy;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.statement.Statement;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A compiled, immutable policy: ordered rules whose conditions are compiled once, when the policy
 * loads, so that a condition that does not compile never reaches a statement. Judging is
 * thread-safe and, when no rule reads the time, cached per statement and context, so a repeated
 * statement costs a hash lookup. Its access rules ({@link #admit}) say who may open a session in
 * which environment at all.
 */
public final class Policy {
  /** Judgements kept per policy; past it the cache starts over (cheap, and never wrong). */
  static final int CACHE_LIMIT = 65_536;

  private final String name;
  private final List<Rule> rules;
  private final List<CompiledRule> compiled;
  private final PolicyAction defaultAction;
  private final MaskingRules masking;
  private final AccessRules access;
  private final List<CompiledAccess> compiledAccess;
  private final long version;
  private final boolean readsTime;
  private final Map<CacheKey, Judgement> cache = new ConcurrentHashMap<>();
  private final LongAdder evaluations = new LongAdder();

  private record CompiledRule(Rule rule, CelRuntime.Program program) {}

  private record CompiledAccess(AccessRule rule, CelRuntime.Program program) {}

  private record CompiledAuto(AutoApproval auto, CelRuntime.Program program) {}

  /** Per require_approval rule name, its automatic approvals in order. */
  private final Map<String, List<CompiledAuto>> autoApprovals;

  /** The rule name of an admission no access rule decided: the access section's default. */
  public static final String DEFAULT_ACCESS_RULE = "(default)";

  private Policy(
      String name,
      List<Rule> rules,
      List<CompiledRule> compiled,
      PolicyAction defaultAction,
      MaskingRules masking,
      AccessRules access,
      List<CompiledAccess> compiledAccess,
      Map<String, List<CompiledAuto>> autoApprovals,
      boolean readsTime) {
    this.name = name;
    this.autoApprovals = Map.copyOf(autoApprovals);
    this.rules = List.copyOf(rules);
    this.compiled = List.copyOf(compiled);
    this.defaultAction = defaultAction;
    this.masking = masking;
    this.access = access;
    this.compiledAccess = List.copyOf(compiledAccess);
    this.readsTime = readsTime;
    this.version = fingerprint(rules, defaultAction, masking, access);
  }

  /**
   * Compiles {@code rules} with the default masking rules ({@link MaskingRules#defaults()}).
   *
   * @see #compile(String, List, PolicyAction, MaskingRules)
   */
  public static Policy compile(String name, List<Rule> rules, PolicyAction defaultAction)
      throws PolicyException {
    return compile(name, rules, defaultAction, MaskingRules.defaults());
  }

  /**
   * Compiles {@code rules} with no access section ({@link AccessRules#OPEN}).
   *
   * @see #compile(String, List, PolicyAction, MaskingRules, AccessRules)
   */
  public static Policy compile(
      String name, List<Rule> rules, PolicyAction defaultAction, MaskingRules masking)
      throws PolicyException {
    return compile(name, rules, defaultAction, masking, AccessRules.OPEN);
  }

  /**
   * Compiles {@code rules} and {@code access}'s rules, reporting every problem at once (each with
   * its rule's origin).
   *
   * @param name where the policy came from, for messages (a file name, or "the built-in default
   *     policy")
   * @param defaultAction what happens to a statement no rule matches
   * @param masking the policy's masking section
   * @param access the policy's access section: who may use which environment
   */
  public static Policy compile(
      String name,
      List<Rule> rules,
      PolicyAction defaultAction,
      MaskingRules masking,
      AccessRules access)
      throws PolicyException {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(defaultAction, "defaultAction");
    Objects.requireNonNull(masking, "masking");
    Objects.requireNonNull(access, "access");
    Conditions conditions = Conditions.shared();
    List<PolicyException.Problem> problems = new ArrayList<>();
    List<CompiledRule> compiled = new ArrayList<>();
    // Statement and access rules share one name space: a name in the audit trail is one rule.
    Map<String, String> names = new HashMap<>();
    boolean readsTime = false;
    Map<String, List<CompiledAuto>> autoApprovals = new HashMap<>();
    for (Rule rule : rules) {
      duplicate(names, rule.name(), rule.origin()).ifPresent(problems::add);
      switch (conditions.compile(rule.condition())) {
        case Conditions.Compiled.Ok ok -> {
          List<String> approvalOnly =
              ok.variables().stream().filter(Conditions.APPROVAL_ONLY::contains).toList();
          if (approvalOnly.isEmpty()) {
            compiled.add(new CompiledRule(rule, ok.program()));
            readsTime |= ok.readsTime();
          } else {
            problems.add(
                new PolicyException.Problem(
                    rule.origin(),
                    "rule '"
                        + rule.name()
                        + "' reads "
                        + String.join(", ", approvalOnly)
                        + ", which Warden knows only while a statement waits for approval; "
                        + Conditions.ROWS
                        + " and "
                        + Conditions.REQUEST_REASON
                        + " may be read only in a require_approval rule's auto_approve"
                        + " conditions"));
          }
        }
        case Conditions.Compiled.Error error ->
            problems.add(
                new PolicyException.Problem(
                    rule.origin(), "rule '" + rule.name() + "': " + error.reason()));
      }
      List<CompiledAuto> autos = new ArrayList<>();
      for (AutoApproval auto : rule.autoApprove()) {
        duplicate(names, auto.name(), auto.origin()).ifPresent(problems::add);
        switch (conditions.compile(auto.condition())) {
          case Conditions.Compiled.Ok ok -> autos.add(new CompiledAuto(auto, ok.program()));
          case Conditions.Compiled.Error error ->
              problems.add(
                  new PolicyException.Problem(
                      auto.origin(),
                      "rule '"
                          + rule.name()
                          + "', automatic approval '"
                          + auto.name()
                          + "': "
                          + error.reason()));
        }
      }
      if (!autos.isEmpty()) {
        autoApprovals.put(rule.name(), List.copyOf(autos));
      }
    }
    List<CompiledAccess> compiledAccess = new ArrayList<>();
    for (AccessRule rule : access.rules()) {
      duplicate(names, rule.name(), rule.origin()).ifPresent(problems::add);
      switch (conditions.compile(rule.condition())) {
        case Conditions.Compiled.Ok ok -> {
          List<String> unavailable =
              ok.variables().stream().filter(v -> !availableToAccessRules(v)).toList();
          if (unavailable.isEmpty()) {
            compiledAccess.add(new CompiledAccess(rule, ok.program()));
          } else {
            problems.add(
                new PolicyException.Problem(
                    rule.origin(),
                    "access rule '"
                        + rule.name()
                        + "' reads "
                        + String.join(", ", unavailable)
                        + ", but access is decided once per session, before any statement; an"
                        + " access rule may read identity.*, env.*, session.* and request.time"));
          }
        }
        case Conditions.Compiled.Error error ->
            problems.add(
                new PolicyException.Problem(
                    rule.origin(), "access rule '" + rule.name() + "': " + error.reason()));
      }
    }
    if (!problems.isEmpty()) {
      throw new PolicyException(problems);
    }
    return new Policy(
        name,
        rules,
        compiled,
        defaultAction,
        masking,
        access,
        compiledAccess,
        autoApprovals,
        readsTime);
  }

  private static Optional<PolicyException.Problem> duplicate(
      Map<String, String> names, String name, String origin) {
    String first = names.putIfAbsent(name, origin);
    if (first == null) {
      return Optional.empty();
    }
    return Optional.of(
        new PolicyException.Problem(
            origin,
            "duplicate rule name '"
                + name
                + "'"
                + (first.isEmpty() ? "" : " (first at " + first + ")")));
  }

  /** Whether an access rule may read {@code variable}: nothing about statements. */
  static boolean availableToAccessRules(String variable) {
    return !variable.startsWith("statement.")
        && !variable.equals("request.path")
        && !Conditions.APPROVAL_ONLY.contains(variable);
  }

  /**
   * This policy with the server's masking secret given to its masking rules (see {@link
   * MaskingRules#withPseudonymKey}); the rules' compiled conditions are shared, the judgement cache
   * starts empty. The version is unchanged: the key is not policy.
   */
  public Policy withPseudonymKey(byte[] secret) {
    return new Policy(
        name,
        rules,
        compiled,
        defaultAction,
        masking.withPseudonymKey(secret),
        access,
        compiledAccess,
        autoApprovals,
        readsTime);
  }

  /** Where the policy came from. */
  public String name() {
    return name;
  }

  public List<Rule> rules() {
    return rules;
  }

  public PolicyAction defaultAction() {
    return defaultAction;
  }

  /** What is masked, for whom: {@link MaskingRules#defaults()} without a masking section. */
  public MaskingRules masking() {
    return masking;
  }

  /** Who may use which environment: {@link AccessRules#OPEN} without an access section. */
  public AccessRules access() {
    return access;
  }

  /**
   * Whether {@code session} may begin, by the access rules: the first whose condition holds
   * decides, and the section's default when none does. Without access rules (or with only {@code
   * default: allow}) everyone is let in ({@link Admission#OPEN}). A condition that fails to
   * evaluate refuses the session (fail closed). Not cached: it is asked once per session.
   *
   * <p>A refusal's message is the reason alone (a deny rule's {@code message}, empty when it has
   * none): the proxy says who was refused where and names the rule around it.
   *
   * @param now the time {@code request.time} reads
   */
  public Admission admit(SessionContext session, Instant now) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(now, "now");
    if (access.open()) {
      return Admission.OPEN;
    }
    Variables variables = Variables.forSession(session, now);
    for (CompiledAccess r : compiledAccess) {
      Object result;
      try {
        result = r.program().eval(variables);
      } catch (CelEvaluationException e) {
        return accessFailed(r.rule(), e.getMessage());
      } catch (RuntimeException e) {
        // A fault inside the CEL runtime must refuse this session, not escape to the caller.
        return accessFailed(r.rule(), e.toString());
      }
      if (!(result instanceof Boolean matched)) {
        return accessFailed(r.rule(), "the condition gave " + result + ", not true or false");
      }
      if (matched) {
        AccessRule rule = r.rule();
        return new Admission(rule.allows(), rule.name(), rule.allows() ? "" : rule.message());
      }
    }
    if (access.allowByDefault()) {
      return new Admission(true, DEFAULT_ACCESS_RULE, "");
    }
    return new Admission(
        false, DEFAULT_ACCESS_RULE, "no access rule matched and the policy's default is deny");
  }

  private static Admission accessFailed(AccessRule rule, String reason) {
    String why = reason == null || reason.isBlank() ? "unknown error" : reason;
    return new Admission(
        false, rule.name(), "the access rule could not be evaluated (Warden fails closed): " + why);
  }

  /**
   * A fingerprint of the rules and default: equal for equal policies, so a reload of an unchanged
   * file keeps earlier decisions valid. Never 0 (the version of "no policy").
   */
  public long version() {
    return version;
  }

  /** True if a rule reads {@code request.time}: decisions then hold only for the moment. */
  public boolean readsTime() {
    return readsTime;
  }

  /**
   * Judges one statement: the first rule whose condition holds decides; if none does, the default
   * action. A condition that fails to evaluate refuses the statement (fail closed).
   *
   * @param multiStatement whether the statement is one of several in the same text
   */
  public Judgement judge(Statement statement, boolean multiStatement, PolicyInput input) {
    if (readsTime) {
      return evaluate(statement, multiStatement, input);
    }
    CacheKey key = new CacheKey(statement, multiStatement, input.key());
    Judgement cached = cache.get(key);
    if (cached != null) {
      return cached;
    }
    Judgement judgement = evaluate(statement, multiStatement, input);
    if (cache.size() >= CACHE_LIMIT) {
      cache.clear();
    }
    cache.put(key, judgement);
    return judgement;
  }

  /**
   * Whether one of rule {@code rule}'s automatic approvals approves {@code statement}, waiting for
   * approval: the first whose condition holds, by name. Never cached (the rows and the reason
   * differ from one request to the next). A condition that fails to evaluate does not approve (fail
   * closed), and the next one is tried.
   *
   * @param rule the name of the {@code require_approval} rule that decided ({@link
   *     dev.warden.core.gate.Decision#rule()}); a name without automatic approvals approves nothing
   * @param multiStatement whether the statement is one of several in the same text
   * @param input who, where, how, and when (the time {@code request.time} reads)
   * @param rows the rows the statement would change as the proxy measured them, -1 when not
   *     measured
   * @param reason the requester's reason, {@code ""} when none was given
   */
  public Optional<String> autoApprove(
      String rule,
      Statement statement,
      boolean multiStatement,
      PolicyInput input,
      long rows,
      String reason) {
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(reason, "reason");
    List<CompiledAuto> autos = autoApprovals.getOrDefault(rule, List.of());
    if (autos.isEmpty()) {
      return Optional.empty();
    }
    Variables variables = new Variables(statement, multiStatement, input, rows, reason);
    for (CompiledAuto a : autos) {
      evaluations.increment();
      Object result;
      try {
        result = a.program().eval(variables);
      } catch (CelEvaluationException | RuntimeException e) {
        continue; // it cannot say yes, so it says no; a person can still approve
      }
      if (Boolean.TRUE.equals(result)) {
        return Optional.of(a.auto().name());
      }
    }
    return Optional.empty();
  }

  /** How many conditions this policy has evaluated: shows what the cache saves. */
  long evaluations() {
    return evaluations.sum();
  }

  private Judgement evaluate(Statement statement, boolean multiStatement, PolicyInput input) {
    Variables variables = new Variables(statement, multiStatement, input);
    for (CompiledRule r : compiled) {
      evaluations.increment();
      Object result;
      try {
        result = r.program().eval(variables);
      } catch (CelEvaluationException e) {
        return failed(statement, r.rule(), e.getMessage());
      } catch (RuntimeException e) {
        // A fault inside the CEL runtime must refuse this statement, not escape to the caller.
        return failed(statement, r.rule(), e.toString());
      }
      if (result instanceof Boolean matched) {
        if (matched) {
          return new Judgement(statement, Optional.of(r.rule()), r.rule().action(), "");
        }
      } else {
        return failed(statement, r.rule(), "the condition gave " + result + ", not true or false");
      }
    }
    return new Judgement(statement, Optional.empty(), defaultAction, "");
  }

  private static Judgement failed(Statement statement, Rule rule, String reason) {
    String why = reason == null || reason.isBlank() ? "unknown error" : reason;
    return new Judgement(statement, Optional.of(rule), PolicyAction.DENY, why);
  }

  private static long fingerprint(
      List<Rule> rules, PolicyAction defaultAction, MaskingRules masking, AccessRules access) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
    StringBuilder text = new StringBuilder(defaultAction.name()).append('\0');
    for (Rule r : rules) {
      // Lengths first, so that no two different policies give the same text.
      for (String field :
          List.of(
              r.name(),
              r.condition(),
              r.action().name(),
              r.sqlState(),
              r.message(),
              r.hint(),
              r.maxRows().isPresent() ? Long.toString(r.maxRows().getAsLong()) : "")) {
        text.append(field.length()).append(':').append(field);
      }
      // Only rules with an approval block or automatic approvals add to the text, so that the
      // versions of policies without them stay what they were before approvals existed.
      if (r.approval().isPresent() || !r.autoApprove().isEmpty()) {
        List<String> fields = new ArrayList<>();
        r.approval().ifPresent(a -> fields.addAll(requirementFields(a)));
        for (AutoApproval auto : r.autoApprove()) {
          fields.add(auto.name());
          fields.add(auto.condition());
        }
        text.append("approval:");
        for (String field : fields) {
          text.append(field.length()).append(':').append(field);
        }
      }
      text.append('\0');
    }
    // Only a masking section that differs from the defaults counts, so that the versions of
    // policies without one stay what they were before masking existed.
    if (masking.fingerprint() != MaskingRules.defaults().fingerprint()) {
      text.append("masking:").append(Long.toHexString(masking.fingerprint()));
    }
    // Likewise only an access section that refuses someone or has rules.
    if (!access.open()) {
      text.append("access:").append(access.allowByDefault() ? "allow" : "deny").append('\0');
      for (AccessRule r : access.rules()) {
        for (String field :
            List.of(r.name(), r.condition(), r.allows() ? "allow" : "deny", r.message())) {
          text.append(field.length()).append(':').append(field);
        }
        text.append('\0');
      }
    }
    byte[] digest = sha.digest(text.toString().getBytes(StandardCharsets.UTF_8));
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (digest[i] & 0xff);
    }
    return v == 0 ? 1 : v;
  }

  private static List<String> requirementFields(ApprovalRequirement a) {
    List<String> fields =
        new ArrayList<>(
            List.of(
                String.join(",", new TreeSet<>(a.approverGroups())),
                Integer.toString(a.minApprovals()),
                Boolean.toString(a.allOfGroups()),
                a.waiting().name(),
                a.holdTimeout().toString(),
                a.lifetime().toString(),
                Boolean.toString(a.reasonRequired()),
                Boolean.toString(a.breakGlass())));
    // Added only when set, so that the versions of policies written before it stay the same.
    if (a.breakGlassOnly()) {
      fields.add("break-glass-only");
    }
    return fields;
  }

  @Override
  public String toString() {
    return "Policy["
        + name
        + ", "
        + rules.size()
        + " rules, version "
        + Long.toHexString(version)
        + "]";
  }

  /** A statement instance (the analyser shares them between repeats), its context and position. */
  private static final class CacheKey {
    private final Statement statement;
    private final boolean multiStatement;
    private final PolicyInput.ContextKey context;
    private final int hash;

    CacheKey(Statement statement, boolean multiStatement, PolicyInput.ContextKey context) {
      this.statement = statement;
      this.multiStatement = multiStatement;
      this.context = context;
      this.hash =
          (System.identityHashCode(statement) * 31 + context.hashCode()) * 2
              + (multiStatement ? 1 : 0);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CacheKey k
          && k.statement == statement
          && k.multiStatement == multiStatement
          && k.context.equals(context);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}

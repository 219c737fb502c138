package dev.warden.server.api;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.UserNames;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.policy.Rule;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.TableRef;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.policy.PolicyFile;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The policy in force, a check of a policy text, and its verdict on a statement:
 *
 * <ul>
 *   <li>{@code GET /api/policy}: the file (or {@code default}), its version, when this Warden first
 *       served that version, its text and its rules; auditors and administrators;
 *   <li>{@code POST /api/policy/validate {"text"}}: whether the text is a valid policy, with each
 *       problem's line and column; administrators;
 *   <li>{@code POST /api/policy/simulate {"statement", "environment", "user"?, "groups"?}}: the
 *       verdict the live decision point (the policy in force, the data maps) gives the statement
 *       for that identity, without running it; auditors and administrators may name anyone,
 *       everyone else simulates as themselves.
 * </ul>
 */
public final class PolicyRoutes implements RouteGroup {
  private static final String JSON = "application/json; charset=utf-8";
  private static final Set<String> SIMULATE_FIELDS =
      Set.of("statement", "environment", "user", "groups");
  private static final Pattern POSITION = Pattern.compile(":([0-9]+):([0-9]+)$");

  /** The longest policy text or statement the API takes, in characters. */
  static final int MAX_TEXT = 60_000;

  private final Supplier<Policy> policy;
  private final Optional<Path> file;
  private final Supplier<PolicyGatekeeper> gatekeeper;
  private final Environments environments;
  private final Clock clock;
  private final AuditJson json;
  private RequestAuthenticator authenticator;

  /** The version last seen, and when it was first seen. */
  private volatile long seenVersion;

  private volatile Instant seenAt;

  PolicyRoutes(
      Supplier<Policy> policy,
      Optional<Path> file,
      Supplier<PolicyGatekeeper> gatekeeper,
      Environments environments,
      Clock clock,
      AuditJson json) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.file = Objects.requireNonNull(file, "file");
    this.gatekeeper = Objects.requireNonNull(gatekeeper, "gatekeeper");
    this.environments = Objects.requireNonNull(environments, "environments");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.json = Objects.requireNonNull(json, "json");
  }

  /**
   * The policy endpoints of a server whose policy is {@code policy} (read from {@code file}, or the
   * built-in one), deciding through {@code gatekeeper} once it exists (503 before).
   */
  public static RouteGroup of(
      Supplier<Policy> policy,
      Optional<Path> file,
      Supplier<PolicyGatekeeper> gatekeeper,
      Environments environments,
      Clock clock) {
    return new PolicyRoutes(policy, file, gatekeeper, environments, clock, new AuditJson());
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = authenticator;
    routes.get("/api/policy", this::show);
    routes.post("/api/policy/validate", this::validate);
    routes.post("/api/policy/simulate", this::simulate);
  }

  private void show(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "read the policy", Roles.AUDITOR, Roles.ADMINISTRATOR);
    Policy current = policy.get();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("source", file.map(Path::toString).orElse("default"));
    body.put("version", Long.toHexString(current.version()));
    body.put("loaded_at", firstSeen(current).toString());
    body.put("default", current.defaultAction().fileName());
    String text;
    try {
      text =
          file.isPresent()
              ? Files.readString(file.get(), StandardCharsets.UTF_8)
              : PolicyFile.defaultPolicyText();
    } catch (IOException e) {
      text = "(the policy file cannot be read now: " + e.getMessage() + ")";
    }
    body.put("text", text);
    List<Object> rules = new ArrayList<>();
    for (Rule r : current.rules()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("action", r.action().fileName());
      m.put("description", r.description());
      m.put("when", r.condition());
      m.put("message", r.message());
      m.put("hint", r.hint());
      if (r.maxRows().isPresent()) {
        m.put("max_rows", r.maxRows().getAsLong());
      }
      if (r.approval().isPresent()) {
        m.put("approvers", List.copyOf(new TreeSet<>(r.approval().get().approverGroups())));
      }
      m.put("origin", r.origin());
      rules.add(m);
    }
    body.put("rules", rules);
    ok(ctx, body);
  }

  private Instant firstSeen(Policy current) {
    if (seenAt == null || seenVersion != current.version()) {
      seenVersion = current.version();
      seenAt = clock.instant();
    }
    return seenAt;
  }

  private void validate(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "validate policies", Roles.ADMINISTRATOR);
    Map<String, Object> body = ApiRequests.body(ctx, json, Set.of("text"), "text");
    String text = text(body, "text");
    Map<String, Object> answer = new LinkedHashMap<>();
    try {
      Policy parsed = PolicyFile.parse("policy", text);
      answer.put("valid", true);
      answer.put("rules", parsed.rules().size());
    } catch (PolicyException e) {
      answer.put("valid", false);
      List<Object> errors = new ArrayList<>();
      for (PolicyException.Problem p : e.problems()) {
        Map<String, Object> m = new LinkedHashMap<>();
        Matcher at = POSITION.matcher(p.origin());
        if (at.find()) {
          m.put("line", Integer.parseInt(at.group(1)));
          m.put("column", Integer.parseInt(at.group(2)));
        }
        m.put("message", p.reason());
        errors.add(m);
      }
      answer.put("errors", errors);
    } catch (RuntimeException e) {
      answer.put("valid", false);
      answer.put("errors", List.of(Map.of("message", String.valueOf(e.getMessage()))));
    }
    ok(ctx, answer);
  }

  private void simulate(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    Map<String, Object> body =
        ApiRequests.body(ctx, json, SIMULATE_FIELDS, "statement, environment, user and groups");
    String sql = text(body, "statement");
    String envName = text(body, "environment");
    Environment environment =
        environments.all().stream()
            .filter(e -> e.name().equals(envName))
            .findFirst()
            .orElseThrow(
                () ->
                    new ApiServer.ApiError(
                        400, "there is no environment " + ApiRequests.shorten(envName)));
    Identity as = identity(user, body);
    PolicyGatekeeper gate = gatekeeper.get();
    if (gate == null) {
      throw new ApiServer.ApiError(503, "the decision point is starting; try again in a moment");
    }
    SessionContext session =
        new SessionContext(
            "policy-simulate",
            as,
            environment,
            ctx.ip() + ":0",
            environment.upstream().database().orElse(environment.name()),
            "warden console");
    Decision decision =
        gate.decide(
            StatementRequest.sql(
                session,
                sql,
                Optional.empty(),
                StatementPath.SIMPLE,
                LexicalSettings.DEFAULT,
                new PreparedStatements()));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("user", as.name());
    answer.put("groups", List.copyOf(new TreeSet<>(as.groups())));
    answer.put("environment", environment.name());
    switch (decision.verdict()) {
      case Verdict.Allow a ->
          answer.put(
              "verdict",
              decision.approval().isPresent()
                  ? "require_approval"
                  : decision.observed() ? "observe" : "allow");
      case Verdict.Deny d -> {
        boolean approvable =
            decision.approval().isPresent() && !decision.approval().get().breakGlassOnly();
        answer.put("verdict", approvable ? "require_approval" : "deny");
        if (decision.approval().isPresent() && !approvable) {
          answer.put("break_glass", true); // with a reason, a break-glass approval can let it run
        }
        answer.put("sqlstate", d.sqlState());
        answer.put("message", d.message());
        answer.put("hint", d.hint());
      }
    }
    answer.put("rule", decision.rule().isEmpty() ? null : decision.rule());
    decision.rowLimit().ifPresent(limit -> answer.put("row_limit", limit));
    decision
        .approval()
        .ifPresent(a -> answer.put("approvers", List.copyOf(new TreeSet<>(a.approverGroups()))));
    answer.put("masked", decision.masking().active() && decision.masking().inspectsResults());
    List<Object> statements = new ArrayList<>();
    for (Statement s : decision.analysis().statements()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
      m.put("command", s.command());
      Set<String> tables = new TreeSet<>();
      for (TableRef t : s.tablesRead()) {
        tables.add(t.qualifiedName());
      }
      for (TableRef t : s.tablesWritten()) {
        tables.add(t.qualifiedName());
      }
      m.put("tables", List.copyOf(tables));
      Set<String> columns = new TreeSet<>();
      for (ColumnRef c : s.columnsRead()) {
        columns.add(c.toString());
      }
      for (ColumnRef c : s.columnsWritten()) {
        columns.add(c.toString());
      }
      m.put("columns", List.copyOf(columns));
      if (!s.unknownReason().isEmpty()) {
        m.put("unknown_reason", s.unknownReason());
      }
      statements.add(m);
    }
    answer.put("statements", statements);
    ok(ctx, answer);
  }

  /**
   * Who the statement is simulated for: the requester, or for auditors and administrators anyone
   * they name (with the groups they give).
   */
  private static Identity identity(Identity requester, Map<String, Object> body) {
    Object name = body.get("user");
    Object groups = body.get("groups");
    boolean other =
        (name instanceof String n && !n.isBlank() && !n.strip().equals(requester.name()))
            || groups != null;
    if (!other) {
      return requester;
    }
    Roles.require(
        requester, "simulate statements as another identity", Roles.AUDITOR, Roles.ADMINISTRATOR);
    String who = name instanceof String n && !n.isBlank() ? n.strip() : requester.name();
    if (!UserNames.isValid(who)) {
      throw new ApiServer.ApiError(400, "user must be a user name");
    }
    Set<String> set = new LinkedHashSet<>();
    if (groups != null) {
      if (!(groups instanceof List<?> items)) {
        throw new ApiServer.ApiError(400, "groups must be a list of group names");
      }
      for (Object g : items) {
        if (!(g instanceof String group) || !UserNames.isValid(group.strip())) {
          throw new ApiServer.ApiError(400, "groups must be a list of group names");
        }
        set.add(group.strip());
      }
    } else if (who.equals(requester.name())) {
      set.addAll(requester.groups());
    }
    return new Identity(who, set, AuthMethod.SCRAM_SHA_256);
  }

  private static String text(Map<String, Object> body, String field) {
    Object v = body.get(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ApiServer.ApiError(400, field + " is required");
    }
    if (s.length() > MAX_TEXT) {
      throw new ApiServer.ApiError(400, field + " is longer than " + MAX_TEXT + " characters");
    }
    return s;
  }

  private void ok(Context ctx, Object body) {
    ctx.status(200).contentType(JSON).result(json.write(body));
  }
}

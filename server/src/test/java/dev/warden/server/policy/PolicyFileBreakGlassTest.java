package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.policy.Rule;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A deny rule's {@code break_glass:} key (with its optional {@code approval:} naming who), each
 * mistake reported at its line and column, and the default policy's guardrails that carry it.
 */
class PolicyFileBreakGlassTest {
  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  /** One rule with {@code action} and {@code block} (indented as a rule's keys) under it. */
  private static String rule(String action, String block) {
    return "default: allow\nrules:\n  - name: r\n    when: 'true'\n    action: "
        + action
        + "\n"
        + block.indent(4);
  }

  private static Rule only(String text) throws PolicyException {
    return PolicyFile.parse("p.yaml", text).rules().getFirst();
  }

  @Test
  void aDenyRuleMayAllowBreakGlassByTheDefaultApprovers() throws PolicyException {
    Rule r = only(rule("deny", "break_glass: true\nmessage: no"));
    assertThat(r.breakGlass()).isTrue();
    assertThat(r.approvalRequirement())
        .isEqualTo(
            ApprovalRequirement.breakGlassOnly(
                Set.of(ApprovalRequirement.DEFAULT_APPROVERS), Duration.ofHours(1)));
    assertThat(only(rule("deny", "break_glass: false")).breakGlass()).isFalse();
    assertThat(only(rule("deny", "message: no")).breakGlass()).isFalse();
    assertThat(only(rule("deny", "break_glass: true\napproval:")).approvalRequirement())
        .isEqualTo(r.approvalRequirement());
  }

  @Test
  void itsApprovalNamesTheApproversAndHowLongTheRequestStaysOpen() throws PolicyException {
    Rule r =
        only(rule("deny", "break_glass: true\napproval:\n  approvers: [dba, sre]\n  expires: 15m"));
    assertThat(r.approvalRequirement())
        .isEqualTo(
            ApprovalRequirement.breakGlassOnly(Set.of("dba", "sre"), Duration.ofMinutes(15)));
    assertThat(r.approvalRequirement().holdTimeout()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void itsApprovalTakesNothingElse() {
    assertThat(
            problems(
                rule(
                    "deny",
                    "break_glass: true\napproval:\n  approvers: dba\n  min_approvals: 2\n"
                        + "  wait: hold\n  approver: x")))
        .containsExactly(
            "p.yaml:9:7: min_approvals does not apply to a break-glass deny rule, whose approval"
                + " takes only approvers and expires: one reviewer lets the statement through, as"
                + " break-glass with a justification, for a request made with the requester's"
                + " reason; the client is refused at once",
            "p.yaml:10:7: wait does not apply to a break-glass deny rule, whose approval takes"
                + " only approvers and expires: one reviewer lets the statement through, as"
                + " break-glass with a justification, for a request made with the requester's"
                + " reason; the client is refused at once",
            "p.yaml:11:7: unknown key 'approver' in a break-glass approval (did you mean"
                + " 'approvers'?)");
    assertThat(problems(rule("deny", "break_glass: true\napproval: {approvers: []}")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:7:");
    assertThat(problems(rule("deny", "break_glass: true\napproval: {expires: 31d}")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:7:");
  }

  @Test
  void breakGlassBelongsOnlyToDenyRulesAndIsTrueOrFalse() {
    assertThat(problems(rule("require_approval", "break_glass: true")))
        .containsExactly(
            "p.yaml:6:5: rule 'r': break_glass applies only to a deny rule (a reviewer may let a"
                + " statement it denies through once); a require_approval rule allows break-glass"
                + " with break_glass: true in its approval: block");
    assertThat(problems(rule("allow", "break_glass: true")))
        .containsExactly(
            "p.yaml:6:5: rule 'r': break_glass applies only to a deny rule (a reviewer may let a"
                + " statement it denies through once); a allow rule refuses nothing");
    assertThat(problems(rule("observe", "break_glass: false")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:6:5: rule 'r': break_glass applies only to a deny rule");
    assertThat(problems(rule("deny", "break_glass: yes please")))
        .containsExactly("p.yaml:6:18: break_glass must be true or false, found 'yes please'");
  }

  @Test
  void aDenyRulesApprovalNeedsBreakGlassAndAutoApproveIsNeverAllowed() {
    assertThat(problems(rule("deny", "approval: {approvers: dba}")))
        .containsExactly(
            "p.yaml:6:5: rule 'r': approval: on a deny rule says who may let a denied statement"
                + " through as break-glass; add break_glass: true, or remove it");
    assertThat(
            problems(rule("deny", "break_glass: true\nauto_approve:\n  - {name: a, when: 'true'}")))
        .containsExactly(
            "p.yaml:7:5: rule 'r': auto_approve: applies only to a require_approval rule; a deny"
                + " rule waits for no approval");
  }

  @Test
  void breakGlassIsPartOfThePolicyVersion() throws PolicyException {
    Policy with = PolicyFile.parse("p.yaml", rule("deny", "break_glass: true"));
    Policy without = PolicyFile.parse("p.yaml", rule("deny", "break_glass: false"));
    Policy unwritten = PolicyFile.parse("p.yaml", rule("deny", ""));
    assertThat(with.version()).isNotEqualTo(without.version());
    assertThat(without.version()).isEqualTo(unwritten.version());
  }

  /**
   * The default policy's production guardrails: which a reviewer may let through once, and that
   * their refusals read as before (the decision's verdict is what a client without approvals gets).
   */
  @Test
  void theDefaultPolicysGuardrailsThatAReviewerMayLetThrough() {
    PolicyGatekeeper gate =
        new PolicyGatekeeper(
            new PostgresAnalyzer(), PolicyFile::defaultPolicy, Set.of(), InstantSource.system());
    SessionContext prod =
        new SessionContext(
            "s1",
            new dev.warden.core.identity.Identity(
                "alice", Set.of("dev"), dev.warden.core.identity.AuthMethod.SCRAM_SHA_256),
            new dev.warden.core.environment.Environment(
                "prod",
                Set.of("production"),
                List.of("*"),
                new dev.warden.core.environment.Upstream(
                    "localhost",
                    5432,
                    Optional.empty(),
                    "postgres",
                    dev.warden.core.identity.Secret.of(""),
                    dev.warden.core.environment.TlsMode.DISABLE,
                    Optional.empty())),
            "10.1.2.3:51234",
            "shop",
            "psql");
    Map<String, String> breakGlass = new TreeMap<>();
    breakGlass.put("DROP TABLE orders", "production-drop");
    breakGlass.put("TRUNCATE orders", "production-truncate");
    breakGlass.put("DELETE FROM orders", "production-unbounded-write");
    breakGlass.put("ALTER SYSTEM SET work_mem = '64MB'", "production-alter-system");
    breakGlass.put("COPY orders TO PROGRAM 'cat'", "production-copy-program-or-file");
    breakGlass.put("SET ROLE postgres", "production-role-switch");
    breakGlass.put("SELECT pg_terminate_backend(1)", "production-side-effects");
    breakGlass.put("DO $$ BEGIN END $$", "production-dynamic-sql");
    breakGlass.put("SELECT myschema.myfunction()", "production-user-function");
    for (Map.Entry<String, String> e : breakGlass.entrySet()) {
      Decision d = decide(gate, prod, e.getKey(), StatementPath.SIMPLE);
      assertThat(d.rule()).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(d.verdict()).as(e.getKey()).isInstanceOf(Verdict.Deny.class);
      assertThat(((Verdict.Deny) d.verdict()).message())
          .as(e.getKey())
          .startsWith("Warden refused this statement: ")
          .doesNotContain("approval is required");
      assertThat(d.approval())
          .as(e.getKey())
          .hasValueSatisfying(
              a -> {
                assertThat(a.breakGlassOnly()).isTrue();
                assertThat(a.approverGroups()).containsExactly("approvers");
              });
    }
    // On the extended protocol what the guardrails deny is refused at Parse, as before.
    for (String sql : breakGlass.keySet()) {
      Decision prepared = decide(gate, prod, sql, StatementPath.PREPARED);
      assertThat(prepared.approval()).as(sql).isEmpty();
      assertThat(prepared.verdict())
          .as(sql)
          .isEqualTo(decide(gate, prod, sql, StatementPath.SIMPLE).verdict());
    }
    // What Warden cannot read, it cannot let through.
    Decision unknown = decide(gate, prod, "SELEC 1", StatementPath.SIMPLE);
    assertThat(unknown.rule()).isEqualTo("production-unknown");
    assertThat(unknown.approval()).isEmpty();
    Decision call =
        gate.decide(StatementRequest.functionCall(prod, 16_384, new PreparedStatements()));
    assertThat(call.rule()).isEqualTo("production-function-call");
    assertThat(call.approval()).isEmpty();
    // Warden's own integrity is never break-glass.
    Decision identity = decide(gate, prod, "SET warden.identity = 'bob'", StatementPath.SIMPLE);
    assertThat(identity.rule()).isEqualTo("identity-setting");
    assertThat(identity.approval()).isEmpty();
  }

  private static Decision decide(
      PolicyGatekeeper gate, SessionContext session, String sql, StatementPath path) {
    return gate.decide(
        StatementRequest.sql(
            session,
            sql,
            Optional.empty(),
            path,
            LexicalSettings.DEFAULT,
            new PreparedStatements()));
  }
}

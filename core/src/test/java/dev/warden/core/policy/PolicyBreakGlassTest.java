package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.delete;
import static dev.warden.core.policy.Facts.drop;
import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.select;
import static dev.warden.core.policy.Facts.session;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Break-glass for guardrail denials in policy: a {@code deny} rule with {@code break_glass} keeps
 * its refusal word for word and carries a requirement only break-glass can meet; a text is offered
 * break-glass only when one break-glass approval may lift every refusal in it; never on the
 * FunctionCall path, never automatically, never in observe-only mode (where it runs anyway).
 */
class PolicyBreakGlassTest {
  private static final SessionContext PROD =
      session("alice", Set.of("dev"), environment("prod", "production"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("dev"), environment("shadow", "production"));

  private static final ApprovalRequirement BY_APPROVERS =
      ApprovalRequirement.breakGlassOnly(Set.of("approvers"), Duration.ofHours(1));
  private static final ApprovalRequirement BY_DBA =
      ApprovalRequirement.breakGlassOnly(Set.of("dba"), Duration.ofMinutes(30));

  private final Facts facts =
      new Facts()
          .with("SELECT", select("orders"))
          .with("DROP", drop("orders"))
          .with("DELETE ALL", delete("orders", false))
          .with("DELETE WHERE", delete("orders", true))
          .with("DELETE ALL; DROP", delete("orders", false), drop("orders"))
          .with("DELETE ALL; DROP LINES", delete("orders", false), drop("order_lines"))
          .with("DROP; DELETE WHERE", drop("orders"), delete("orders", true))
          .with("SELECT; DROP", select("orders"), drop("orders"));

  private final AtomicReference<Policy> current = new AtomicReference<>(policy());
  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, current::get, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

  /**
   * Drops of order_lines are denied for good; other drops and unbounded deletes may be let through
   * as break-glass by approvers; deletes with a WHERE clause wait for an ordinary approval.
   */
  static Policy policy() {
    return compile(
        deny(
            "no-drop-lines",
            "statement.command == 'DROP TABLE' && 'public.order_lines' in" + " statement.tables",
            Optional.empty()),
        deny("no-drop", "'destructive' in statement.flags", Optional.of(BY_APPROVERS))
            .withMessage("DROP is not allowed in production", "Ask for approval."),
        deny("no-unbounded", "'unbounded' in statement.flags", Optional.of(BY_APPROVERS)),
        Rule.of("deletes", "statement.command == 'DELETE'", PolicyAction.REQUIRE_APPROVAL));
  }

  static Rule deny(String name, String condition, Optional<ApprovalRequirement> breakGlass) {
    return new Rule(
        name,
        "",
        condition,
        PolicyAction.DENY,
        Rule.DEFAULT_SQLSTATE,
        "",
        "",
        OptionalLong.empty(),
        "",
        breakGlass,
        List.of());
  }

  private static Policy compile(Rule... rules) {
    try {
      return Policy.compile("test", List.of(rules), PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private Decision decide(SessionContext session, String sql) {
    return decide(session, sql, StatementPath.SIMPLE);
  }

  private Decision decide(SessionContext session, String sql, StatementPath path) {
    return gate.decide(
        StatementRequest.sql(
            session,
            sql,
            Optional.empty(),
            path,
            LexicalSettings.DEFAULT,
            new PreparedStatements()));
  }

  @Test
  void aBreakGlassDenyRuleKeepsItsRefusalAndCarriesARequirementOnlyBreakGlassMeets() {
    Decision d = decide(PROD, "DROP");
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(d.verdict())
        .isEqualTo(
            new Verdict.Deny(
                "42501",
                "Warden refused this statement: DROP is not allowed in production (rule"
                    + " \"no-drop\")",
                "Ask for approval."));
    assertThat(d.approval()).contains(BY_APPROVERS);
    assertThat(d.approval().orElseThrow().breakGlassOnly()).isTrue();

    // The same rule without break_glass refuses with exactly the same words, and nothing else.
    current.set(
        compile(
            deny("no-drop", "'destructive' in statement.flags", Optional.empty())
                .withMessage("DROP is not allowed in production", "Ask for approval.")));
    Decision plain = decide(PROD, "DROP");
    assertThat(plain.verdict()).isEqualTo(d.verdict());
    assertThat(plain.approval()).isEmpty();
  }

  @Test
  void aDenyRuleWithoutBreakGlassCarriesNoApproval() {
    current.set(
        compile(
            deny("no-drop-lines", "'destructive' in statement.flags", Optional.empty()),
            deny("no-drop", "'destructive' in statement.flags", Optional.of(BY_APPROVERS))));
    assertThat(decide(PROD, "DROP").rule()).isEqualTo("no-drop-lines");
    assertThat(decide(PROD, "DROP").approval()).isEmpty();
    assertThat(decide(PROD, "SELECT").approval()).isEmpty();
  }

  @Test
  void aTextIsOfferedBreakGlassOnlyWhenOneBreakGlassApprovalLiftsEveryRefusal() {
    // Two break-glass denials by the same approvers: one break-glass lifts both.
    Decision both = decide(PROD, "DELETE ALL; DROP");
    assertThat(both.rule()).isEqualTo("no-unbounded");
    assertThat(both.approval()).contains(BY_APPROVERS);
    assertThat(decide(PROD, "SELECT; DROP").approval()).contains(BY_APPROVERS);

    // One of them denied for good: no approval lifts the text.
    Decision forGood = decide(PROD, "DELETE ALL; DROP LINES");
    assertThat(forGood.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(forGood.approval()).isEmpty();

    // A statement needing an ordinary approval that allows break-glass, from the same group.
    assertThat(decide(PROD, "DROP; DELETE WHERE").approval()).contains(BY_APPROVERS);
  }

  @Test
  void aTextMixingApproverGroupsOrAnApprovalWithoutBreakGlassIsNotOffered() {
    current.set(
        compile(
            deny("no-drop", "'destructive' in statement.flags", Optional.of(BY_DBA)),
            deny("no-unbounded", "'unbounded' in statement.flags", Optional.of(BY_APPROVERS)),
            Rule.of("deletes", "statement.command == 'DELETE'", PolicyAction.REQUIRE_APPROVAL)
                .withApproval(
                    new ApprovalRequirement(
                        Set.of("dba"),
                        2,
                        false,
                        ApprovalRequirement.Wait.ERROR,
                        Duration.ofMinutes(5),
                        Duration.ofHours(1),
                        false,
                        false),
                    List.of())));
    assertThat(decide(PROD, "DROP").approval()).contains(BY_DBA);
    assertThat(decide(PROD, "DELETE ALL; DROP").approval()).as("dba and approvers").isEmpty();
    assertThat(decide(PROD, "DROP; DELETE WHERE").approval())
        .as("the delete's two approvals cannot be replaced by one break-glass")
        .isEmpty();
  }

  @Test
  void aFunctionCallIsNeverOfferedBreakGlass() {
    current.set(compile(deny("no-calls", "true", Optional.of(BY_APPROVERS))));
    Decision call =
        gate.decide(StatementRequest.functionCall(PROD, 16_384, new PreparedStatements()));
    assertThat(call.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(call.rule()).isEqualTo("no-calls");
    assertThat(call.approval()).isEmpty();
    assertThat(decide(PROD, "SELECT").approval()).contains(BY_APPROVERS);
  }

  @Test
  void onlyASimpleQueryIsOfferedBreakGlass() {
    current.set(compile(deny("no-anything", "true", Optional.of(BY_APPROVERS))));
    for (String sql : List.of("SELECT", "DROP", "DELETE ALL")) {
      Decision prepared = decide(PROD, sql, StatementPath.PREPARED);
      assertThat(prepared.approval()).as(sql).isEmpty();
      assertThat(prepared.verdict()).as(sql).isEqualTo(decide(PROD, sql).verdict());
      assertThat(decide(PROD, sql, StatementPath.SIMPLE).approval()).as(sql).contains(BY_APPROVERS);
    }
  }

  @Test
  void aSimpleQueryJudgedAgainAfterAPolicyChangeIsStillOfferedBreakGlass() {
    Decision d = decide(PROD, "DROP");
    // A new version: the earlier decision is judged again.
    current.set(
        compile(
            deny("no-drop", "'destructive' in statement.flags", Optional.of(BY_APPROVERS)),
            Rule.of("nothing-else", "false", PolicyAction.ALLOW)));
    Decision again =
        gate.recheck(PROD, new PreparedStatements(), dev.warden.core.statement.Relations.NONE, d);
    assertThat(again).isNotSameAs(d);
    assertThat(again.approval()).contains(BY_APPROVERS);
    Decision prepared = decide(PROD, "DROP", StatementPath.PREPARED);
    assertThat(
            gate.recheck(
                    PROD,
                    new PreparedStatements(),
                    dev.warden.core.statement.Relations.NONE,
                    prepared)
                .approval())
        .isEmpty();
  }

  @Test
  void aRuleThatFailsToEvaluateIsNeverOfferedBreakGlass() {
    current.set(compile(deny("broken", "statement.tables[5] == 'x'", Optional.of(BY_APPROVERS))));
    Decision d = decide(PROD, "SELECT");
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(((Verdict.Deny) d.verdict()).message()).contains("could not be evaluated");
    assertThat(d.approval()).isEmpty();
  }

  @Test
  void observeOnlyRunsItMarkedWithTheRuleAsBefore() {
    Decision d = decide(SHADOW, "DROP");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).isTrue();
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(d.approval()).isEmpty();
  }

  @Test
  void noAutomaticApprovalLetsADeniedStatementThrough() {
    Decision d = decide(PROD, "DELETE ALL");
    assertThat(d.approval()).contains(BY_APPROVERS);
    assertThat(gate.autoApproval(d, PROD, 0, "INC-9")).isEmpty();
  }

  @Test
  void aRuleAcceptsABreakGlassOnlyRequirementOnDenyAndNowhereElse() {
    assertThat(deny("d", "true", Optional.of(BY_APPROVERS)).breakGlass()).isTrue();
    assertThat(deny("d", "true", Optional.of(BY_APPROVERS)).approvalRequirement())
        .isEqualTo(BY_APPROVERS);
    assertThat(deny("d", "true", Optional.empty()).breakGlass()).isFalse();
    assertThatThrownBy(() -> deny("d", "true", Optional.of(ApprovalRequirement.DEFAULT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("break-glass");
    assertThatThrownBy(
            () ->
                Rule.of("r", "true", PolicyAction.REQUIRE_APPROVAL)
                    .withApproval(BY_APPROVERS, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("deny with break_glass");
    for (PolicyAction action : List.of(PolicyAction.ALLOW, PolicyAction.OBSERVE)) {
      assertThatThrownBy(
              () ->
                  new Rule(
                      "r",
                      "",
                      "true",
                      action,
                      "42501",
                      "",
                      "",
                      OptionalLong.empty(),
                      "",
                      Optional.of(BY_APPROVERS),
                      List.of()))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void breakGlassChangesThePolicyVersion() {
    Policy with = compile(deny("no-drop", "true", Optional.of(BY_APPROVERS)));
    Policy without = compile(deny("no-drop", "true", Optional.empty()));
    Policy otherGroups = compile(deny("no-drop", "true", Optional.of(BY_DBA)));
    assertThat(with.version()).isNotEqualTo(without.version());
    assertThat(with.version()).isNotEqualTo(otherGroups.version());
  }

  @Test
  void aBreakGlassOnlyRequirementAllowsBreakGlassNeedsAReasonAndNeverHolds() {
    assertThat(BY_APPROVERS.breakGlass()).isTrue();
    assertThat(BY_APPROVERS.reasonRequired()).isTrue();
    assertThat(BY_APPROVERS.minApprovals()).isEqualTo(1);
    assertThat(BY_APPROVERS.waiting()).isEqualTo(ApprovalRequirement.Wait.ERROR);
    assertThat(BY_DBA.holdTimeout()).isLessThanOrEqualTo(BY_DBA.lifetime());
    assertThat(ApprovalRequirement.DEFAULT.breakGlassOnly()).isFalse();
    assertThatThrownBy(
            () ->
                new ApprovalRequirement(
                    Set.of("approvers"),
                    1,
                    false,
                    ApprovalRequirement.Wait.ERROR,
                    Duration.ofMinutes(10),
                    Duration.ofHours(1),
                    false,
                    true,
                    true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("require a reason");
    assertThatThrownBy(
            () ->
                new ApprovalRequirement(
                    Set.of("approvers"),
                    1,
                    false,
                    ApprovalRequirement.Wait.HOLD,
                    Duration.ofMinutes(10),
                    Duration.ofHours(1),
                    true,
                    true,
                    true))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

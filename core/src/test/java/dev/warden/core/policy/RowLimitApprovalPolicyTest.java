package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.delete;
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
import org.junit.jupiter.api.Test;

/**
 * {@code over_max_rows: require_approval}: an allow or observe rule's change over its {@code
 * max_rows} waits for the rule's approval instead of being refused for good. The decision carries
 * the limit, its refusal and the approval; the rule's automatic approvals read the measured rows;
 * the rule itself refuses what cannot work (a held wait, no limit, a refusing action).
 */
class RowLimitApprovalPolicyTest {
  private static final SessionContext PROD =
      session("alice", Set.of("owners"), environment("prod", "production"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("owners"), environment("shadow", "production"));

  private static final ApprovalRequirement DBA =
      new ApprovalRequirement(
          Set.of("dba"),
          1,
          false,
          ApprovalRequirement.Wait.ERROR,
          Duration.ofMinutes(10),
          Duration.ofHours(2),
          false,
          true);

  private final Facts facts =
      new Facts()
          .with("SELECT", select("orders"))
          .with("DELETE ORDERS", delete("orders", true))
          .with("DELETE LINES", delete("order_lines", true))
          .with("DELETE LINES; DELETE ORDERS", delete("order_lines", true), delete("orders", true));

  /**
   * Deletes from orders: at most 100 rows, more waits for dba (automatically approved up to 500 for
   * owners); deletes from order_lines: at most 10 rows, and more is refused.
   */
  private final Policy policy =
      compile(
          Rule.of(
                  "orders-deletes",
                  "statement.command == 'DELETE' && 'orders' in statement.tables",
                  PolicyAction.ALLOW)
              .withMaxRows(100)
              .withApproval(
                  DBA,
                  List.of(
                      AutoApproval.of(
                          "owners-up-to-500",
                          "rows >= 0 && rows <= 500 && 'owners' in identity.groups"))),
          Rule.of(
                  "lines-deletes",
                  "statement.command == 'DELETE' && 'order_lines' in statement.tables",
                  PolicyAction.ALLOW)
              .withMaxRows(10));

  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, () -> policy, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

  private static Policy compile(Rule... rules) {
    try {
      return Policy.compile("test", List.of(rules), PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private Decision decide(SessionContext session, String sql) {
    return gate.decide(
        StatementRequest.sql(
            session,
            sql,
            Optional.empty(),
            StatementPath.SIMPLE,
            LexicalSettings.DEFAULT,
            new PreparedStatements()));
  }

  private Optional<String> auto(Decision d, long rows) {
    return gate.autoApproval(d, PROD, StatementPath.SIMPLE, new PreparedStatements(), rows, "");
  }

  @Test
  void anAllowedChangeCarriesItsLimitAndTheApprovalAChangeOverItWaitsFor() {
    Decision d = decide(PROD, "DELETE ORDERS");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.approval()).isEmpty();
    assertThat(d.rowLimit()).hasValue(100);
    assertThat(d.rowLimitDenial().message()).contains("more than 100 rows").contains("orders");
    assertThat(d.rowLimitApproval()).contains(DBA);
    assertThat(policy.rules().getFirst().approvesOverMaxRows()).isTrue();
  }

  @Test
  void aLimitWithoutOverMaxRowsIsFinal() {
    Decision d = decide(PROD, "DELETE LINES");
    assertThat(d.rowLimit()).hasValue(10);
    assertThat(d.rowLimitApproval()).isEmpty();
    assertThat(policy.rules().get(1).approvesOverMaxRows()).isFalse();
    assertThat(auto(d, 11)).isEmpty();
  }

  @Test
  void theSmallestLimitOfATextDecidesWhetherGoingOverItMayBeApproved() {
    Decision d = decide(PROD, "DELETE LINES; DELETE ORDERS");
    assertThat(d.rowLimit()).hasValue(10);
    assertThat(d.rowLimitApproval()).as("the lines limit is final").isEmpty();
  }

  @Test
  void observeOnlySetsNoLimitAndSoNothingWaits() {
    Decision d = decide(SHADOW, "DELETE ORDERS");
    assertThat(d.rowLimit()).isEmpty();
    assertThat(d.rowLimitApproval()).isEmpty();
  }

  @Test
  void theRulesAutomaticApprovalsReadTheMeasuredRows() {
    Decision d = decide(PROD, "DELETE ORDERS");
    assertThat(auto(d, 300)).contains("owners-up-to-500");
    assertThat(auto(d, 501)).isEmpty();
    assertThat(auto(d, -1)).as("not measured is not small").isEmpty();
    SessionContext other = session("bob", Set.of("dev"), environment("prod", "production"));
    assertThat(gate.autoApproval(d, other, 300, "")).isEmpty();
    assertThat(gate.autoApproval(d, PROD, 300, "")).contains("owners-up-to-500");
    assertThat(auto(decide(PROD, "SELECT"), 300)).as("no limit, nothing to approve").isEmpty();
  }

  @Test
  void aDecisionCannotCarryAnApprovalForALimitItDoesNotHave() {
    assertThatThrownBy(
            () ->
                new Decision(
                    Verdict.ALLOW,
                    decide(PROD, "SELECT").analysis(),
                    "",
                    false,
                    OptionalLong.empty(),
                    null,
                    1,
                    true,
                    dev.warden.core.masking.ResultMasking.NONE,
                    Optional.empty(),
                    Optional.of(DBA)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("row limit");
  }

  @Test
  void theRuleRefusesAnApprovalThatCannotApplyToAChangeOverItsLimit() {
    Rule allow = Rule.of("r", "true", PolicyAction.ALLOW);
    assertThatThrownBy(() -> allow.withApproval(DBA, List.of()))
        .as("no max_rows")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max_rows");
    ApprovalRequirement held =
        new ApprovalRequirement(
            Set.of("dba"),
            1,
            false,
            ApprovalRequirement.Wait.HOLD,
            Duration.ofMinutes(1),
            Duration.ofHours(1),
            false,
            true);
    assertThatThrownBy(() -> allow.withMaxRows(5).withApproval(held, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wait: error");
    assertThatThrownBy(
            () ->
                new Rule(
                    "r",
                    "",
                    "true",
                    PolicyAction.ALLOW,
                    Rule.DEFAULT_SQLSTATE,
                    "",
                    "",
                    OptionalLong.of(5),
                    "",
                    Optional.empty(),
                    List.of(AutoApproval.of("a", "true"))))
        .as("automatic approvals without over_max_rows")
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("auto_approve");
    Rule observe = Rule.of("o", "true", PolicyAction.OBSERVE).withMaxRows(5);
    assertThat(observe.withApproval(DBA, List.of()).approvesOverMaxRows()).isTrue();
  }

  @Test
  void theVersionChangesWhenAChangeOverTheLimitMayBeApproved() {
    Rule limited = Rule.of("r", "true", PolicyAction.ALLOW).withMaxRows(5);
    assertThat(compile(limited).version())
        .isNotEqualTo(compile(limited.withApproval(DBA, List.of())).version());
  }
}

package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.delete;
import static dev.warden.core.policy.Facts.drop;
import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.execute;
import static dev.warden.core.policy.Facts.prepare;
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
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.StatementResultMasking;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Approvals in policy: a require_approval rule's decision refuses and carries what an approval
 * needs; several statements combine strictest first; observe-only lets it run; automatic approvals
 * read the measured rows and the reason, and nothing else may.
 */
class PolicyApprovalTest {
  private static final SessionContext PROD =
      session("alice", Set.of("owners"), environment("prod", "production"));
  private static final SessionContext PROD_OTHER =
      session("bob", Set.of("dev"), environment("prod", "production"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("owners"), environment("shadow", "production"));

  private static final ApprovalRequirement DBA_TWICE =
      new ApprovalRequirement(
          Set.of("dba", "approvers"),
          2,
          false,
          ApprovalRequirement.Wait.HOLD,
          Duration.ofMinutes(5),
          Duration.ofHours(2),
          true,
          false);

  private final Facts facts =
      new Facts()
          .with("SELECT", select("orders"))
          .with("DROP", drop("orders"))
          .with("DELETE WHERE", delete("orders", true))
          .with("DELETE LINES", delete("order_lines", true))
          .with("SELECT; DELETE WHERE", select("orders"), delete("orders", true))
          .with("DELETE WHERE; DROP", delete("orders", true), drop("orders"))
          .with("DELETE LINES; DELETE WHERE", delete("order_lines", true), delete("orders", true))
          .with("DELETE WHERE; SELECT", delete("orders", true), select("orders"))
          .with("PREPARE p DELETE WHERE", prepare("p", delete("orders", true)))
          .with("EXECUTE p", execute("p"));

  private final AtomicReference<Policy> current = new AtomicReference<>(policy());
  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, current::get, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

  /**
   * Drops are denied; deletes of {@code orders} need two approvals from dba or approvers (and are
   * approved automatically when small and by owners); deletes of {@code order_lines} need the
   * default approval.
   */
  static Policy policy() {
    return compile(
        PolicyAction.ALLOW,
        Rule.of("no-drop", "'destructive' in statement.flags", PolicyAction.DENY),
        Rule.of(
                "orders-deletes",
                "statement.command == 'DELETE' && 'orders' in statement.tables",
                PolicyAction.REQUIRE_APPROVAL)
            .withMessage("deletes from orders", "")
            .withApproval(
                DBA_TWICE,
                List.of(
                    AutoApproval.of(
                        "broken-first",
                        "statement.tables[5] == 'x'"), // fails at run time: cannot approve
                    AutoApproval.of(
                        "small-deletes-by-owners",
                        "statement.has_where && rows >= 0 && rows <= 100"
                            + " && 'owners' in identity.groups"),
                    AutoApproval.of("with-a-ticket", "request.reason.startsWith('TICKET-')"))),
        Rule.of(
            "lines-deletes",
            "statement.command == 'DELETE' && 'order_lines' in statement.tables",
            PolicyAction.REQUIRE_APPROVAL));
  }

  private static Policy compile(PolicyAction defaultAction, Rule... rules) {
    try {
      return Policy.compile("test", List.of(rules), defaultAction);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private Decision decide(SessionContext session, String sql, PreparedStatements prepared) {
    return decide(gate, session, sql, prepared);
  }

  private static Decision decide(
      PolicyGatekeeper gate, SessionContext session, String sql, PreparedStatements prepared) {
    return gate.decide(
        StatementRequest.sql(
            session,
            sql,
            Optional.empty(),
            StatementPath.SIMPLE,
            LexicalSettings.DEFAULT,
            prepared));
  }

  private Decision decide(SessionContext session, String sql) {
    return decide(session, sql, new PreparedStatements());
  }

  private Optional<String> auto(Decision d, SessionContext session, long rows, String reason) {
    return gate.autoApproval(
        d, session, StatementPath.SIMPLE, new PreparedStatements(), rows, reason);
  }

  @Test
  void aRequireApprovalRuleRefusesAndCarriesItsRequirement() {
    Decision d = decide(PROD, "DELETE WHERE");
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class);
    Verdict.Deny deny = (Verdict.Deny) d.verdict();
    assertThat(deny.message())
        .isEqualTo(
            "Warden refused this statement: approval is required: deletes from orders"
                + " (rule \"orders-deletes\")");
    assertThat(deny.hint())
        .isEqualTo(
            "It runs once 2 members of approvers or dba approve it; the requester cannot approve"
                + " their own statement.");
    assertThat(d.rule()).isEqualTo("orders-deletes");
    assertThat(d.approval()).contains(DBA_TWICE);
    assertThat(d.observed()).isFalse();
    assertThat(d.reusable()).isTrue();
    assertThat(decide(PROD, "DELETE WHERE")).as("cached like any decision").isSameAs(d);
  }

  @Test
  void aRuleWithoutAnApprovalBlockAndThePolicysDefaultNeedTheDefaultApproval() {
    Decision lines = decide(PROD, "DELETE LINES");
    assertThat(lines.rule()).isEqualTo("lines-deletes");
    assertThat(lines.approval()).contains(ApprovalRequirement.DEFAULT);
    assertThat(((Verdict.Deny) lines.verdict()).hint())
        .isEqualTo(
            "It runs once a member of approvers approves it; the requester cannot approve their"
                + " own statement.");

    current.set(compile(PolicyAction.REQUIRE_APPROVAL));
    Decision byDefault = decide(PROD, "SELECT");
    assertThat(byDefault.rule()).isEmpty();
    assertThat(byDefault.approval()).contains(ApprovalRequirement.DEFAULT);
    assertThat(((Verdict.Deny) byDefault.verdict()).message())
        .startsWith("Warden refused this statement: approval is required");
    assertThat(auto(byDefault, PROD, 0, "TICKET-1")).as("no rule, no automatic approval").isEmpty();
  }

  @Test
  void deniesAndAllowsCarryNoApproval() {
    assertThat(decide(PROD, "DROP").approval()).isEmpty();
    assertThat(decide(PROD, "SELECT").approval()).isEmpty();
    assertThat(decide(PROD, "SELECT").verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void aTextWithAStatementDeniedOutrightIsDeniedWithoutApproval() {
    Decision d = decide(PROD, "DELETE WHERE; DROP");
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(d.approval()).isEmpty();
  }

  @Test
  void aTextWhoseStrictestOutcomeIsApprovalWaitsForTheFirstSuchRule() {
    Decision mixed = decide(PROD, "SELECT; DELETE WHERE");
    assertThat(mixed.rule()).isEqualTo("orders-deletes");
    assertThat(mixed.approval()).contains(DBA_TWICE);

    Decision two = decide(PROD, "DELETE LINES; DELETE WHERE");
    assertThat(two.rule()).isEqualTo("lines-deletes");
    assertThat(two.approval()).contains(ApprovalRequirement.DEFAULT);
  }

  @Test
  void anApprovalDecisionKeepsTheRowLimitOfAnAllowedStatementOfTheSameText() {
    current.set(
        compile(
            PolicyAction.ALLOW,
            Rule.of("lines", "'order_lines' in statement.tables", PolicyAction.ALLOW)
                .withMaxRows(5),
            Rule.of("orders", "'orders' in statement.tables", PolicyAction.REQUIRE_APPROVAL)));
    Decision d = decide(PROD, "DELETE LINES; DELETE WHERE");
    assertThat(d.approval()).isPresent();
    assertThat(d.rowLimit()).hasValue(5);
    assertThat(d.rowLimitDenial().message()).contains("more than 5 rows");
    assertThat(decide(PROD, "DELETE WHERE").rowLimit()).isEmpty();
  }

  @Test
  void observeOnlyLetsAStatementNeedingApprovalRunMarkedWithTheRule() {
    Decision d = decide(SHADOW, "DELETE WHERE");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).isTrue();
    assertThat(d.rule()).isEqualTo("orders-deletes");
    assertThat(d.approval()).isEmpty();

    Decision denied = decide(SHADOW, "DELETE WHERE; DROP");
    assertThat(denied.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(denied.rule()).as("the strictest rule is recorded").isEqualTo("no-drop");
  }

  @Test
  void anAutomaticApprovalApprovesWithinItsRowLimitAndNotBeyond() {
    Decision d = decide(PROD, "DELETE WHERE");
    assertThat(auto(d, PROD, 0, "")).contains("small-deletes-by-owners");
    assertThat(auto(d, PROD, 100, "")).contains("small-deletes-by-owners");
    assertThat(auto(d, PROD, 101, "")).isEmpty();
    assertThat(auto(d, PROD, -1, "")).as("not measured").isEmpty();
    assertThat(auto(d, PROD_OTHER, 5, "")).as("not an owner").isEmpty();
  }

  @Test
  void anAutomaticApprovalReadsTheReason() {
    Decision d = decide(PROD_OTHER, "DELETE WHERE");
    assertThat(auto(d, PROD_OTHER, 5000, "TICKET-42 cleanup")).contains("with-a-ticket");
    assertThat(auto(d, PROD_OTHER, 5000, "cleanup")).isEmpty();
  }

  @Test
  void everyStatementNeedingApprovalMustBeApprovedAutomatically() {
    // order_lines' rule has no automatic approvals: a person must approve the text.
    assertThat(auto(decide(PROD, "DELETE LINES; DELETE WHERE"), PROD, 1, "")).isEmpty();
    // A statement that needs no approval does not stand in the way.
    assertThat(auto(decide(PROD, "DELETE WHERE; SELECT"), PROD, 1, ""))
        .contains("small-deletes-by-owners");
  }

  @Test
  void anExecuteIsApprovedAutomaticallyAsWhatItRuns() {
    PreparedStatements prepared = new PreparedStatements();
    Decision prepare = decide(PROD, "PREPARE p DELETE WHERE", prepared);
    assertThat(prepare.approval()).contains(DBA_TWICE);
    prepared.prepared("p", delete("orders", true)); // as if approved and run
    Decision execute = decide(PROD, "EXECUTE p", prepared);
    assertThat(execute.approval()).contains(DBA_TWICE);
    assertThat(gate.autoApproval(execute, PROD, StatementPath.SIMPLE, prepared, 3, ""))
        .contains("small-deletes-by-owners");
    assertThat(
            gate.autoApproval(execute, PROD, StatementPath.SIMPLE, new PreparedStatements(), 3, ""))
        .as("an EXECUTE of a name not prepared is unknown, and approves nothing")
        .isEmpty();
  }

  @Test
  void withoutThePathAndThePreparedStatementsAnAutomaticApprovalMustHoldForEitherPath() {
    Decision d = decide(PROD, "DELETE WHERE");
    assertThat(gate.autoApproval(d, PROD, 50, "")).contains("small-deletes-by-owners");
    assertThat(gate.autoApproval(d, PROD, 500, "")).isEmpty();

    current.set(
        compile(
            PolicyAction.ALLOW,
            Rule.of("deletes", "statement.command == 'DELETE'", PolicyAction.REQUIRE_APPROVAL)
                .withApproval(
                    ApprovalRequirement.DEFAULT,
                    List.of(AutoApproval.of("simple-only", "request.path == 'simple'")))));
    Decision bySimple = decide(PROD, "DELETE WHERE");
    assertThat(auto(bySimple, PROD, 1, "")).as("the simple path, known").contains("simple-only");
    assertThat(gate.autoApproval(bySimple, PROD, 1, ""))
        .as("the path unknown: it might have come prepared")
        .isEmpty();

    current.set(policy());
    PreparedStatements prepared = new PreparedStatements();
    prepared.prepared("p", delete("orders", true));
    Decision execute = decide(PROD, "EXECUTE p", prepared);
    assertThat(execute.approval()).isPresent();
    assertThat(gate.autoApproval(execute, PROD, 1, ""))
        .as("what the EXECUTE runs is unknown without the session's prepared statements")
        .isEmpty();
  }

  @Test
  void noAutomaticApprovalForADecisionWithoutApprovalOrFromAnotherPolicy() {
    assertThat(auto(decide(PROD, "SELECT"), PROD, 0, "")).isEmpty();
    Decision d = decide(PROD, "DELETE WHERE");
    current.set(
        compile(
            PolicyAction.ALLOW,
            Rule.of("orders-deletes", "statement.command == 'DELETE'", PolicyAction.DENY)));
    assertThat(auto(d, PROD, 0, "")).isEmpty();
  }

  @Test
  void anApprovalDecisionIsMaskedAsAnAllowedOneWouldBe() {
    DataMap empty = DataMap.of("any", "shop", 1, Instant.EPOCH, List.of());
    DataMaps maps =
        new DataMaps() {
          @Override
          public CompletableFuture<DataMap> ready(String environment, String database) {
            return CompletableFuture.completedFuture(empty);
          }

          @Override
          public Optional<DataMap> current(String environment, String database) {
            return Optional.of(empty);
          }

          @Override
          public void schemaChanged(String environment, String database) {}

          @Override
          public void unknownRelation(String environment, String database, long id) {}
        };
    PolicyGatekeeper masking =
        new PolicyGatekeeper(
            facts, current::get, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH), maps);
    Decision d = decide(masking, PROD, "DELETE WHERE", new PreparedStatements());
    assertThat(d.approval()).contains(DBA_TWICE);
    assertThat(d.masking())
        .as("once approved it runs, and its results must be masked")
        .isInstanceOf(StatementResultMasking.class);
    Decision denied = decide(masking, PROD, "DROP", new PreparedStatements());
    assertThat(denied.masking()).isNotInstanceOf(StatementResultMasking.class);
  }

  @Test
  void rowsAndTheReasonExistOnlyInAutomaticApprovals() {
    assertThatThrownBy(
            () ->
                Policy.compile(
                    "t",
                    List.of(
                        new Rule(
                            "big",
                            "",
                            "rows > 100",
                            PolicyAction.DENY,
                            Rule.DEFAULT_SQLSTATE,
                            "",
                            "",
                            OptionalLong.empty(),
                            "p.yaml:3:5"),
                        new Rule(
                            "why",
                            "",
                            "request.reason == ''",
                            PolicyAction.REQUIRE_APPROVAL,
                            Rule.DEFAULT_SQLSTATE,
                            "",
                            "",
                            OptionalLong.empty(),
                            "p.yaml:7:5")),
                    PolicyAction.ALLOW))
        .isInstanceOfSatisfying(
            PolicyException.class,
            e ->
                assertThat(e.problems())
                    .extracting(PolicyException.Problem::toString)
                    .containsExactly(
                        "p.yaml:3:5: rule 'big' reads rows, which Warden knows only while a"
                            + " statement waits for approval; rows and request.reason may be read"
                            + " only in a require_approval rule's auto_approve conditions",
                        "p.yaml:7:5: rule 'why' reads request.reason, which Warden knows only"
                            + " while a statement waits for approval; rows and request.reason may"
                            + " be read only in a require_approval rule's auto_approve"
                            + " conditions"));
    assertThatThrownBy(
            () ->
                Policy.compile(
                    "t",
                    List.of(),
                    PolicyAction.ALLOW,
                    dev.warden.core.masking.MaskingRules.defaults(),
                    new AccessRules(
                        true,
                        List.of(new AccessRule("a", "", "rows == 0", false, "", "p.yaml:9:5")))))
        .hasMessageContaining("access rule 'a' reads rows");
  }

  @Test
  void automaticApprovalsAreCheckedAtCompileWithTheirOriginsAndShareTheRuleNames() {
    Rule rule =
        Rule.of("approve", "true", PolicyAction.REQUIRE_APPROVAL)
            .withApproval(
                ApprovalRequirement.DEFAULT,
                List.of(
                    new AutoApproval("typo", "statement.knd == 'ddl'", "p.yaml:5:9"),
                    new AutoApproval("not-bool", "rows + 1", "p.yaml:7:9"),
                    new AutoApproval("approve", "true", "p.yaml:9:9")));
    assertThatThrownBy(() -> Policy.compile("t", List.of(rule), PolicyAction.ALLOW))
        .isInstanceOfSatisfying(
            PolicyException.class,
            e ->
                assertThat(e.problems())
                    .extracting(PolicyException.Problem::toString)
                    .satisfiesExactly(
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "p.yaml:5:9: rule 'approve', automatic approval 'typo':"
                                        + " condition 1:1: no such variable"),
                        p ->
                            assertThat(p)
                                .startsWith(
                                    "p.yaml:7:9: rule 'approve', automatic approval 'not-bool':"),
                        p ->
                            assertThat(p).startsWith("p.yaml:9:9: duplicate rule name 'approve'")));
  }

  @Test
  void onlyARequireApprovalRuleHasAnApprovalOrAutomaticApprovals() {
    assertThatThrownBy(
            () ->
                Rule.of("r", "true", PolicyAction.DENY)
                    .withApproval(ApprovalRequirement.DEFAULT, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("only to require_approval rules");
  }

  @Test
  void theApprovalBlockIsPartOfTheVersionAndItsAbsenceChangesNothing() {
    Rule plain = Rule.of("r", "true", PolicyAction.REQUIRE_APPROVAL);
    long before = compile(PolicyAction.ALLOW, plain).version();
    assertThat(
            compile(
                    PolicyAction.ALLOW,
                    new Rule(
                        "r",
                        "",
                        "true",
                        PolicyAction.REQUIRE_APPROVAL,
                        Rule.DEFAULT_SQLSTATE,
                        "",
                        "",
                        OptionalLong.empty(),
                        "",
                        Optional.empty(),
                        List.of()))
                .version())
        .isEqualTo(before);
    long withDefault =
        compile(PolicyAction.ALLOW, plain.withApproval(ApprovalRequirement.DEFAULT, List.of()))
            .version();
    long withOther =
        compile(PolicyAction.ALLOW, plain.withApproval(DBA_TWICE, List.of())).version();
    long withAuto =
        compile(
                PolicyAction.ALLOW,
                plain.withApproval(DBA_TWICE, List.of(AutoApproval.of("a", "rows < 10"))))
            .version();
    assertThat(List.of(before, withDefault, withOther, withAuto)).doesNotHaveDuplicates();
    assertThat(
            compile(
                    PolicyAction.ALLOW,
                    plain.withApproval(DBA_TWICE, List.of(AutoApproval.of("a", "rows < 10"))))
                .version())
        .isEqualTo(withAuto);
  }

  @Test
  void theHintSaysWhoMayApprove() {
    assertThat(
            Judgement.approvalHint(
                new ApprovalRequirement(
                    Set.of("dba", "security"),
                    1,
                    true,
                    ApprovalRequirement.Wait.ERROR,
                    Duration.ofMinutes(1),
                    Duration.ofHours(1),
                    false,
                    true)))
        .startsWith("It runs once a member of each of dba and security approves it;");
  }
}

package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.policy.AutoApproval;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyInput;
import dev.warden.core.policy.Rule;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A require_approval rule's {@code approval:} and {@code auto_approve:} blocks: read field by
 * field, their defaults, and each mistake reported at its line and column.
 */
class PolicyFileApprovalTest {
  private static final String FULL =
      """
      default: allow
      rules:
        - name: production-schema-changes
          when: "'production' in env.tags && statement.kind == 'ddl'"
          action: require_approval
          approval:
            approvers: [approvers, dba]
            min_approvals: 2
            all_of: true
            wait: hold
            hold_timeout: 90s
            expires: 2h
            require_reason: true
            break_glass: false
        - name: production-deletes
          when: "'production' in env.tags && statement.command == 'DELETE'"
          action: require_approval
          auto_approve:
            - name: small-deletes-by-owners
              description: Owners may delete a few rows.
              when: "statement.command == 'DELETE' && statement.has_where && rows <= 100 && 'owners' in identity.groups"
            - name: ticketed
              when: "request.reason.startsWith('TICKET-')"
      """;

  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  /** One require_approval rule with {@code block} (indented as a rule's keys) under it. */
  private static String rule(String action, String block) {
    return "default: allow\nrules:\n  - name: r\n    when: 'true'\n    action: "
        + action
        + "\n"
        + block.indent(4);
  }

  @Test
  void everyKeyIsRead() throws PolicyException {
    Policy p = PolicyFile.parse("p.yaml", FULL);
    Rule schema = p.rules().get(0);
    assertThat(schema.approval())
        .contains(
            new ApprovalRequirement(
                Set.of("approvers", "dba"),
                2,
                true,
                ApprovalRequirement.Wait.HOLD,
                Duration.ofSeconds(90),
                Duration.ofHours(2),
                true,
                false));
    assertThat(schema.autoApprove()).isEmpty();
    Rule deletes = p.rules().get(1);
    assertThat(deletes.approval()).isEmpty();
    assertThat(deletes.approvalRequirement()).isEqualTo(ApprovalRequirement.DEFAULT);
    assertThat(deletes.autoApprove())
        .extracting(AutoApproval::name, AutoApproval::origin)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("small-deletes-by-owners", "p.yaml:19:9"),
            org.assertj.core.groups.Tuple.tuple("ticketed", "p.yaml:22:9"));
  }

  @Test
  void theAutomaticApprovalsOfAFileApprove() throws PolicyException {
    Policy p = PolicyFile.parse("p.yaml", FULL);
    Statement delete =
        new Statement(
            StatementKind.WRITE,
            "DELETE",
            Set.of(),
            Set.of(TableRef.unqualified("orders")),
            Set.of(),
            Set.of(),
            Set.of(),
            true,
            false,
            Set.<StatementFlag>of(),
            "",
            "",
            Optional.empty());
    PolicyInput owner = input(Set.of("owners"));
    assertThat(p.autoApprove("production-deletes", delete, false, owner, 100, ""))
        .contains("small-deletes-by-owners");
    assertThat(p.autoApprove("production-deletes", delete, false, owner, 101, "")).isEmpty();
    assertThat(p.autoApprove("production-deletes", delete, false, input(Set.of()), 5, ""))
        .isEmpty();
    assertThat(p.autoApprove("production-deletes", delete, false, owner, 101, "TICKET-7"))
        .contains("ticketed");
    assertThat(p.autoApprove("production-schema-changes", delete, false, owner, 1, "TICKET-7"))
        .as("a rule without automatic approvals")
        .isEmpty();
  }

  private static PolicyInput input(Set<String> groups) {
    return new PolicyInput(
        new dev.warden.core.gate.SessionContext(
            "s1",
            new Identity("alice", groups, AuthMethod.SCRAM_SHA_256),
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
            "10.1.2.3:5000",
            "shop",
            "psql"),
        dev.warden.core.gate.StatementPath.SIMPLE,
        Instant.EPOCH);
  }

  @Test
  void theDefaultPolicyMakesProductionSchemaChangesWaitForApproversButNotTemporaryTables() {
    dev.warden.core.policy.PolicyGatekeeper gate =
        new dev.warden.core.policy.PolicyGatekeeper(
            new dev.warden.sql.postgres.PostgresAnalyzer(),
            PolicyFile::defaultPolicy,
            Set.of(),
            java.time.InstantSource.system());
    PolicyInput in = input(Set.of("dev"));
    java.util.function.Function<String, dev.warden.core.gate.Decision> decide =
        sql ->
            gate.decide(
                dev.warden.core.gate.StatementRequest.sql(
                    in.session(),
                    sql,
                    Optional.empty(),
                    dev.warden.core.gate.StatementPath.SIMPLE,
                    dev.warden.core.statement.LexicalSettings.DEFAULT,
                    new dev.warden.core.statement.PreparedStatements()));
    for (String change :
        List.of(
            "CREATE TABLE t (id int)",
            "ALTER TABLE orders ADD COLUMN note text",
            "CREATE INDEX ON orders (status)",
            "GRANT SELECT ON orders TO reporting",
            "COMMENT ON TABLE orders IS 'x'")) {
      dev.warden.core.gate.Decision d = decide.apply(change);
      assertThat(d.approval()).as(change).isPresent();
      assertThat(d.rule()).as(change).isEqualTo("production-schema-change");
      assertThat(d.approval().get().approverGroups()).containsExactly("approvers");
      assertThat(d.approval().get().breakGlass()).isTrue();
    }
    for (String session :
        List.of(
            "CREATE TEMP TABLE scratch (id int)",
            "CREATE TEMP TABLE o AS SELECT id FROM orders",
            "SELECT 1",
            "UPDATE orders SET status = 'x' WHERE id = 1")) {
      dev.warden.core.gate.Decision d = decide.apply(session);
      assertThat(d.approval()).as(session).isEmpty();
      assertThat(d.verdict()).as(session).isInstanceOf(dev.warden.core.gate.Verdict.Allow.class);
    }
    // What the guardrails deny stays denied; only a reviewer's break-glass can lift it.
    dev.warden.core.gate.Decision drop = decide.apply("DROP TABLE orders");
    assertThat(drop.approval()).hasValueSatisfying(a -> assertThat(a.breakGlassOnly()).isTrue());
    assertThat(drop.rule()).isEqualTo("production-drop");
  }

  @Test
  void anEmptyApprovalBlockMeansTheDefaults() throws PolicyException {
    Policy p = PolicyFile.parse("p.yaml", rule("require_approval", "approval: {}"));
    assertThat(p.rules().getFirst().approvalRequirement()).isEqualTo(ApprovalRequirement.DEFAULT);
    Policy none = PolicyFile.parse("p.yaml", rule("require_approval", "approval:"));
    assertThat(none.rules().getFirst().approval()).isEmpty();
  }

  @Test
  void oneGroupMayBeWrittenWithoutAListAndAHoldEndsWhenTheRequestExpires() throws PolicyException {
    Rule r =
        PolicyFile.parse(
                "p.yaml",
                rule("require_approval", "approval: {approvers: dba, wait: hold, expires: 5m}"))
            .rules()
            .getFirst();
    assertThat(r.approvalRequirement().approverGroups()).containsExactly("dba");
    assertThat(r.approvalRequirement().lifetime()).isEqualTo(Duration.ofMinutes(5));
    assertThat(r.approvalRequirement().holdTimeout()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void approvalAndAutoApproveBelongOnlyToRequireApprovalRules() {
    assertThat(
            problems(
                rule(
                    "deny",
                    "approval: {approvers: [dba]}\nauto_approve:\n  - {name: a, when: 'true'}")))
        .containsExactly(
            "p.yaml:6:5: rule 'r': approval: on a deny rule says who may let a denied statement"
                + " through as break-glass; add break_glass: true, or remove it",
            "p.yaml:7:5: rule 'r': auto_approve: applies only to a require_approval rule; a deny"
                + " rule waits for no approval");
    assertThat(problems(rule("allow", "auto_approve: []")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:6:5: rule 'r': auto_approve: applies only to a require_approval");
  }

  @Test
  void unknownKeysAreRefusedWithASuggestion() {
    assertThat(problems(rule("require_approval", "approval:\n  min-approvals: 2\n  expire: 1h")))
        .containsExactly(
            "p.yaml:7:7: unknown key 'min-approvals' in an approval (did you mean"
                + " 'min_approvals'?)",
            "p.yaml:8:7: unknown key 'expire' in an approval (did you mean 'expires'?)");
    assertThat(
            problems(
                rule(
                    "require_approval", "auto_approve:\n  - name: a\n    when: 'true'\n    if: x")))
        .containsExactly(
            "p.yaml:9:9: unknown key 'if' in an automatic approval; expected one of: name,"
                + " description, when");
  }

  @Test
  void approversMustNameAGroup() {
    assertThat(problems(rule("require_approval", "approval: {approvers: []}")))
        .containsExactly(
            "p.yaml:6:27: approvers must name at least one group whose members may approve, found"
                + " a list");
    assertThat(problems(rule("require_approval", "approval: {approvers: ''}")))
        .containsExactly("p.yaml:6:27: approvers must not be empty");
    assertThat(problems(rule("require_approval", "approval: {approvers: {a: b}}")))
        .containsExactly(
            "p.yaml:6:27: approvers must name at least one group whose members may approve, found"
                + " a mapping");
  }

  @Test
  void minApprovalsMustBeAPositiveNumberWithinReason() {
    assertThat(problems(rule("require_approval", "approval: {min_approvals: 0}")))
        .containsExactly("p.yaml:6:31: min_approvals must be a positive whole number, found '0'");
    assertThat(problems(rule("require_approval", "approval: {min_approvals: two}")))
        .containsExactly("p.yaml:6:31: min_approvals must be a positive whole number, found 'two'");
    assertThat(problems(rule("require_approval", "approval: {min_approvals: 101}")))
        .containsExactly("p.yaml:6:31: min_approvals must be at most 100, found 101");
  }

  @Test
  void waitIsErrorOrHold() {
    assertThat(problems(rule("require_approval", "approval: {wait: Hold}")))
        .containsExactly(
            "p.yaml:6:22: wait 'Hold' is not a way to wait (did you mean 'hold'?); expected error"
                + " (the client is told at once) or hold (the statement waits)");
    assertThat(problems(rule("require_approval", "approval: {wait: block}")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:6:22: wait 'block' is not a way to wait; expected error");
  }

  @Test
  void durationsAreCheckedWithTheirBounds() {
    assertThat(problems(rule("require_approval", "approval: {expires: soon}")))
        .containsExactly(
            "p.yaml:6:25: expires must be a duration such as 1h (a whole number of s, m, h or d),"
                + " found 'soon'");
    assertThat(problems(rule("require_approval", "approval: {expires: 10}")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:6:25: expires must be a duration such as 1h");
    assertThat(problems(rule("require_approval", "approval: {expires: 30s}")))
        .containsExactly("p.yaml:6:25: expires must be between 1m and 30d, found 30s");
    assertThat(problems(rule("require_approval", "approval: {expires: 31d}")))
        .containsExactly("p.yaml:6:25: expires must be between 1m and 30d, found 31d");
    assertThat(problems(rule("require_approval", "approval: {wait: hold, hold_timeout: 2d}")))
        .containsExactly("p.yaml:6:42: hold_timeout must be between 1s and 24h, found 2d");
    assertThat(
            problems(
                rule("require_approval", "approval: {wait: hold, hold_timeout: 2h, expires: 1h}")))
        .containsExactly(
            "p.yaml:6:42: hold_timeout must not be longer than expires (1h): the request would"
                + " expire while the statement is held");
  }

  @Test
  void aHoldTimeoutWithoutHoldModeIsUnusedAndNotChecked() throws PolicyException {
    Rule r =
        PolicyFile.parse(
                "p.yaml",
                rule("require_approval", "approval: {wait: error, hold_timeout: 2h, expires: 1h}"))
            .rules()
            .getFirst();
    assertThat(r.approvalRequirement().waiting()).isEqualTo(ApprovalRequirement.Wait.ERROR);
    assertThat(problems(rule("require_approval", "approval: {hold_timeout: 0s}")))
        .containsExactly("p.yaml:6:30: hold_timeout must be between 1s and 24h, found 0s");
  }

  @Test
  void flagsAreTrueOrFalse() {
    assertThat(problems(rule("require_approval", "approval: {all_of: yes please}")))
        .containsExactly("p.yaml:6:24: all_of must be true or false, found 'yes please'");
    assertThat(problems(rule("require_approval", "approval: {break_glass: 1}")))
        .containsExactly("p.yaml:6:29: break_glass must be true or false, found '1'");
  }

  @Test
  void automaticApprovalsNeedANameAndACondition() {
    assertThat(
            problems(
                rule(
                    "require_approval",
                    "auto_approve:\n  - when: 'true'\n  - name: b c\n    when: 'true'\n  - name: d")))
        .containsExactly(
            "p.yaml:7:9: an automatic approval is missing the required key 'name'",
            "p.yaml:8:15: automatic approval name 'b c' may contain only letters, digits, '_', '-'"
                + " and '.' (at most 63)",
            "p.yaml:10:9: an automatic approval is missing the required key 'when'");
    assertThat(problems(rule("require_approval", "auto_approve: {name: a}")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:6:19: auto_approve must be a list, each item starting with '- name:'");
  }

  @Test
  void automaticApprovalConditionsAreCompiledAtTheirLines() {
    assertThat(
            problems(
                rule(
                    "require_approval",
                    """
                    auto_approve:
                      - name: typo
                        when: "rows <= 100 && statement.knd == 'ddl'"
                      - name: not-bool
                        when: "rows + 1"
                      - name: r
                        when: "true"
                    """)))
        .satisfiesExactly(
            p ->
                assertThat(p)
                    .startsWith(
                        "p.yaml:7:9: rule 'r', automatic approval 'typo': condition 1:16: no such"
                            + " variable"),
            p -> assertThat(p).startsWith("p.yaml:9:9: rule 'r', automatic approval 'not-bool':"),
            p -> assertThat(p).startsWith("p.yaml:11:9: duplicate rule name 'r' (first at"));
  }

  @Test
  void rowsAndTheReasonAreRefusedInOrdinaryConditions() {
    assertThat(
            problems(
                "default: allow\nrules:\n  - name: big\n    when: 'rows > 100'\n"
                    + "    action: deny\n"))
        .containsExactly(
            "p.yaml:3:5: rule 'big' reads rows, which Warden knows only while a statement waits"
                + " for approval; rows and request.reason may be read only in a require_approval"
                + " rule's auto_approve conditions");
  }
}

package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.delete;
import static dev.warden.core.policy.Facts.drop;
import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.execute;
import static dev.warden.core.policy.Facts.prepare;
import static dev.warden.core.policy.Facts.select;
import static dev.warden.core.policy.Facts.session;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import dev.warden.core.statement.StatementKind;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PolicyGatekeeperTest {
  private static final SessionContext PROD =
      session("alice", Set.of("dev"), environment("prod", "production"));
  private static final SessionContext STAGING =
      session("alice", Set.of("dev"), environment("staging"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("dev"), environment("shadow", "production"));

  private final Facts facts =
      new Facts()
          .with("SELECT", select("orders"))
          .with("DROP", drop("orders"))
          .with("SELECT; DROP", select("orders"), drop("orders"))
          .with("DELETE WHERE", delete("orders", true))
          .with("DELETE ALL", delete("orders", false))
          .with("DELETE LINES", delete("order_lines", true))
          .with("DELETE BOTH", delete("orders", true), delete("order_lines", true))
          .with("PREPARE p SELECT", prepare("p", select("orders")))
          .with("PREPARE p DELETE ALL", prepare("p", delete("orders", false)))
          .with("EXECUTE p", execute("p"))
          .with(
              "PREPARE p DELETE ALL; EXECUTE p",
              prepare("p", delete("orders", false)),
              execute("p"))
          .with("EXECUTE q", execute("q"));

  private final AtomicReference<Policy> current = new AtomicReference<>(productionPolicy());
  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, current::get, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

  static Policy productionPolicy() {
    try {
      return Policy.compile(
          "test",
          List.of(
              Rule.of(
                      "no-drop",
                      "'production' in env.tags && 'destructive' in statement.flags",
                      PolicyAction.DENY)
                  .withMessage("DROP is not allowed in production", "Run it elsewhere."),
              Rule.of(
                      "unbounded",
                      "'production' in env.tags && 'unbounded' in statement.flags",
                      PolicyAction.DENY)
                  .withMessage("DELETE without WHERE", "Add a WHERE clause."),
              Rule.of(
                  "unknown",
                  "'production' in env.tags && statement.kind == 'unknown'",
                  PolicyAction.DENY),
              Rule.of("unknown-elsewhere", "statement.kind == 'unknown'", PolicyAction.OBSERVE),
              Rule.of(
                      "lines",
                      "any_table_matches(statement.tables, 'order_lines')",
                      PolicyAction.ALLOW)
                  .withMaxRows(5),
              Rule.of("deletes", "statement.command == 'DELETE'", PolicyAction.ALLOW)
                  .withMaxRows(100)),
          PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private static Policy compile(Rule... rules) {
    try {
      return Policy.compile("test", List.of(rules), PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private Decision decide(SessionContext session, String sql, PreparedStatements prepared) {
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

  @Test
  void aDropIsRefusedInProductionAndAllowedElsewhere() {
    Decision prod = decide(PROD, "DROP");
    assertThat(prod.verdict()).isInstanceOf(Verdict.Deny.class);
    Verdict.Deny deny = (Verdict.Deny) prod.verdict();
    assertThat(deny.sqlState()).isEqualTo("42501");
    assertThat(deny.message())
        .isEqualTo(
            "Warden refused this statement: DROP is not allowed in production (rule \"no-drop\")");
    assertThat(deny.hint()).isEqualTo("Run it elsewhere.");
    assertThat(prod.rule()).isEqualTo("no-drop");
    assertThat(prod.policyVersion()).isEqualTo(current.get().version());
    assertThat(prod.analysis().statements())
        .singleElement()
        .extracting(s -> s.command())
        .isEqualTo("DROP TABLE");

    Decision staging = decide(STAGING, "DROP");
    assertThat(staging.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(staging.observed()).isFalse();
  }

  @Test
  void aRepeatedStatementInTheSameSessionGetsTheSameDecisionWithoutBeingJudgedAgain() {
    Decision first = decide(PROD, "DROP");
    Decision again = decide(PROD, "DROP");
    assertThat(again).isSameAs(first);
    // Another session is judged for itself, and so is what defines or runs a prepared statement.
    assertThat(decide(STAGING, "DROP")).isNotSameAs(first);
    assertThat(decide(STAGING, "EXECUTE q")).isNotSameAs(decide(STAGING, "EXECUTE q"));
  }

  @Test
  void aMultiStatementStringIsRefusedIfAnyStatementIs() {
    Decision d = decide(PROD, "SELECT; DROP");
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(decide(STAGING, "SELECT; DROP").verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void observeOnlyLetsARefusedStatementThroughMarkedWithTheRule() {
    Decision d = decide(SHADOW, "DROP");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).isTrue();
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(d.rowLimit()).isEmpty();
  }

  @Test
  void anObserveRuleAllowsAndMarks() {
    Decision d = decide(STAGING, "EXECUTE q");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).isTrue();
    assertThat(d.rule()).isEqualTo("unknown-elsewhere");
  }

  @Test
  void rowLimitsComeFromTheMatchingRulesAndTheSmallestWins() {
    Decision one = decide(STAGING, "DELETE WHERE");
    assertThat(one.rowLimit()).hasValue(100);
    assertThat(one.rowLimitDenial().message())
        .isEqualTo(
            "Warden refused this statement: it changed more than 100 rows; Warden rolled it back"
                + " (rule \"deletes\")");
    assertThat(one.rowLimitDenial().hint()).contains("narrow the WHERE clause");
    Decision both = decide(STAGING, "DELETE BOTH");
    assertThat(both.rowLimit()).hasValue(5);
    assertThat(both.rowLimitDenial().message()).contains("more than 5 rows").contains("\"lines\"");
    assertThat(decide(STAGING, "SELECT").rowLimit()).isEmpty();
    assertThat(decide(SHADOW, "DELETE WHERE").rowLimit()).as("observe-only").isEmpty();
  }

  @Test
  void executeIsJudgedAsEveryStatementItMayRun() {
    PreparedStatements prepared = new PreparedStatements();
    Decision unknownName = decide(PROD, "EXECUTE p", prepared);
    assertThat(unknownName.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(unknownName.rule()).isEqualTo("unknown");

    assertThat(decide(PROD, "PREPARE p SELECT", prepared).verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(prepared.lookup("p"))
        .singleElement()
        .extracting(s -> s.kind())
        .isEqualTo(StatementKind.READ);
    assertThat(decide(PROD, "EXECUTE p", prepared).verdict()).isEqualTo(Verdict.ALLOW);

    // A PREPARE of something refused is itself refused, and not recorded.
    Decision bad = decide(PROD, "PREPARE p DELETE ALL", prepared);
    assertThat(bad.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(bad.rule()).isEqualTo("unbounded");
    assertThat(prepared.lookup("p")).hasSize(1);

    // Prepared where it is allowed, the name now may stand for either: EXECUTE is refused.
    assertThat(decide(STAGING, "PREPARE p DELETE ALL", prepared).verdict())
        .isEqualTo(Verdict.ALLOW);
    assertThat(prepared.lookup("p")).hasSize(2);
    Decision exec = decide(PROD, "EXECUTE p", prepared);
    assertThat(exec.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(exec.rule()).isEqualTo("unbounded");
  }

  @Test
  void anExecuteSeesAPrepareEarlierInTheSameText() {
    PreparedStatements prepared = new PreparedStatements();
    Decision d = decide(STAGING, "PREPARE p DELETE ALL; EXECUTE p", prepared);
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).as("EXECUTE p is known, not unknown").isFalse();
    assertThat(d.rowLimit()).as("the DELETE it runs is limited").hasValue(100);
    assertThat(prepared.lookup("p")).hasSize(1);
  }

  @Test
  void aFunctionCallIsAnUnknownStatementNamingTheOid() {
    Decision d = gate.decide(StatementRequest.functionCall(PROD, 2_345L, new PreparedStatements()));
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(d.rule()).isEqualTo("unknown");
    assertThat(d.analysis().statements().getFirst().unknownReason()).contains("OID 2345");
    assertThat(((Verdict.Deny) d.verdict()).hint())
        .startsWith("Warden's analysis: a FunctionCall message calls the function with OID 2345");
    assertThat(facts.calls).isZero();
  }

  @Test
  void recheckReusesTheDecisionUntilThePolicyChanges() {
    Decision first = decide(PROD, "DELETE WHERE");
    assertThat(first.reusable()).isTrue();
    assertThat(gate.recheck(PROD, new PreparedStatements(), Relations.NONE, first)).isSameAs(first);

    current.set(compile(Rule.of("no-deletes", "statement.command == 'DELETE'", PolicyAction.DENY)));
    Decision again = gate.recheck(PROD, new PreparedStatements(), Relations.NONE, first);
    assertThat(again.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(again.rule()).isEqualTo("no-deletes");
    assertThat(again.policyVersion()).isEqualTo(current.get().version());
  }

  @Test
  void aPreparedExecuteJudgedAgainAfterAPolicyChangeIsJudgedAsWhatItRuns() {
    PreparedStatements prepared = new PreparedStatements();
    decide(PROD, "PREPARE p SELECT", prepared);
    Decision first = decide(PROD, "EXECUTE p", prepared);
    assertThat(first.verdict()).isEqualTo(Verdict.ALLOW);

    current.set(
        compile(
            Rule.of("unknown", "statement.kind == 'unknown'", PolicyAction.DENY),
            Rule.of("no-orders", "'orders' in statement.tables", PolicyAction.DENY)));
    Decision again = gate.recheck(PROD, prepared, Relations.NONE, first);
    // Judged as the SELECT it runs (refused by the new rule about orders), not as unknown.
    assertThat(again.verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(again.rule()).isEqualTo("no-orders");
  }

  @Test
  void aPolicyThatReadsTheTimeMakesDecisionsNotReusable() {
    current.set(compile(Rule.of("night", "request.time.getHours('UTC') < 6", PolicyAction.DENY)));
    Decision d = decide(STAGING, "SELECT");
    assertThat(d.verdict()).isInstanceOf(Verdict.Deny.class); // the fixed clock says 00:00
    assertThat(d.reusable()).isFalse();
    assertThat(gate.recheck(STAGING, new PreparedStatements(), Relations.NONE, d)).isNotSameAs(d);
  }

  @Test
  void anAnalyserFailureRefusesTheStatement() {
    Decision d = decide(STAGING, "text the analyser has no facts for");
    assertThat(d.verdict())
        .isInstanceOfSatisfying(
            Verdict.Deny.class,
            deny ->
                assertThat(deny.message())
                    .startsWith("Warden refused this statement: it could not be analysed"));
  }

  @Test
  void aRepeatedStatementCostsNoConditionEvaluation() {
    decide(PROD, "SELECT; DROP");
    long evaluations = current.get().evaluations();
    for (int i = 0; i < 1000; i++) {
      decide(PROD, "SELECT; DROP");
    }
    assertThat(current.get().evaluations()).isEqualTo(evaluations);
  }

  @Test
  void theEmptyStringIsAllowed() {
    facts.with("", new dev.warden.core.statement.Statement[0]);
    Decision d = decide(PROD, "");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.rule()).isEmpty();
  }
}

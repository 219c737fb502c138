package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.prepare;
import static dev.warden.core.policy.Facts.select;
import static dev.warden.core.policy.Facts.session;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Warden's own refusal of statements that change a warden.* setting, whatever the policy. */
class IdentitySettingTest {
  private static final SessionContext PROD =
      session("alice", Set.of("dba"), environment("prod", "production"));
  private static final SessionContext STAGING =
      session("alice", Set.of("dba"), environment("staging"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("dba"), environment("shadow", "production"));

  /** {@code SET warden.identity = 'bob'}, as the analyser describes it. */
  private static Statement setIdentity() {
    return new Statement(
        StatementKind.SESSION,
        "SET",
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(StatementFlag.CHANGES_IDENTITY_SETTING),
        "",
        "",
        Optional.empty());
  }

  /** {@code EXPLAIN ANALYZE SELECT set_config('warden.identity', 'bob', false)}. */
  private static Statement explainSetConfig() {
    Statement inner =
        new Statement(
            StatementKind.READ,
            "SELECT",
            Set.of(),
            Set.of(),
            Set.of(),
            Set.of(),
            Set.of("set_config"),
            true,
            false,
            Set.of(StatementFlag.CHANGES_IDENTITY_SETTING, StatementFlag.ROLE_SWITCH),
            "",
            "",
            Optional.empty());
    return new Statement(
        StatementKind.READ,
        "EXPLAIN",
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(StatementFlag.EXPLAIN_ANALYZE),
        "",
        "",
        Optional.of(inner));
  }

  private final Facts facts =
      new Facts()
          .with("SET", setIdentity())
          .with("SELECT", select("orders"))
          .with("SELECT; SET", select("orders"), setIdentity())
          .with("EXPLAIN", explainSetConfig())
          .with("PREPARE p SET", prepare("p", setIdentity()))
          .with("EXECUTE p", Facts.execute("p"));

  /** A policy that allows everything, first of all by an explicit rule that matches anything. */
  private static Policy allowEverything(String ruleName) {
    try {
      return Policy.compile(
          "test", List.of(Rule.of(ruleName, "true", PolicyAction.ALLOW)), PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private final AtomicReference<Policy> current =
      new AtomicReference<>(allowEverything("everything"));
  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, current::get, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

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
    return decide(gate, session, sql, new PreparedStatements());
  }

  private static void assertRefused(Decision d) {
    assertThat(d.rule())
        .isEqualTo(PolicyGatekeeper.IDENTITY_SETTING_RULE)
        .isEqualTo("identity-setting");
    assertThat(d.observed()).isFalse();
    assertThat(d.verdict())
        .isInstanceOfSatisfying(
            Verdict.Deny.class,
            deny -> {
              assertThat(deny.sqlState()).isEqualTo("42501");
              assertThat(deny.message())
                  .isEqualTo(
                      "Warden refused this statement: warden.* settings carry your verified"
                          + " identity to the database and cannot be changed (rule"
                          + " \"identity-setting\")");
              assertThat(deny.hint()).contains("Remove the warden.* setting");
            });
  }

  @Test
  void itIsRefusedInEveryEnvironmentWhateverThePolicyAllows() {
    assertRefused(decide(PROD, "SET"));
    assertRefused(decide(STAGING, "SET"));
    // Observe-only lets policy refusals through; this is not one.
    assertRefused(decide(SHADOW, "SET"));
    assertThat(decide(SHADOW, "SELECT").verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(decide(PROD, "SELECT").rule()).isEqualTo("everything");
  }

  @Test
  void itIsFoundAmongSeveralStatementsAndInsideOthers() {
    assertRefused(decide(STAGING, "SELECT; SET"));
    assertRefused(decide(STAGING, "EXPLAIN"));
    PreparedStatements prepared = new PreparedStatements();
    assertRefused(decide(gate, STAGING, "PREPARE p SET", prepared));
    // The refused PREPARE is not remembered, so EXECUTE p is a name Warden did not see prepared;
    // were it remembered anyway (another path), EXECUTE p is judged as what it runs.
    prepared.prepared("p", setIdentity());
    assertRefused(decide(gate, STAGING, "EXECUTE p", prepared));
  }

  @Test
  void repeatedAndRecheckedDecisionsKeepTheRefusal() {
    Decision first = decide(STAGING, "SET");
    assertRefused(first);
    int analysed = facts.calls;
    Decision again = decide(STAGING, "SET");
    assertThat(again).isSameAs(first);
    assertThat(facts.calls).isEqualTo(analysed + 1);
    assertThat(first.reusable()).isTrue();
    assertThat(gate.recheck(STAGING, new PreparedStatements(), Relations.NONE, first))
        .isSameAs(first);

    // A new policy, even one that reads the time, judges it again: still refused.
    current.set(allowEverything("after-reload").equals(null) ? null : compileTimed());
    Decision rechecked = gate.recheck(STAGING, new PreparedStatements(), Relations.NONE, first);
    assertThat(rechecked.policyVersion()).isEqualTo(current.get().version());
    assertRefused(rechecked);
    assertRefused(decide(STAGING, "SET"));
  }

  private static Policy compileTimed() {
    try {
      return Policy.compile(
          "timed",
          List.of(Rule.of("daytime", "request.time.getHours('UTC') >= 0", PolicyAction.ALLOW)),
          PolicyAction.ALLOW);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aFunctionCallOfSetConfigIsRefusedAndOtherFunctionCallsAreJudgedByPolicy() {
    Decision setConfig =
        gate.decide(
            StatementRequest.functionCall(
                STAGING, PolicyGatekeeper.SET_CONFIG_OID, new PreparedStatements()));
    assertRefused(setConfig);
    assertThat(setConfig.analysis().statements().getFirst().unknownReason())
        .contains("set_config (OID 2078)");
    Decision other =
        gate.decide(StatementRequest.functionCall(STAGING, 764L, new PreparedStatements()));
    assertThat(other.verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void maskingNeitherExemptsFromItNorTurnsItIntoAnObservation() throws PolicyException {
    DataMaps maps =
        new DataMaps() {
          private final DataMap empty = DataMap.of("any", "shop", 1, Instant.EPOCH, List.of());

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
    Policy exemptDba =
        Policy.compile(
            "masking",
            List.of(Rule.of("everything", "true", PolicyAction.ALLOW)),
            PolicyAction.ALLOW,
            MaskingRules.builder()
                .exempt(
                    new MaskingRules.Exemption(
                        Optional.empty(),
                        Optional.of("dba"),
                        Optional.empty(),
                        Optional.empty(),
                        Set.of()))
                .build());
    Policy maskEveryone =
        Policy.compile(
            "masking",
            List.of(Rule.of("everything", "true", PolicyAction.ALLOW)),
            PolicyAction.ALLOW);
    for (Policy p : List.of(exemptDba, maskEveryone)) {
      PolicyGatekeeper masking =
          new PolicyGatekeeper(
              facts, () -> p, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH), maps);
      for (SessionContext s : List.of(PROD, STAGING, SHADOW)) {
        assertRefused(decide(masking, s, "SET", new PreparedStatements()));
        assertRefused(decide(masking, s, "SET", new PreparedStatements()));
      }
      assertThat(decide(masking, SHADOW, "SELECT", new PreparedStatements()).verdict())
          .isEqualTo(Verdict.ALLOW);
    }
  }
}

package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.select;
import static dev.warden.core.policy.Facts.session;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.IdentitySettings;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code SET warden.reason}: not an identity setting, so judged by the policy as any SET; refused
 * by Warden whatever the policy only where the proxy could not follow it (SET LOCAL, among other
 * statements, longer than {@link IdentitySettings#MAX_REASON_LENGTH}).
 */
class ReasonSettingTest {
  private static final SessionContext STAGING =
      session("alice", Set.of("dev"), environment("staging"));
  private static final SessionContext SHADOW =
      session("alice", Set.of("dev"), environment("shadow", "production"));

  /** A SET or RESET of the reason, as the analyser describes it. */
  private static Statement reason(String command, ReasonSetting setting, StatementFlag... flags) {
    return new Statement(
        StatementKind.SESSION,
        command,
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(flags),
        "",
        "",
        Optional.empty(),
        Optional.of(setting),
        Optional.empty());
  }

  private static final String LONGEST = "x".repeat(IdentitySettings.MAX_REASON_LENGTH);

  private final Facts facts =
      new Facts()
          .with("SET", reason("SET", ReasonSetting.of("INC-1")))
          .with("SET longest", reason("SET", ReasonSetting.of(LONGEST)))
          .with("SET too long", reason("SET", ReasonSetting.of(LONGEST + "x")))
          .with("RESET", reason("RESET", ReasonSetting.RESET))
          .with(
              "SET LOCAL",
              reason("SET", new ReasonSetting(Optional.of("INC-1"), true)),
              select("orders"))
          .with("SET LOCAL DEFAULT", reason("SET", new ReasonSetting(Optional.empty(), true)))
          .with("SET; SELECT", reason("SET", ReasonSetting.of("INC-1")), select("orders"))
          .with("SELECT; SET", select("orders"), reason("SET", ReasonSetting.of("INC-1")))
          .with("RESET; SELECT", reason("RESET", ReasonSetting.RESET), select("orders"))
          .with(
              "SET; SET identity",
              reason("SET", ReasonSetting.of("INC-1")),
              reason("SET", ReasonSetting.of("x"), StatementFlag.CHANGES_IDENTITY_SETTING));

  private final PolicyGatekeeper gate =
      new PolicyGatekeeper(
          facts, this::policy, Set.of("shadow"), InstantSource.fixed(Instant.EPOCH));

  private Policy policy =
      compile(Rule.of("sessions", "statement.kind == 'session'", PolicyAction.ALLOW));

  private Policy policy() {
    return policy;
  }

  private static Policy compile(Rule rule) {
    try {
      return Policy.compile("test", List.of(rule), PolicyAction.DENY);
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

  private static void assertRefused(Decision d, String sqlState, String message) {
    assertThat(d.rule())
        .isEqualTo(PolicyGatekeeper.REASON_SETTING_RULE)
        .isEqualTo("reason-setting");
    assertThat(d.observed()).isFalse();
    assertThat(d.reusable()).isTrue();
    assertThat(d.verdict())
        .isInstanceOfSatisfying(
            Verdict.Deny.class,
            deny -> {
              assertThat(deny.sqlState()).isEqualTo(sqlState);
              assertThat(deny.message()).contains(message).contains("(rule \"reason-setting\")");
              assertThat(deny.hint()).contains("/* reason: ... */");
            });
  }

  @Test
  void aSetOrResetOfTheReasonIsJudgedByThePolicyLikeAnySet() {
    assertThat(decide(STAGING, "SET").verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(decide(STAGING, "SET").rule()).isEqualTo("sessions");
    assertThat(decide(STAGING, "RESET").rule()).isEqualTo("sessions");
    assertThat(decide(STAGING, "SET longest").verdict()).isEqualTo(Verdict.ALLOW);
    // A policy that refuses SET refuses this one too: it is not Warden's to let through.
    policy = compile(Rule.of("no-sets", "statement.command == 'SET'", PolicyAction.DENY));
    assertThat(decide(STAGING, "SET").rule()).isEqualTo("no-sets");
    assertThat(decide(STAGING, "SET").verdict()).isInstanceOf(Verdict.Deny.class);
  }

  @Test
  void aLocalSetIsRefusedWhateverThePolicy() {
    assertRefused(decide(STAGING, "SET LOCAL"), "0A000", "SET LOCAL warden.reason");
    assertRefused(decide(STAGING, "SET LOCAL DEFAULT"), "0A000", "SET LOCAL warden.reason");
    // Observe-only lets policy refusals through; this is not one.
    assertRefused(decide(SHADOW, "SET LOCAL"), "0A000", "SET LOCAL warden.reason");
  }

  @Test
  void aSetAmongOtherStatementsIsRefusedAndAResetIsNot() {
    assertRefused(decide(STAGING, "SET; SELECT"), "0A000", "a statement of its own");
    assertRefused(decide(STAGING, "SELECT; SET"), "0A000", "a statement of its own");
    // The policy judges the rest: here it refuses the SELECT, which no rule allows.
    Decision reset = decide(STAGING, "RESET; SELECT");
    assertThat(reset.rule()).isNotEqualTo(PolicyGatekeeper.REASON_SETTING_RULE);
  }

  @Test
  void aReasonOverTheLimitIsRefused() {
    assertRefused(
        decide(STAGING, "SET too long"),
        "22023",
        "the reason is 1001 characters long, and warden.reason holds at most 1000");
  }

  @Test
  void anIdentitySettingBesideItIsStillRefusedAsOne() {
    Decision d = decide(STAGING, "SET; SET identity");
    assertThat(d.rule()).isEqualTo(PolicyGatekeeper.IDENTITY_SETTING_RULE);
    assertThat(((Verdict.Deny) d.verdict()).hint()).contains("Only SET warden.reason");
  }

  @Test
  void theNameIsComparedAsPostgresqlComparesSettingNames() {
    assertThat(IdentitySettings.isReason("warden.reason")).isTrue();
    assertThat(IdentitySettings.isReason("WARDEN.Reason")).isTrue();
    assertThat(IdentitySettings.isReason("warden.reasonx")).isFalse();
    assertThat(IdentitySettings.isReason("warden.identity")).isFalse();
    assertThat(IdentitySettings.isReason("warden.rea\u017Fon")).isFalse(); // long s: Java folds it
    assertThat(IdentitySettings.isReason("warden.reason ")).isFalse();
    assertThat(IdentitySettings.of(Facts.session("a", Set.of(), environment("e")).identity()))
        .doesNotContainKey(IdentitySettings.REASON);
  }
}

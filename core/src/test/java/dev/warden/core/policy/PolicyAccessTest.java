package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.environment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.gate.Admission;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.SqlAnalyzer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PolicyAccessTest {
  private static final Instant NOON = Instant.parse("2026-03-02T12:00:00Z");
  private static final List<Rule> NO_RULES = List.of();

  private static SessionContext session(Identity identity, String env, String... tags) {
    return new SessionContext(
        "s1", identity, environment(env, tags), "10.1.2.3:51234", "shop", "psql");
  }

  private static Identity person(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.OIDC);
  }

  private static Identity agent(String name, String forWhom) {
    return new Identity(
        name, Set.of("agents"), AuthMethod.SERVICE_TOKEN, Optional.of(forWhom), Optional.empty());
  }

  private static final SessionContext ALICE_PROD =
      session(person("alice", "engineers"), "prod", "production");
  private static final SessionContext BOB_PROD =
      session(person("bob", "interns", "engineers"), "prod", "production");
  private static final SessionContext CAROL_PROD =
      session(person("carol", "sales"), "prod", "production");
  private static final SessionContext CAROL_DEV = session(person("carol", "sales"), "dev");

  private static Policy policy(boolean allowByDefault, AccessRule... rules) throws PolicyException {
    return Policy.compile(
        "test",
        NO_RULES,
        PolicyAction.ALLOW,
        dev.warden.core.masking.MaskingRules.defaults(),
        new AccessRules(allowByDefault, List.of(rules)));
  }

  private static List<String> problems(AccessRule... rules) {
    try {
      policy(true, rules);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("compiled");
  }

  @Test
  void aPolicyWithoutAccessRulesLetsEveryoneIn() throws PolicyException {
    Policy p = Policy.compile("test", NO_RULES, PolicyAction.DENY);
    assertThat(p.access()).isEqualTo(AccessRules.OPEN);
    assertThat(p.admit(CAROL_PROD, NOON)).isSameAs(Admission.OPEN);
    assertThat(policy(true).admit(CAROL_PROD, NOON)).isSameAs(Admission.OPEN);
  }

  @Test
  void theFirstMatchingRuleDecides() throws PolicyException {
    Policy p =
        policy(
            false,
            AccessRule.of("no-interns-in-prod", "'interns' in identity.groups", false)
                .withMessage("interns use staging"),
            AccessRule.of(
                "prod-engineers",
                "'production' in env.tags && 'engineers' in identity.groups",
                true),
            AccessRule.of("everyone-outside-prod", "!('production' in env.tags)", true));

    Admission alice = p.admit(ALICE_PROD, NOON);
    assertThat(alice).isEqualTo(new Admission(true, "prod-engineers", ""));

    // Bob is an engineer too, but the rule about interns comes first.
    Admission bob = p.admit(BOB_PROD, NOON);
    assertThat(bob.allowed()).isFalse();
    assertThat(bob.rule()).isEqualTo("no-interns-in-prod");
    // The reason alone: the proxy says who was refused where, and names the rule.
    assertThat(bob.message()).isEqualTo("interns use staging");

    assertThat(p.admit(CAROL_DEV, NOON))
        .isEqualTo(new Admission(true, "everyone-outside-prod", ""));
  }

  @Test
  void theDefaultDecidesWhenNoRuleMatches() throws PolicyException {
    AccessRule engineers = AccessRule.of("engineers", "'engineers' in identity.groups", true);
    Admission refused = policy(false, engineers).admit(CAROL_PROD, NOON);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.rule()).isEqualTo(Policy.DEFAULT_ACCESS_RULE).isEqualTo("(default)");
    assertThat(refused.message())
        .isEqualTo("no access rule matched and the policy's default is deny");

    AccessRule noSales = AccessRule.of("no-sales", "'sales' in identity.groups", false);
    assertThat(policy(true, noSales).admit(ALICE_PROD, NOON))
        .isEqualTo(new Admission(true, "(default)", ""));
    Admission carol = policy(true, noSales).admit(CAROL_PROD, NOON);
    assertThat(carol.allowed()).isFalse();
    assertThat(carol).isEqualTo(new Admission(false, "no-sales", ""));
  }

  @Test
  void conditionsReadTheMethodAndWhomAnAgentActsFor() throws PolicyException {
    Policy p =
        policy(
            false,
            AccessRule.of(
                    "agents-only-for-people",
                    "identity.method == 'service_token' && identity.on_behalf_of == ''",
                    false)
                .withMessage("a service token must act on behalf of a person here"),
            AccessRule.of(
                "agents-for-engineers",
                "identity.method == 'service_token' && identity.on_behalf_of.endsWith('@corp')",
                true),
            AccessRule.of("people-by-oidc", "identity.method == 'oidc'", true));

    SessionContext forAlice = session(agent("copilot", "alice@corp"), "prod", "production");
    SessionContext forNobody =
        session(
            new Identity("batch", Set.of("agents"), AuthMethod.SERVICE_TOKEN),
            "prod",
            "production");
    SessionContext forOutsider = session(agent("copilot", "eve@elsewhere"), "prod", "production");
    SessionContext password =
        session(new Identity("dave", Set.of(), AuthMethod.SCRAM_SHA_256), "prod", "production");

    assertThat(p.admit(forAlice, NOON).rule()).isEqualTo("agents-for-engineers");
    assertThat(p.admit(forAlice, NOON).allowed()).isTrue();
    assertThat(p.admit(forNobody, NOON).allowed()).isFalse();
    assertThat(p.admit(forNobody, NOON).rule()).isEqualTo("agents-only-for-people");
    assertThat(p.admit(forOutsider, NOON).rule()).isEqualTo("(default)");
    assertThat(p.admit(forOutsider, NOON).allowed()).isFalse();
    assertThat(p.admit(ALICE_PROD, NOON).rule()).isEqualTo("people-by-oidc");
    assertThat(p.admit(password, NOON).allowed()).isFalse();
  }

  @Test
  void conditionsReadTheSessionAndTheTime() throws PolicyException {
    Policy p =
        policy(
            false,
            AccessRule.of(
                "office-hours-from-the-office",
                "ip_in(session.source, '10.0.0.0/8') && session.database == 'shop'"
                    + " && session.application == 'psql' && env.name == 'prod'"
                    + " && identity.name == 'alice'"
                    + " && request.time.getHours('UTC') >= 8 && request.time.getHours('UTC') < 18",
                true));
    assertThat(p.admit(ALICE_PROD, NOON).allowed()).isTrue();
    assertThat(p.admit(ALICE_PROD, Instant.parse("2026-03-02T22:00:00Z")).allowed()).isFalse();
    SessionContext elsewhere =
        new SessionContext(
            "s2",
            ALICE_PROD.identity(),
            ALICE_PROD.environment(),
            "[2001:db8::1]:5000",
            "shop",
            "psql");
    assertThat(p.admit(elsewhere, NOON).allowed()).isFalse();
  }

  @Test
  void aConditionThatFailsRefusesTheSession() throws PolicyException {
    Policy p =
        policy(
            true,
            AccessRule.of("broken-cidr", "ip_in(session.source, '10.0.0.0/99')", true),
            AccessRule.of("everyone", "true", true));
    Admission a = p.admit(ALICE_PROD, NOON);
    assertThat(a.allowed()).isFalse();
    assertThat(a.rule()).isEqualTo("broken-cidr");
    assertThat(a.message())
        .startsWith("the access rule could not be evaluated (Warden fails closed): ")
        .contains("bad prefix length");
  }

  @Test
  void anAccessRuleMayNotReadTheStatementOrItsPath() {
    AccessRule kind =
        new AccessRule(
            "by-kind", "", "statement.kind == 'read' && 'x' in identity.groups", true, "", "p:7:5");
    AccessRule path = new AccessRule("by-path", "", "request.path == 'simple'", false, "", "p:9:5");
    AccessRule flags =
        new AccessRule(
            "by-flag",
            "",
            "'locks' in statement.flags || statement.multi_statement",
            false,
            "",
            "");
    assertThat(problems(kind, path, flags))
        .containsExactly(
            "p:7:5: access rule 'by-kind' reads statement.kind, but access is decided once per"
                + " session, before any statement; an access rule may read identity.*, env.*,"
                + " session.* and request.time",
            "p:9:5: access rule 'by-path' reads request.path, but access is decided once per"
                + " session, before any statement; an access rule may read identity.*, env.*,"
                + " session.* and request.time",
            "access rule 'by-flag' reads statement.flags, statement.multi_statement, but access is"
                + " decided once per session, before any statement; an access rule may read"
                + " identity.*, env.*, session.* and request.time");
  }

  @Test
  void accessConditionsAreCompiledAndNamedLikeStatementRules() {
    AccessRule typo = new AccessRule("typo", "", "identity.gruops == []", true, "", "p:3:5");
    AccessRule notBool = new AccessRule("not-bool", "", "identity.name", true, "", "p:5:5");
    assertThat(problems(typo, notBool))
        .satisfiesExactly(
            p ->
                assertThat(p)
                    .startsWith("p:3:5: access rule 'typo': condition 1:")
                    .contains("identity.on_behalf_of"),
            p -> assertThat(p).startsWith("p:5:5: access rule 'not-bool': "));

    // One name space with the statement rules: the audit trail names one rule by one name.
    assertThatThrownBy(
            () ->
                Policy.compile(
                    "test",
                    List.of(
                        new Rule(
                            "prod",
                            "",
                            "true",
                            PolicyAction.ALLOW,
                            Rule.DEFAULT_SQLSTATE,
                            "",
                            "",
                            java.util.OptionalLong.empty(),
                            "p:2:5")),
                    PolicyAction.ALLOW,
                    dev.warden.core.masking.MaskingRules.defaults(),
                    new AccessRules(
                        true, List.of(new AccessRule("prod", "", "true", true, "", "p:9:5")))))
        .isInstanceOf(PolicyException.class)
        .hasMessage("p:9:5: duplicate rule name 'prod' (first at p:2:5)");
  }

  @Test
  void theAccessSectionIsPartOfTheVersionUnlessItIsOpen() throws PolicyException {
    long plain = Policy.compile("test", NO_RULES, PolicyAction.ALLOW).version();
    assertThat(policy(true).version()).isEqualTo(plain);
    long denyAll = policy(false).version();
    assertThat(denyAll).isNotEqualTo(plain);
    AccessRule a = AccessRule.of("a", "true", true);
    assertThat(policy(false, a).version()).isNotEqualTo(denyAll).isNotEqualTo(plain);
    assertThat(policy(false, a).version()).isEqualTo(policy(false, a).version());
    assertThat(policy(false, AccessRule.of("a", "true", false)).version())
        .isNotEqualTo(policy(false, a).version());
    assertThat(policy(false, a).withPseudonymKey(new byte[32]).admit(CAROL_PROD, NOON).rule())
        .isEqualTo("a");
  }

  @Test
  void theGatekeeperAsksThePolicyInForceForEachNewSession() throws PolicyException {
    AtomicReference<Policy> current = new AtomicReference<>(policy(true));
    SqlAnalyzer none =
        (String sql, LexicalSettings settings) -> {
          throw new IllegalStateException("no statements here");
        };
    PolicyGatekeeper gate =
        new PolicyGatekeeper(none, current::get, Set.of("prod"), InstantSource.fixed(NOON));
    assertThat(gate.admit(CAROL_PROD)).isSameAs(Admission.OPEN);

    // A reload that closes production to sales applies to the next session, in observe-only
    // environments too.
    current.set(policy(true, AccessRule.of("no-sales", "'sales' in identity.groups", false)));
    assertThat(gate.admit(CAROL_PROD).allowed()).isFalse();
    assertThat(gate.admit(CAROL_PROD).rule()).isEqualTo("no-sales");
    assertThat(gate.admit(ALICE_PROD).allowed()).isTrue();

    current.set(null);
    Admission noPolicy = gate.admit(ALICE_PROD);
    assertThat(noPolicy.allowed()).isFalse();
    assertThat(noPolicy.message())
        .startsWith("its access could not be decided (Warden fails closed): ");
  }

  @Test
  void statementRulesReadWhomAnAgentActsForToo() throws PolicyException {
    Policy p =
        Policy.compile(
            "test",
            List.of(
                Rule.of(
                    "not-for-alice", "identity.on_behalf_of == 'alice@corp'", PolicyAction.DENY)),
            PolicyAction.ALLOW);
    // The same token name acting for someone else, or for itself: judged (and cached) apart.
    SessionContext forAlice = session(agent("copilot", "alice@corp"), "prod", "production");
    SessionContext forBob = session(agent("copilot", "bob@corp"), "prod", "production");
    SessionContext alone =
        session(
            new Identity("copilot", Set.of("agents"), AuthMethod.SERVICE_TOKEN),
            "prod",
            "production");
    dev.warden.core.statement.Statement select = Facts.select("t");
    for (int i = 0; i < 2; i++) {
      assertThat(p.judge(select, false, input(forAlice)).refuses()).isTrue();
      assertThat(p.judge(select, false, input(forBob)).refuses()).isFalse();
      assertThat(p.judge(select, false, input(alone)).refuses()).isFalse();
    }
  }

  private static PolicyInput input(SessionContext session) {
    return new PolicyInput(session, dev.warden.core.gate.StatementPath.SIMPLE, NOON);
  }
}

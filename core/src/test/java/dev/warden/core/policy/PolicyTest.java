package dev.warden.core.policy;

import static dev.warden.core.policy.Facts.drop;
import static dev.warden.core.policy.Facts.environment;
import static dev.warden.core.policy.Facts.select;
import static dev.warden.core.policy.Facts.session;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyTest {
  private static final Instant NOON = Instant.parse("2026-03-02T12:00:00Z");
  private static final PolicyInput PROD =
      new PolicyInput(
          session("alice", Set.of("dev", "oncall"), environment("prod", "production")),
          StatementPath.SIMPLE,
          NOON);

  private static Policy policy(Rule... rules) throws PolicyException {
    return Policy.compile("test", List.of(rules), PolicyAction.ALLOW);
  }

  private static boolean holds(String condition, Statement statement, boolean multi)
      throws PolicyException {
    Policy p =
        Policy.compile(
            "t", List.of(Rule.of("r", condition, PolicyAction.DENY)), PolicyAction.ALLOW);
    Judgement j = p.judge(statement, multi, PROD);
    assertThat(j.error()).isEmpty();
    return j.refuses();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          identity.name == 'alice'                               | true
          'oncall' in identity.groups                            | true
          identity.groups == ['dev', 'oncall']                   | true
          identity.method == 'scram_sha_256'                     | true
          identity.on_behalf_of == ''                            | true
          env.name == 'prod'                                     | true
          'production' in env.tags                               | true
          session.database == 'shop'                             | true
          session.application == 'psql'                         | true
          session.source == '10.1.2.3'                           | true
          ip_in(session.source, '10.0.0.0/8')                    | true
          ip_in(session.source, '10.1.2.3')                      | true
          ip_in(session.source, '192.168.0.0/16')                | false
          request.path == 'simple'                               | true
          request.time == timestamp('2026-03-02T12:00:00Z')      | true
          request.time.getHours('UTC') >= 9                      | true
          statement.kind == 'ddl'                                | true
          statement.command == 'DROP TABLE'                      | true
          statement.tables == ['public.orders']                  | true
          statement.tables_read == []                            | true
          statement.tables_written == ['public.orders']          | true
          any_table_matches(statement.tables, 'orders')          | true
          any_table_matches(statement.tables, 'public.*')        | true
          any_table_matches(statement.tables, 'billing.*')       | false
          statement.tables.exists(t, table_matches(t, '*.orders')) | true
          'destructive' in statement.flags                       | true
          'unbounded' in statement.flags                         | false
          statement.has_where                                    | true
          statement.where_trivially_true                         | false
          statement.unknown_reason == ''                         | true
          statement.multi_statement                              | false
          statement.functions.size() == 0                        | true
          statement.columns == []                                | true
          statement.command.lowerAscii().startsWith('drop')      | true
          """)
  void conditionsSeeTheVariables(String condition, boolean expected) throws PolicyException {
    assertThat(holds(condition, drop("orders"), false)).isEqualTo(expected);
  }

  @Test
  void columnsAndFunctionsOfAStatement() throws PolicyException {
    assertThat(holds("statement.columns == ['orders.id']", select("orders"), false)).isTrue();
    assertThat(holds("statement.columns_read == ['orders.id']", select("orders"), false)).isTrue();
    assertThat(holds("statement.columns_written == []", select("orders"), false)).isTrue();
    assertThat(holds("'lower' in statement.functions", select("orders"), false)).isTrue();
    assertThat(holds("statement.multi_statement", select("orders"), true)).isTrue();
  }

  @Test
  void computedAndFilteredColumnsOfAStatement() throws PolicyException {
    TableRef users = TableRef.unqualified("users");
    Statement s =
        new Statement(
            StatementKind.READ,
            "SELECT",
            Set.of(users),
            Set.of(),
            Set.of(new ColumnRef(users, "email"), new ColumnRef(users, "id")),
            Set.of(),
            Set.of(new ColumnRef(users, "email")),
            Set.of(new ColumnRef(users, "id")),
            Set.of("upper"),
            true,
            false,
            Set.of(),
            "",
            "",
            java.util.Optional.empty());
    assertThat(holds("statement.columns_computed == ['users.email']", s, false)).isTrue();
    assertThat(holds("statement.columns_filtered == ['users.id']", s, false)).isTrue();
    assertThat(holds("statement.columns_computed == []", select("orders"), false)).isTrue();
  }

  @Test
  void theFirstMatchingRuleDecidesAndTheDefaultAppliesWhenNoneMatches() throws PolicyException {
    Policy p =
        Policy.compile(
            "t",
            List.of(
                Rule.of("reads", "statement.kind == 'read'", PolicyAction.ALLOW),
                Rule.of("ddl", "statement.kind == 'ddl'", PolicyAction.DENY),
                Rule.of("all-ddl-again", "statement.kind == 'ddl'", PolicyAction.ALLOW)),
            PolicyAction.REQUIRE_APPROVAL);
    assertThat(p.judge(select("t"), false, PROD).ruleName()).isEqualTo("reads");
    Judgement dropped = p.judge(drop("t"), false, PROD);
    assertThat(dropped.ruleName()).isEqualTo("ddl");
    assertThat(dropped.action()).isEqualTo(PolicyAction.DENY);
    Judgement other = p.judge(Facts.delete("t", true), false, PROD);
    assertThat(other.rule()).isEmpty();
    assertThat(other.action()).isEqualTo(PolicyAction.REQUIRE_APPROVAL);
    assertThat(other.denial().message())
        .isEqualTo("Warden refused this statement: approval is required (the policy's default)");
  }

  @Test
  void aDenialNamesTheRuleAndCarriesItsHintAndSqlState() throws PolicyException {
    Rule rule =
        new Rule(
            "no-drop",
            "",
            "statement.command.startsWith('DROP')",
            PolicyAction.DENY,
            "42P99",
            "DROP is not allowed in production",
            "Run it in a non-production environment.",
            OptionalLong.empty(),
            "");
    Verdict.Deny deny = policy(rule).judge(drop("t"), false, PROD).denial();
    assertThat(deny.sqlState()).isEqualTo("42P99");
    assertThat(deny.message())
        .isEqualTo(
            "Warden refused this statement: DROP is not allowed in production (rule \"no-drop\")");
    assertThat(deny.hint()).isEqualTo("Run it in a non-production environment.");
  }

  @Test
  void requireApprovalSaysApprovalIsRequired() throws PolicyException {
    Rule rule =
        Rule.of("approve-ddl", "statement.kind == 'ddl'", PolicyAction.REQUIRE_APPROVAL)
            .withMessage("schema changes in production", "");
    Verdict.Deny deny = policy(rule).judge(drop("t"), false, PROD).denial();
    assertThat(deny.message())
        .isEqualTo(
            "Warden refused this statement: approval is required: schema changes in production"
                + " (rule \"approve-ddl\")");
    assertThat(deny.hint()).contains("approve");
  }

  @Test
  void compileErrorsAreAllReportedWithTheRulesOrigin() {
    List<Rule> rules =
        List.of(
            at(Rule.of("typo", "statement.knd == 'ddl'", PolicyAction.DENY), "p.yaml:3:5"),
            at(Rule.of("syntax", "statement.kind == ", PolicyAction.DENY), "p.yaml:6:5"),
            at(Rule.of("not-bool", "statement.kind", PolicyAction.DENY), "p.yaml:9:5"),
            at(Rule.of("types", "statement.tables == 'x'", PolicyAction.DENY), "p.yaml:12:5"),
            at(Rule.of("typo", "true", PolicyAction.DENY), "p.yaml:15:5"),
            at(Rule.of("unknown-fn", "nope(1)", PolicyAction.DENY), "p.yaml:18:5"));
    assertThatThrownBy(() -> Policy.compile("p.yaml", rules, PolicyAction.ALLOW))
        .isInstanceOfSatisfying(
            PolicyException.class,
            e -> {
              assertThat(e.problems()).hasSize(6);
              assertThat(e.problems().get(0).toString())
                  .startsWith(
                      "p.yaml:3:5: rule 'typo': condition 1:1: no such variable; the statement.* variables are statement.kind,");
              assertThat(e.problems().get(1).toString()).startsWith("p.yaml:6:5: rule 'syntax':");
              assertThat(e.problems().get(2).toString())
                  .contains("rule 'not-bool'")
                  .contains("expected type 'bool' but found 'string'");
              assertThat(e.problems().get(3).toString()).contains("rule 'types'");
              assertThat(e.problems().get(4).toString())
                  .isEqualTo("p.yaml:15:5: duplicate rule name 'typo' (first at p.yaml:3:5)");
              assertThat(e.problems().get(5).toString()).contains("nope");
            });
  }

  @Test
  void aConditionThatFailsToEvaluateDenies() throws PolicyException {
    Policy p =
        policy(
            Rule.of("fragile", "statement.tables[3] == 'x'", PolicyAction.ALLOW),
            Rule.of("bad-cidr", "ip_in(session.source, 'nonsense')", PolicyAction.ALLOW));
    Judgement j = p.judge(drop("t"), false, PROD);
    assertThat(j.refuses()).isTrue();
    assertThat(j.ruleName()).isEqualTo("fragile");
    assertThat(j.denial().message())
        .startsWith("Warden refused this statement: its policy rule could not be evaluated: ")
        .endsWith("(rule \"fragile\")");
    Policy cidr =
        policy(Rule.of("bad-cidr", "ip_in(session.source, '10.0.0.0/99')", PolicyAction.ALLOW));
    assertThat(cidr.judge(drop("t"), false, PROD).error()).contains("bad prefix length");
  }

  @Test
  void readingTheTimeIsDetectedAndDisablesTheCache() throws PolicyException {
    Policy timed = policy(Rule.of("hours", "request.time.getHours('UTC') < 6", PolicyAction.DENY));
    Policy untimed = policy(Rule.of("ddl", "statement.kind == 'ddl'", PolicyAction.DENY));
    assertThat(timed.readsTime()).isTrue();
    assertThat(untimed.readsTime()).isFalse();

    Statement s = drop("t");
    untimed.judge(s, false, PROD);
    long afterFirst = untimed.evaluations();
    for (int i = 0; i < 100; i++) {
      untimed.judge(s, false, PROD);
    }
    assertThat(untimed.evaluations()).as("a repeat is a cache hit").isEqualTo(afterFirst);

    timed.judge(s, false, PROD);
    timed.judge(s, false, PROD);
    assertThat(timed.evaluations()).isEqualTo(2);
  }

  @Test
  void theCacheTellsContextsApart() throws PolicyException {
    Policy p =
        policy(
            Rule.of(
                "prod-ddl",
                "'production' in env.tags && statement.kind == 'ddl'",
                PolicyAction.DENY));
    Statement s = drop("t");
    PolicyInput staging =
        new PolicyInput(
            session("alice", Set.of("dev", "oncall"), environment("staging")),
            StatementPath.SIMPLE,
            NOON);
    assertThat(p.judge(s, false, PROD).refuses()).isTrue();
    assertThat(p.judge(s, false, staging).refuses()).isFalse();
    assertThat(p.judge(s, false, PROD).refuses()).isTrue();
  }

  @Test
  void theVersionIsAFingerprintOfTheRules() throws PolicyException {
    Rule a = Rule.of("a", "true", PolicyAction.DENY);
    Rule b = Rule.of("a", "false", PolicyAction.DENY);
    assertThat(policy(a).version()).isEqualTo(policy(a).version()).isNotZero();
    assertThat(policy(a).version()).isNotEqualTo(policy(b).version());
    assertThat(Policy.compile("t", List.of(a), PolicyAction.DENY).version())
        .isNotEqualTo(policy(a).version());
  }

  @Test
  void ruleValuesAreChecked() {
    assertThatThrownBy(() -> Rule.of("r", "true", PolicyAction.DENY).withMaxRows(5))
        .hasMessageContaining("max_rows applies only to allow and observe");
    assertThatThrownBy(() -> Rule.of("r", "true", PolicyAction.ALLOW).withMaxRows(0))
        .hasMessageContaining("positive");
    assertThatThrownBy(
            () ->
                new Rule(
                    "r", "", "true", PolicyAction.DENY, "4250", "", "", OptionalLong.empty(), ""))
        .hasMessageContaining("SQLSTATE");
    assertThat(PolicyAction.fromFileName("require_approval"))
        .contains(PolicyAction.REQUIRE_APPROVAL);
    assertThat(PolicyAction.fromFileName("Deny")).isEmpty();
  }

  @Test
  void sourceDropsThePort() {
    assertThat(PolicyInput.sourceHost("10.0.0.1:5432")).isEqualTo("10.0.0.1");
    assertThat(PolicyInput.sourceHost("[::1]:5432")).isEqualTo("::1");
    assertThat(PolicyInput.sourceHost("::1:5432")).isEqualTo("::1");
  }

  private static Rule at(Rule r, String origin) {
    return new Rule(
        r.name(),
        r.description(),
        r.condition(),
        r.action(),
        r.sqlState(),
        r.message(),
        r.hint(),
        r.maxRows(),
        origin);
  }
}

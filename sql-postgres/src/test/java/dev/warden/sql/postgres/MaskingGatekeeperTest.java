package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyAction;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.policy.Rule;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The decision point with data maps behind it: the masking each decision hands the proxy, masking's
 * refusals, and the decision cache and prepared-statement rechecks staying correct when the map is
 * rebuilt or an identity's exemption begins or ends.
 */
class MaskingGatekeeperTest {
  /** With a cache: a repeated text is the same analysis, which is what decisions are cached by. */
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(1_000);

  private static final Instant T0 = Instant.parse("2026-11-27T12:00:00Z");
  private static final Instant EXEMPT_UNTIL = T0.plus(Duration.ofHours(1));
  private static final Instant EXEMPT_FROM = T0.plus(Duration.ofHours(2));

  private static final Environment PROD = environment("prod");
  private static final Environment SHADOW = environment("shadow");
  private static final SessionContext ANALYST = session("ann", Set.of("analysts"), PROD);
  private static final SessionContext AUDITOR = session("aud", Set.of("auditors"), PROD);
  private static final SessionContext CONTRACTOR = session("con", Set.of("contractors"), PROD);
  private static final SessionContext ON_CALL = session("oncall", Set.of("oncall"), PROD);
  private static final SessionContext SHADOW_ANALYST = session("ann", Set.of(), SHADOW);

  /** A data maps port backed by a map the test changes; records unknown relations. */
  static final class TestMaps implements DataMaps {
    final Map<String, DataMap> maps = new ConcurrentHashMap<>();
    final List<Long> unknown = new CopyOnWriteArrayList<>();

    void put(String environment, DataMap map) {
      maps.put(environment + "/" + map.database(), map);
    }

    @Override
    public CompletableFuture<DataMap> ready(String environment, String database) {
      return CompletableFuture.completedFuture(maps.get(environment + "/" + database));
    }

    @Override
    public Optional<DataMap> current(String environment, String database) {
      return Optional.ofNullable(maps.get(environment + "/" + database));
    }

    @Override
    public void schemaChanged(String environment, String database) {}

    @Override
    public void unknownRelation(String environment, String database, long id) {
      unknown.add(id);
    }
  }

  /** A clock the test moves. */
  static final class TestClock implements InstantSource {
    volatile Instant now = T0;

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final TestMaps maps = new TestMaps();
  private final TestClock clock = new TestClock();

  MaskingGatekeeperTest() {
    maps.put("prod", MaskingFixture.map(1));
    maps.put("shadow", MaskingFixture.map(1));
  }

  private static MaskingRules rules(boolean denyInference) {
    return MaskingRules.builder()
        .denyInference(denyInference)
        .exempt(MaskingRules.Exemption.group("auditors"))
        .exempt(MaskingRules.Exemption.group("contractors").until(EXEMPT_UNTIL))
        .exempt(MaskingRules.Exemption.group("oncall").from(EXEMPT_FROM))
        .build();
  }

  private static Policy policy(MaskingRules masking) {
    try {
      return Policy.compile(
          "test",
          List.of(
              Rule.of("no-drop", "'destructive' in statement.flags", PolicyAction.DENY)
                  .withMessage("DROP is not allowed", "Ask a DBA.")),
          PolicyAction.ALLOW,
          masking);
    } catch (PolicyException e) {
      throw new AssertionError(e);
    }
  }

  private PolicyGatekeeper gate(boolean denyInference) {
    Policy p = policy(rules(denyInference));
    return new PolicyGatekeeper(ANALYZER, () -> p, Set.of("shadow"), clock, maps);
  }

  private final PolicyGatekeeper gate = gate(false);

  private static Decision decide(
      PolicyGatekeeper gate, SessionContext session, String sql, PreparedStatements prepared) {
    return gate.decide(
        StatementRequest.sql(
            session,
            sql,
            Optional.empty(),
            StatementPath.SIMPLE,
            LexicalSettings.DEFAULT,
            prepared,
            Relations.NONE));
  }

  private Decision decide(SessionContext session, String sql) {
    return decide(gate, session, sql, new PreparedStatements());
  }

  private static Optional<DataKind> kind(ColumnMask mask) {
    assertThat(mask).isNotNull();
    return mask.kind();
  }

  @Test
  void aMaskedIdentityGetsMasksByOriginColumn() {
    Decision d = decide(ANALYST, "SELECT id, email FROM users");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    ResultMasking m = d.masking();
    assertThat(m.active()).isTrue();
    assertThat(m.column(MaskingFixture.USERS, 1)).isNull();
    assertThat(kind(m.column(MaskingFixture.USERS, 2))).contains(DataKind.EMAIL);
    assertThat(kind(m.column(MaskingFixture.USERS, 3))).contains(DataKind.NATIONAL_ID);
    assertThat(kind(m.column(MaskingFixture.USERS, 0))).isEmpty(); // the whole row
    assertThat(m.column(MaskingFixture.USERS, -1)).isNull(); // ctid
    assertThat(m.column(MaskingFixture.NOTES, 0)).isNull(); // nothing sensitive in notes
    assertThat(m.computed()).isNull();
    assertThat(m.scrubErrors()).isTrue();
    assertThat(maps.unknown).isEmpty();
  }

  @Test
  void computedColumnsGetTheMaskOfWhatFeedsThem() {
    // e-mail addresses are masked partially by default, which a computed value cannot be
    assertThat(kind(decide(ANALYST, "SELECT reverse(email) FROM users").masking().computed()))
        .isEmpty();
    assertThat(kind(decide(ANALYST, "SELECT upper(ssn) FROM users").masking().computed()))
        .contains(DataKind.NATIONAL_ID);
    assertThat(kind(decide(ANALYST, "SELECT concat(email, ssn) FROM users").masking().computed()))
        .isEmpty();
    assertThat(kind(decide(ANALYST, "SELECT row_to_json(u) FROM users u").masking().computed()))
        .isEmpty();
    ResultMasking plain = decide(ANALYST, "SELECT upper(body) FROM notes").masking();
    assertThat(plain.active()).isTrue(); // the backstop still sees computed columns
    assertThat(plain.computed()).isNull();
    assertThat(plain.scrubErrors()).isFalse();
  }

  @Test
  void aRelationOrColumnTheMapLacksIsMaskedAndReported() {
    ResultMasking m = decide(ANALYST, "SELECT * FROM users").masking();
    assertThat(kind(m.column(99_999, 1))).isEmpty();
    assertThat(kind(m.column(MaskingFixture.USERS, 42))).isEmpty(); // added since the build
    assertThat(maps.unknown).containsExactly(99_999L, MaskingFixture.USERS);
  }

  @Test
  void aCopyToTheClientIsMaskedByThePositionsOfItsColumns() {
    List<ResultMasking.ExportColumn> listed =
        decide(ANALYST, "COPY public.users (id, email, data, nickname) TO STDOUT")
            .masking()
            .exportColumns(4);
    assertThat(listed.get(0).name()).isEqualTo("public.users.id");
    assertThat(listed.get(0).mask()).isNull();
    assertThat(kind(listed.get(1).mask())).contains(DataKind.EMAIL);
    assertThat(listed.get(2).mask()).isNull();
    assertThat(kind(listed.get(3).mask())).as("a column the map lacks").isEmpty();

    ResultMasking whole = decide(ANALYST, "COPY public.users TO STDOUT").masking();
    assertThat(whole.export()).isPresent();
    assertThat(
            whole.exportColumns(5).stream()
                .map(c -> c.mask() == null ? "-" : kind(c.mask()).orElseThrow().name()))
        .containsExactly("-", "EMAIL", "NATIONAL_ID", "PERSON_NAME", "-");
    assertThat(whole.exportColumns(4))
        .as("a count the map does not explain (generated columns, a map not yet rebuilt)")
        .allSatisfy(c -> assertThat(kind(c.mask())).isEmpty());

    assertThat(decide(ANALYST, "COPY users TO STDOUT").masking().exportColumns(5))
        .as("a name in two schemas whose columns differ")
        .allSatisfy(c -> assertThat(c.mask()).isNotNull());
    assertThat(
            decide(ANALYST, "COPY (SELECT id, email FROM users) TO STDOUT")
                .masking()
                .exportColumns(2))
        .as("a query's columns carry no origins")
        .allSatisfy(c -> assertThat(c.mask()).isNotNull());
    assertThat(decide(AUDITOR, "COPY public.users TO STDOUT").masking().exportColumns(5))
        .allSatisfy(c -> assertThat(c.mask()).isNull());
  }

  @Test
  void masksFollowTheCurrentMapAtTheTimeTheProxyAsks() {
    ResultMasking m = decide(ANALYST, "SELECT id, email FROM users").masking();
    maps.put("prod", MaskingFixture.plain(2));
    assertThat(m.column(MaskingFixture.USERS, 2)).isNull();
  }

  @Test
  void anExemptIdentityGetsNoMasking() {
    ResultMasking m = decide(AUDITOR, "SELECT upper(email) FROM users").masking();
    assertThat(m.active()).isFalse();
    assertThat(m.column(MaskingFixture.USERS, 2)).isNull();
    assertThat(m.computed()).isNull();
    assertThat(m.scrubErrors()).isFalse();
    assertThat(m.scrubText("alice@example.com")).isEqualTo("alice@example.com");
    assertThat(decide(AUDITOR, "COPY users TO STDOUT").verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void maskingRefusalsAreDenialsWithTheirOwnRuleAndSqlState() {
    Decision d = decide(ANALYST, "SELECT pg_notify('c', email) FROM users");
    Verdict.Deny deny = (Verdict.Deny) d.verdict();
    assertThat(deny.sqlState()).isEqualTo("42501");
    assertThat(deny.message()).contains("pg_notify() would carry masked column");
    assertThat(deny.hint()).contains("pg_notify()");
    assertThat(d.rule()).isEqualTo(PolicyGatekeeper.MASKING_RULE);
    assertThat(decide(ANALYST, "COPY notes TO STDOUT").verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void policyRefusalsComeFirst() {
    Decision d = decide(ANALYST, "DROP TABLE users");
    assertThat(d.rule()).isEqualTo("no-drop");
    assertThat(((Verdict.Deny) d.verdict()).message()).contains("DROP is not allowed");
  }

  @Test
  void inAnObservedEnvironmentAMaskingRefusalRunsMaskedAndIsMarked() {
    Decision d = decide(SHADOW_ANALYST, "SELECT pg_notify('c', email) FROM users");
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.observed()).isTrue();
    assertThat(d.rule()).isEqualTo(PolicyGatekeeper.MASKING_RULE);
    assertThat(d.masking().active()).isTrue();
  }

  @Test
  void inferenceIsRefusedOnlyWhenPolicySaysSo() {
    String sql = "SELECT id FROM users WHERE email LIKE 'a%'";
    assertThat(decide(ANALYST, sql).verdict()).isEqualTo(Verdict.ALLOW);
    Decision strict = decide(gate(true), ANALYST, sql, new PreparedStatements());
    assertThat(((Verdict.Deny) strict.verdict()).message()).contains("public.users.email");
    assertThat(decide(gate(true), AUDITOR, sql, new PreparedStatements()).verdict())
        .isEqualTo(Verdict.ALLOW);
  }

  @Test
  void aRepeatedStatementReusesItsDecisionUntilTheMapChanges() {
    Decision first = decide(ANALYST, "SELECT upper(email) FROM users");
    assertThat(decide(ANALYST, "SELECT upper(email) FROM users")).isSameAs(first);
    maps.put("prod", MaskingFixture.plain(2));
    Decision rebuilt = decide(ANALYST, "SELECT upper(email) FROM users");
    assertThat(rebuilt).isNotSameAs(first);
    assertThat(rebuilt.masking().computed()).isNull();
    assertThat(decide(ANALYST, "SELECT upper(email) FROM users")).isSameAs(rebuilt);
  }

  @Test
  void aCachedRefusalIsLiftedWhenTheMapNoLongerMarksTheColumn() {
    String notify = "SELECT pg_notify('c', email) FROM users";
    assertThat(decide(ANALYST, notify).verdict()).isInstanceOf(Verdict.Deny.class);
    maps.put("prod", MaskingFixture.plain(2));
    assertThat(decide(ANALYST, notify).verdict()).isEqualTo(Verdict.ALLOW);
  }

  @Test
  void aTimeBoxedExemptionEndsForCachedDecisions() {
    Decision during = decide(CONTRACTOR, "SELECT upper(email) FROM users");
    assertThat(during.masking().active()).isFalse();
    clock.now = EXEMPT_UNTIL.minusMillis(1);
    assertThat(decide(CONTRACTOR, "SELECT upper(email) FROM users")).isSameAs(during);
    clock.now = EXEMPT_UNTIL;
    Decision after = decide(CONTRACTOR, "SELECT upper(email) FROM users");
    assertThat(after.masking().active()).isTrue();
    assertThat(after.masking().computed()).isNotNull();
  }

  @Test
  void anExemptionThatBeginsLaterStartsForCachedDecisions() {
    String notify = "SELECT pg_notify('c', email) FROM users";
    Decision before = decide(ON_CALL, notify);
    assertThat(before.verdict()).isInstanceOf(Verdict.Deny.class);
    clock.now = EXEMPT_FROM;
    Decision during = decide(ON_CALL, notify);
    assertThat(during.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(during.masking().active()).isFalse();
  }

  @Test
  void aRecheckReusesThePreparedDecisionOnlyWhileTheMapAndExemptionHold() {
    PreparedStatements prepared = new PreparedStatements();
    Decision earlier = decide(gate, ANALYST, "SELECT upper(email) FROM users", prepared);
    assertThat(gate.recheck(ANALYST, prepared, Relations.NONE, earlier)).isSameAs(earlier);
    maps.put("prod", MaskingFixture.plain(2));
    Decision again = gate.recheck(ANALYST, prepared, Relations.NONE, earlier);
    assertThat(again).isNotSameAs(earlier);
    assertThat(again.masking().computed()).isNull();

    Decision exempt = decide(gate, CONTRACTOR, "SELECT upper(email) FROM users", prepared);
    assertThat(gate.recheck(CONTRACTOR, prepared, Relations.NONE, exempt)).isSameAs(exempt);
    clock.now = EXEMPT_UNTIL.plusSeconds(1);
    assertThat(gate.recheck(CONTRACTOR, prepared, Relations.NONE, exempt).masking().active())
        .isTrue();
  }

  @Test
  void anExecuteIsMaskedAsOfUnknownOriginAndJudgedAsWhatItRuns() {
    PreparedStatements prepared = new PreparedStatements();
    assertThat(decide(gate, ANALYST, "PREPARE p AS SELECT email FROM users", prepared).verdict())
        .isEqualTo(Verdict.ALLOW);
    Decision execute = decide(gate, ANALYST, "EXECUTE p", prepared);
    assertThat(execute.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(kind(execute.masking().computed())).isEmpty();
    Decision copying =
        decide(
            gate,
            ANALYST,
            "PREPARE q AS INSERT INTO notes (body) SELECT email FROM users",
            prepared);
    assertThat(((Verdict.Deny) copying.verdict()).message()).contains("INSERT would copy");
    assertThat(decide(gate, ANALYST, "EXECUTE q", prepared).verdict())
        .isInstanceOf(Verdict.Deny.class); // never prepared: it could run anything
    Decision call =
        gate.decide(StatementRequest.functionCall(ANALYST, 1_234, new PreparedStatements()));
    assertThat(((Verdict.Deny) call.verdict()).message()).contains("could not analyse");
  }

  @Test
  void withNoMapYetEveryColumnIsMasked() {
    maps.maps.clear();
    ResultMasking m = decide(ANALYST, "SELECT id FROM notes").masking();
    assertThat(kind(m.column(MaskingFixture.NOTES, 1))).isEmpty();
    assertThat(kind(m.computed())).isEmpty();
    assertThat(m.scrubErrors()).isTrue();
  }

  @Test
  void withoutDataMapsNothingIsMasked() {
    Policy p = policy(rules(true));
    PolicyGatekeeper plain = new PolicyGatekeeper(ANALYZER, () -> p, Set.of(), clock);
    Decision d = decide(plain, ANALYST, "COPY users TO STDOUT", new PreparedStatements());
    assertThat(d.verdict()).isEqualTo(Verdict.ALLOW);
    assertThat(d.masking()).isSameAs(ResultMasking.NONE);
  }

  private static Environment environment(String name) {
    return new Environment(
        name,
        Set.of("production"),
        List.of("*"),
        new Upstream(
            "localhost",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  private static SessionContext session(String user, Set<String> groups, Environment env) {
    return new SessionContext(
        "s-" + user,
        new Identity(user, groups, AuthMethod.SCRAM_SHA_256),
        env,
        "10.1.2.3:51234",
        "app",
        "psql");
  }
}

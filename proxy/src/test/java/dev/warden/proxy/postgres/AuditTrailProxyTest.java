package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy records before it forwards (THREATS AD01): a statement that changes something does not
 * reach the real database until its intent record is durable, a plain read does not wait, a record
 * that cannot be made durable refuses the statement (SQLSTATE 58030) and nothing runs, and every
 * path leaves its records: intents, outcomes with rows and SQLSTATEs, refusals and session events
 * (AD08). The database's own table is the oracle of what ran.
 */
class AuditTrailProxyTest {
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture(new KindGatekeeper(), s -> s);
    fixture.sql("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @BeforeEach
  void reset() {
    fixture.audit.fail(null);
    fixture.audit.releaseHeld(null);
    fixture.sql("TRUNCATE t");
    fixture.audit.clear();
  }

  private static long rows() throws SQLException {
    try (Connection c = fixture.direct();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Connection connect(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", mode);
    return fixture.connect(p);
  }

  private static void awaitHeld() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (fixture.audit.heldCount() == 0) {
      assertThat(System.nanoTime()).as("a record held").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void aWriteReachesTheDatabaseOnlyOnceItsIntentIsDurable() throws Exception {
    for (String mode : List.of("simple", "extended")) {
      fixture.sql("TRUNCATE t");
      try (Connection c = connect(mode)) {
        fixture.audit.holdImmediate();
        CompletableFuture<Integer> insert =
            CompletableFuture.supplyAsync(
                () -> {
                  try (PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, 1)")) {
                    ps.setInt(1, 7);
                    return ps.executeUpdate();
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        awaitHeld();
        Thread.sleep(200); // time enough for a forwarded INSERT to land
        assertThat(rows()).as(mode + ": nothing ran before the intent was durable").isZero();
        assertThat(insert).isNotDone();
        fixture.audit.releaseHeld(null);
        assertThat(insert.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(rows()).isEqualTo(1);
      }
    }
  }

  @Test
  void aPlainReadDoesNotWaitForTheFsync() throws Exception {
    try (Connection c = connect("extended")) {
      fixture.audit.holdImmediate();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
      assertThat(fixture.audit.heldCount()).isZero();
    }
  }

  @Test
  void anIntentThatCannotBeMadeDurableRefusesTheStatementAndNothingRuns() throws Exception {
    for (String mode : List.of("simple", "extended")) {
      try (Connection c = connect(mode)) {
        fixture.audit.holdImmediate();
        CompletableFuture<Void> insert =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    c.createStatement().executeUpdate("INSERT INTO t VALUES (1, 1)");
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        awaitHeld();
        fixture.audit.releaseHeld("fsync failed: Input/output error");
        assertThatThrownBy(() -> insert.get(10, TimeUnit.SECONDS))
            .cause()
            .cause()
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("fsync failed")
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
        assertThat(rows()).as(mode).isZero();
        // The session goes on once the trail records again.
        try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
          assertThat(rs.next()).isTrue();
        }
      }
    }
  }

  @Test
  void anUnavailableTrailRefusesEveryStatementUntilItRecovers() throws Exception {
    try (Connection c = connect("extended")) {
      fixture.audit.fail("the audit disk is full");
      assertThatThrownBy(() -> c.createStatement().executeUpdate("INSERT INTO t VALUES (1, 1)"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("the audit disk is full")
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
      assertThat(rows()).isZero();
      fixture.audit.fail(null);
      assertThat(c.createStatement().executeUpdate("INSERT INTO t VALUES (1, 1)")).isEqualTo(1);
    }
    // A new session cannot even begin while the trail refuses records.
    fixture.audit.fail("the audit disk is full");
    assertThatThrownBy(() -> connect("simple").close())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("cannot record this session");
  }

  @Test
  void everyPathLeavesAnIntentAndAnOutcome() throws Exception {
    try (Connection c = connect("simple")) {
      c.createStatement().execute("INSERT INTO t VALUES (1, 1), (2, 1); UPDATE t SET v = 2");
      assertThatThrownBy(() -> c.createStatement().execute("SELECT 1 / 0"));
      assertThatThrownBy(() -> c.createStatement().execute("DROP TABLE t"))
          .hasMessageContaining("refused");
    }
    try (Connection c = connect("extended");
        PreparedStatement ps = c.prepareStatement("DELETE FROM t WHERE id = ?")) {
      ps.setInt(1, 1);
      assertThat(ps.executeUpdate()).isEqualTo(1);
      try (ResultSet rs = c.createStatement().executeQuery("SELECT id FROM t")) {
        assertThat(rs.next()).isTrue();
      }
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1 / 0"));
    }
    RecordingAssertions r = new RecordingAssertions(fixture.audit.records());
    StatementIntent multi = r.intent("INSERT INTO t VALUES (1, 1), (2, 1); UPDATE t SET v = 2");
    assertThat(multi.decision().verdict()).isEqualTo(Verdict.ALLOW);
    StatementOutcome multiOutcome = r.outcomeOf(multi);
    assertThat(multiOutcome.status()).isEqualTo(StatementOutcome.Status.OK);
    assertThat(multiOutcome.rows()).hasValue(4);
    assertThat(multiOutcome.commandTag()).isEqualTo("INSERT 0 2; UPDATE 2");

    StatementOutcome divide = r.outcomeOf(r.intent("SELECT 1 / 0"));
    assertThat(divide.status()).isEqualTo(StatementOutcome.Status.ERROR);
    assertThat(divide.sqlState()).isEqualTo("22012");

    StatementIntent drop = r.intent("DROP TABLE t");
    assertThat(drop.decision().verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(r.outcomes(drop)).isEmpty();

    StatementIntent delete = r.intent("DELETE FROM t WHERE id = $1");
    assertThat(delete.path()).isEqualTo(dev.warden.core.gate.StatementPath.PREPARED);
    assertThat(r.outcomeOf(delete).rows()).hasValue(1);
    assertThat(r.outcomeOf(r.intent("SELECT id FROM t")).rows()).hasValue(1);
    StatementIntent extendedError = r.intents("SELECT 1 / 0").getLast();
    assertThat(r.outcomeOf(extendedError).sqlState()).isEqualTo("22012");

    fixture.audit.await(
        x -> x instanceof AuditEvent e && e.name().equals("disconnect"), Duration.ofSeconds(5));
    assertThat(r.events("authenticate")).isNotEmpty();
    List<AuditEvent> connects = new RecordingAssertions(fixture.audit.records()).events("connect");
    assertThat(connects).hasSize(2);
    assertThat(connects.getFirst().details()).containsKeys("upstream_role", "tls");
    assertThat(connects.getFirst().session()).isPresent();
  }

  @Test
  void anExecuteAfterARefusedParseIsNotRecordedAsThePreviousStatement() throws Exception {
    // pgjdbc sends Parse (refused), Bind and Execute of the unnamed statement in one batch; the
    // server drops the old unnamed statement before it fails the Parse and skips the rest, so
    // the Execute runs nothing and must not be recorded as the statement parsed before it.
    try (Connection c = connect("extendedForPrepared")) {
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM t WHERE id > ?")) {
        ps.setInt(1, 0);
        ps.executeQuery().close();
      }
      assertThatThrownBy(() -> c.prepareStatement("DROP TABLE t").execute())
          .hasMessageContaining("refused");
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 2")) {
        assertThat(rs.next()).isTrue();
      }
    }
    fixture.audit.await(
        x -> x instanceof AuditEvent e && e.name().equals("disconnect"), Duration.ofSeconds(5));
    RecordingAssertions r = new RecordingAssertions(fixture.audit.records());
    assertThat(r.intents("SELECT count(*) FROM t WHERE id > $1"))
        .as("the earlier statement is recorded once, when it ran")
        .hasSize(1);
    assertThat(r.intent("DROP TABLE t").decision().verdict()).isInstanceOf(Verdict.Deny.class);
    assertThat(r.outcomeOf(r.intent("SELECT 2")).rows()).hasValue(1);
  }

  @Test
  void aFailedLoginIsRecordedWithoutThePassword() throws Exception {
    Properties p = new Properties();
    p.setProperty("user", ProxyFixture.USER);
    p.setProperty("password", "canary-9f3a1c77e2");
    assertThatThrownBy(() -> java.sql.DriverManager.getConnection(fixture.proxyUrl(), p).close())
        .isInstanceOf(SQLException.class);
    AuditEvent failed =
        (AuditEvent)
            fixture.audit.await(
                x -> x instanceof AuditEvent e && e.name().equals("authenticate") && !e.success(),
                Duration.ofSeconds(5));
    assertThat(failed.details()).containsEntry("claimed_user", ProxyFixture.USER);
    assertThat(fixture.audit.records().toString()).doesNotContain("canary-9f3a1c77e2");
  }

  /** Finds records of one test's statements by their text. */
  private record RecordingAssertions(List<AuditRecord> records) {
    List<StatementIntent> intents(String text) {
      return records.stream()
          .filter(r -> r instanceof StatementIntent i && i.text().equals(text))
          .map(StatementIntent.class::cast)
          .toList();
    }

    StatementIntent intent(String text) {
      List<StatementIntent> found = intents(text);
      assertThat(found).as("intents of " + text).isNotEmpty();
      return found.getFirst();
    }

    List<StatementOutcome> outcomes(StatementIntent intent) {
      return records.stream()
          .filter(
              r ->
                  r instanceof StatementOutcome o
                      && o.sessionId().equals(intent.session().id())
                      && o.number() == intent.number())
          .map(StatementOutcome.class::cast)
          .toList();
    }

    StatementOutcome outcomeOf(StatementIntent intent) {
      List<StatementOutcome> found = outcomes(intent);
      assertThat(found).as("outcome of " + intent.text()).hasSize(1);
      return found.getFirst();
    }

    List<AuditEvent> events(String name) {
      return records.stream()
          .filter(r -> r instanceof AuditEvent e && e.name().equals(name))
          .map(AuditEvent.class::cast)
          .toList();
    }
  }

  /**
   * Classifies by the first word (SELECT reads, INSERT/UPDATE/DELETE write) and refuses DROP: the
   * proxy's side of recording is under test, not statement analysis.
   */
  static final class KindGatekeeper implements Gatekeeper {
    @Override
    public Decision decide(StatementRequest request) {
      List<Statement> statements = new ArrayList<>();
      for (String part : request.sql().split(";")) {
        String text = part.strip();
        if (text.isEmpty()) {
          continue;
        }
        String command = text.split("\\s+")[0].toUpperCase(Locale.ROOT);
        if (command.equals("DROP")) {
          return new Decision(
              new Verdict.Deny("42501", "Warden refused this statement: DROP", "Don't."),
              new Analysis(List.of(), ""),
              "no-drop",
              false,
              OptionalLong.empty(),
              null,
              0,
              true);
        }
        StatementKind kind =
            switch (command) {
              case "SELECT", "SHOW" -> StatementKind.READ;
              case "BEGIN", "COMMIT", "ROLLBACK" -> StatementKind.TRANSACTION;
              case "SET" -> StatementKind.SESSION;
              default -> StatementKind.WRITE;
            };
        statements.add(TestStatements.of(kind, command));
      }
      return new Decision(
          Verdict.ALLOW,
          new Analysis(statements, ""),
          "",
          false,
          OptionalLong.empty(),
          null,
          0,
          true);
    }
  }
}

package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.sql.BatchUpdateException;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The row-count guardrail against the real server: a statement that changes more rows than its
 * limit is rolled back and refused, in autocommit and inside the client's own transaction, through
 * the simple and the extended protocol; one within the limit runs and commits as usual. The
 * database's own state is the oracle.
 *
 * <p>The gatekeeper here limits every UPDATE and DELETE to {@value #LIMIT} rows and marks
 * transaction control as such: the proxy's side of the guardrail is under test, not policy.
 */
class RowLimitTest {
  static final long LIMIT = 2;
  static final String DENIAL = "changed more than 2 rows";
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture(new LimitingGatekeeper(), s -> s);
    fixture.sql("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @BeforeEach
  void reset() {
    fixture.sql("TRUNCATE t");
    fixture.sql("INSERT INTO t SELECT g, 0 FROM generate_series(1, 5) g");
  }

  private static Connection connect(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", mode);
    return fixture.connect(p);
  }

  private static long count(String where) throws SQLException {
    try (Connection c = fixture.direct();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended", "extendedForPrepared"})
  void withinTheLimitRunsAndCommits(String mode) throws Exception {
    try (Connection c = connect(mode)) {
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id <= 2")).isEqualTo(2);
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 1 WHERE id = 3")).isEqualTo(1);
      // The session is idle again: a new statement starts its own transaction.
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 2 WHERE id = 4")).isEqualTo(1);
    }
    assertThat(count("true")).isEqualTo(3);
    assertThat(count("v = 1")).isEqualTo(1);
    assertThat(count("v = 2")).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void overTheLimitIsRolledBackAndRefusedInAutocommit(String mode) throws Exception {
    try (Connection c = connect(mode)) {
      assertThatThrownBy(() -> c.createStatement().executeUpdate("DELETE FROM t WHERE id > 0"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining(DENIAL)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      // The connection goes on, outside any transaction.
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 9 WHERE id = 1")).isEqualTo(1);
    }
    assertThat(count("true")).isEqualTo(5);
    assertThat(count("v = 9")).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void overTheLimitInsideATransactionLeavesItFailed(String mode) throws Exception {
    try (Connection c = connect(mode)) {
      c.setAutoCommit(false);
      c.createStatement().executeUpdate("UPDATE t SET v = 5 WHERE id = 5");
      assertThatThrownBy(() -> c.createStatement().executeUpdate("UPDATE t SET v = 1"))
          .hasMessageContaining(DENIAL);
      // As after any failed statement, the block stays failed until ROLLBACK.
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .hasMessageContaining("current transaction is aborted");
      c.rollback();
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 7 WHERE id = 2")).isEqualTo(1);
      c.commit();
    }
    assertThat(count("v = 1")).isZero();
    assertThat(count("v = 5")).isZero(); // rolled back with the client's transaction
    assertThat(count("v = 7")).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void withinTheLimitInsideATransactionKeepsItOpen(String mode) throws Exception {
    try (Connection c = connect(mode)) {
      c.setAutoCommit(false);
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id = 1")).isEqualTo(1);
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id IN (2, 3)"))
          .isEqualTo(2);
      // Not yet visible elsewhere: the transaction is still the client's to end.
      assertThat(count("true")).isEqualTo(5);
      c.commit();
    }
    assertThat(count("true")).isEqualTo(2);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void aBatchWithOneStatementOverTheLimitChangesNothing(String mode) throws Exception {
    try (Connection c = connect(mode);
        PreparedStatement ps = c.prepareStatement("UPDATE t SET v = v + 1 WHERE id >= ?")) {
      ps.setInt(1, 5);
      ps.addBatch(); // 1 row
      ps.setInt(1, 1);
      ps.addBatch(); // 5 rows: over
      ps.setInt(1, 4);
      ps.addBatch(); // 2 rows
      assertThatThrownBy(ps::executeBatch)
          .isInstanceOf(BatchUpdateException.class)
          .hasMessageContaining(DENIAL);
    }
    if (mode.equals("simple")) {
      // pgjdbc sends a simple-mode batch as separate pipelined queries, each its own transaction
      // in autocommit, as without Warden: the first and the third ran; the refused one changed
      // nothing.
      assertThat(count("id <= 3 AND v = 0")).isEqualTo(3);
      assertThat(count("id = 4 AND v = 1")).isEqualTo(1);
      assertThat(count("id = 5 AND v = 2")).isEqualTo(1);
    } else {
      // An extended-protocol batch is one transaction up to Sync: nothing of it remains, as when
      // any statement of it fails.
      assertThat(count("v > 0")).isZero();
    }
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void aBatchWithinTheLimitCommitsEveryStatement(String mode) throws Exception {
    try (Connection c = connect(mode);
        PreparedStatement ps = c.prepareStatement("UPDATE t SET v = v + 1 WHERE id = ?")) {
      for (int id = 1; id <= 5; id++) {
        ps.setInt(1, id);
        ps.addBatch();
      }
      assertThat(ps.executeBatch()).containsOnly(1);
    }
    assertThat(count("v = 1")).isEqualTo(5);
    assertNoTransactionLeftOpen();
  }

  @org.junit.jupiter.api.Test
  void transactionControlCannotShareAQueryStringWithALimitedStatement() throws Exception {
    try (Connection c = connect("simple")) {
      assertThatThrownBy(
              () -> c.createStatement().execute("BEGIN; DELETE FROM t WHERE id = 1; COMMIT"))
          .hasMessageContaining("transaction control")
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000"));
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id = 1")).isEqualTo(1);
    }
    assertThat(count("true")).isEqualTo(4);
  }

  @org.junit.jupiter.api.Test
  void pipelinedQueriesAfterAGuardedOneWaitForIt() throws Exception {
    try (RawWire wire = RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()))) {
      wire.login(
          java.util.Map.of("user", ProxyFixture.USER, "database", fixture.database),
          ProxyFixture.PASSWORD);
      wire.write(
          concat(
              Packets.query("DELETE FROM t WHERE id > 0"),
              Packets.query("UPDATE t SET v = 3 WHERE id = 1"),
              Packets.query("SELECT count(*) FROM t")));
      List<WireMessage> replies = new ArrayList<>();
      for (int ready = 0; ready < 3; ) {
        WireMessage m = wire.read(Duration.ofSeconds(10));
        replies.add(m);
        if (m.type() == 'Z') {
          ready++;
        }
      }
      assertThat(replies)
          .extracting(WireMessage::type)
          .containsExactly(
              (byte) 'E',
              (byte) 'Z',
              (byte) 'C',
              (byte) 'Z',
              (byte) 'T',
              (byte) 'D',
              (byte) 'C',
              (byte) 'Z');
      assertThat(replies.get(1).body()[0]).isEqualTo((byte) 'I');
      assertThat(new String(replies.get(5).body(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("5");
    }
    assertThat(count("v = 3")).isEqualTo(1);
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  /** No backend of the test user sits in a transaction Warden opened and forgot. */
  private static void assertNoTransactionLeftOpen() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      try (Connection c = fixture.direct();
          ResultSet rs =
              c.createStatement()
                  .executeQuery(
                      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                          + " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")) {
        rs.next();
        if (rs.getLong(1) == 0) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("a session was left idle in transaction");
      }
      Thread.sleep(50);
    }
  }

  /**
   * Limits UPDATE and DELETE to {@value #LIMIT} rows and tells transaction control apart, by the
   * leading keyword of each statement of the text: enough for the statements these tests send.
   */
  static final class LimitingGatekeeper implements Gatekeeper {
    @Override
    public Decision decide(StatementRequest request) {
      List<Statement> statements = new ArrayList<>();
      boolean limited = false;
      for (String part : request.sql().split(";")) {
        String text = part.strip();
        if (text.isEmpty()) {
          continue;
        }
        String command = text.split("\\s+")[0].toUpperCase(Locale.ROOT);
        StatementKind kind =
            switch (command) {
              case "BEGIN", "COMMIT", "ROLLBACK", "START", "END" -> StatementKind.TRANSACTION;
              case "UPDATE", "DELETE" -> StatementKind.WRITE;
              default -> StatementKind.READ;
            };
        limited |= kind == StatementKind.WRITE;
        statements.add(TestStatements.of(kind, command));
      }
      return new Decision(
          Verdict.ALLOW,
          new Analysis(statements, ""),
          limited ? "limit" : "",
          false,
          limited ? OptionalLong.of(LIMIT) : OptionalLong.empty(),
          limited
              ? new Verdict.Deny(
                  "42501",
                  "Warden refused this statement: it changed more than 2 rows; Warden rolled it"
                      + " back",
                  "Narrow the WHERE clause")
              : null,
          1,
          true);
    }
  }
}

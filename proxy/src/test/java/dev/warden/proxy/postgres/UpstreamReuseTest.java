package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A session that ends cleanly leaves its upstream connection, reset, for the next session of the
 * same identity, which gets none of its state; anything unclean closes the connection instead.
 */
class UpstreamReuseTest {
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture();
    fixture.users.add("bob", "bob-secret");
    fixture.sql("CREATE TABLE t (n int)");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static int backendPid(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static int awaitParked(int atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    int parked = fixture.proxy.parkedUpstreamConnections();
    while (parked < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(20);
      parked = fixture.proxy.parkedUpstreamConnections();
    }
    return parked;
  }

  @Test
  void aCleanSessionLeavesAResetConnectionForTheSameIdentity() throws Exception {
    int first;
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      first = backendPid(c);
      s.execute("CREATE TEMP TABLE scratch (x int)");
      s.execute("SET search_path TO pg_temp, public");
      s.execute("PREPARE p AS SELECT 1");
      s.execute("LISTEN somewhere");
      s.execute("SELECT pg_advisory_lock(42)");
    }
    assertThat(awaitParked(1)).isGreaterThanOrEqualTo(1);
    try (Connection c = fixture.connect()) {
      assertThat(backendPid(c)).isEqualTo(first);
      assertThat(scalar(c, "SELECT count(*) FROM pg_prepared_statements")).isEqualTo("0");
      assertThat(scalar(c, "SELECT to_regclass('pg_temp.scratch') IS NULL")).isEqualTo("t");
      assertThat(scalar(c, "SELECT current_setting('search_path')")).isEqualTo("\"$user\", public");
      assertThat(scalar(c, "SELECT count(*) FROM pg_listening_channels()")).isEqualTo("0");
      assertThat(
              scalar(
                  c,
                  "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                      + " AND pid = pg_backend_pid()"))
          .isEqualTo("0");
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo(ProxyFixture.USER);
    }
  }

  @Test
  void aRefusedLoginNeverTakesAParkedConnection() throws Exception {
    try (Connection c = fixture.connect()) {
      backendPid(c);
    }
    int parked = awaitParked(1);
    Properties wrong = new Properties();
    wrong.setProperty("password", "wrong");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> fixture.connect(wrong).close())
        .isInstanceOf(SQLException.class);
    assertThat(fixture.proxy.parkedUpstreamConnections()).isEqualTo(parked);
  }

  @Test
  void anotherIdentityNeverGetsTheConnection() throws Exception {
    int alices;
    try (Connection c = fixture.connect()) {
      alices = backendPid(c);
    }
    awaitParked(1);
    Properties bob = new Properties();
    bob.setProperty("user", "bob");
    bob.setProperty("password", "bob-secret");
    try (Connection c = fixture.connect(bob)) {
      assertThat(backendPid(c)).isNotEqualTo(alices);
      assertThat(scalar(c, "SELECT current_setting('warden.identity')")).isEqualTo("bob");
    }
  }

  @Test
  void aSessionThatLeavesInsideATransactionIsNotReused() throws Exception {
    int pid;
    Connection c = fixture.connect();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("INSERT INTO t VALUES (1)");
    }
    pid = backendPid(c);
    c.close(); // pgjdbc rolls back first: the session ends idle and may be reused

    Connection d = fixture.connect();
    d.setAutoCommit(false);
    try (Statement s = d.createStatement()) {
      s.execute("INSERT INTO t VALUES (2)");
    }
    int inTransaction = backendPid(d);
    // Drop the socket without rolling back or saying goodbye.
    d.unwrap(org.postgresql.PGConnection.class);
    ((org.postgresql.jdbc.PgConnection) d).getQueryExecutor().abort();

    Thread.sleep(500);
    try (Connection e = fixture.connect()) {
      assertThat(backendPid(e)).isNotEqualTo(inTransaction);
      assertThat(scalar(e, "SELECT count(*) FROM t")).isEqualTo("0");
    }
    assertThat(pid).isPositive();
  }
}

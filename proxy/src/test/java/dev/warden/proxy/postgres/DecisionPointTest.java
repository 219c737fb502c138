package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every statement passes the decision point with who sent it, and a refusal reaches the client as
 * an ordinary SQL error in the right place, without reaching the database and without breaking the
 * session.
 */
class DecisionPointTest {
  static final String MARKER = "refuse_me";
  static final List<StatementRequest> seen = new CopyOnWriteArrayList<>();
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    Gatekeeper gatekeeper =
        Gatekeeper.judging(
            request -> {
              seen.add(request);
              return request.sql().contains(MARKER)
                  ? new Verdict.Deny("42501", "statement refused by test policy", "ask the test")
                  : Verdict.ALLOW;
            });
    fixture = new ProxyFixture(gatekeeper, s -> s);
    fixture.sql("CREATE TABLE log (n int)");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @BeforeEach
  void clear() {
    fixture.sql("TRUNCATE log");
    seen.clear();
  }

  private static long rows() throws SQLException {
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM log")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void theDecisionPointSeesIdentityEnvironmentTextAndPath() throws SQLException {
    Properties p = new Properties();
    p.setProperty("prepareThreshold", "1");
    try (Connection c = fixture.connect(p);
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO log VALUES (1)");
    }
    StatementRequest insert =
        seen.stream().filter(r -> r.sql().startsWith("INSERT")).findFirst().orElseThrow();
    assertThat(insert.session().identity().name()).isEqualTo(ProxyFixture.USER);
    assertThat(insert.session().identity().groups()).containsExactly("engineers");
    assertThat(insert.session().environment().name()).isEqualTo("test");
    assertThat(insert.session().database()).isEqualTo(fixture.database);
    assertThat(insert.session().clientAddress()).startsWith("127.0.0.1:");
    assertThat(insert.path()).isEqualTo(StatementPath.PREPARED);
  }

  @Test
  void aRefusedSimpleQueryNeverRunsAndTheSessionGoesOn() throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", "simple");
    try (Connection c = fixture.connect(p);
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("INSERT INTO log VALUES (1) /* " + MARKER + " */"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("statement refused by test policy");
                assertThat(e.getMessage()).contains("ask the test");
              });
      s.execute("INSERT INTO log VALUES (2)");
    }
    assertThat(rows()).isEqualTo(1);
    assertThat(seen).extracting(StatementRequest::path).contains(StatementPath.SIMPLE);
  }

  @Test
  void aRefusedPreparedStatementNeverRunsAndTheSessionGoesOn() throws SQLException {
    try (Connection c = fixture.connect()) {
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO log SELECT ? /* " + MARKER + " */")) {
        ps.setInt(1, 1);
        assertThatThrownBy(ps::execute)
            .isInstanceOfSatisfying(
                SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO log VALUES (?)")) {
        ps.setInt(1, 2);
        ps.execute();
      }
    }
    assertThat(rows()).isEqualTo(1);
  }

  @Test
  void aRefusalInsideATransactionAbortsItAsAnyServerErrorWould() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("INSERT INTO log VALUES (1)");
      assertThatThrownBy(() -> s.execute("SELECT 1 /* " + MARKER + " */"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      assertThatThrownBy(() -> s.execute("INSERT INTO log VALUES (2)"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> assertThat(e.getSQLState()).isEqualTo("25P02")); // in_failed_sql_transaction
      c.rollback();
      s.execute("INSERT INTO log VALUES (3)");
      c.commit();
    }
    assertThat(rows()).isEqualTo(1);
  }

  @Test
  void aRefusalInsideABatchFailsTheWholeBatchAsAServerErrorWould() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      s.addBatch("INSERT INTO log VALUES (1)");
      s.addBatch("INSERT INTO log VALUES (2) /* " + MARKER + " */");
      s.addBatch("INSERT INTO log VALUES (3)");
      assertThatThrownBy(s::executeBatch)
          .isInstanceOfSatisfying(
              BatchUpdateException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
      s.execute("INSERT INTO log VALUES (4)");
    }
    // The batch ran in one implicit transaction: the server rolled back its first insert.
    assertThat(rows()).isEqualTo(1);
  }

  @Test
  void theServerNeverSeesTheRefusedText() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("INSERT INTO log VALUES (1) /* " + MARKER + " */"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getMessage()).doesNotContain("warden_refused_");
                assertThat(e.getMessage()).doesNotContain("syntax error");
              });
    }
    assertThat(rows()).isZero();
  }

  @Test
  void textInAnotherClientEncodingIsDecodedAsTheServerDecodesIt() throws Exception {
    try (dev.warden.testkit.RawWire wire =
        dev.warden.testkit.RawWire.connect(
            new java.net.InetSocketAddress("127.0.0.1", fixture.port()))) {
      wire.login(
          java.util.Map.of(
              "user", ProxyFixture.USER,
              "database", fixture.database,
              "client_encoding", "LATIN1"),
          ProxyFixture.PASSWORD);
      byte[] sql = "SELECT 'caf\u00e9'".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      wire.write(dev.warden.testkit.Packets.typed('Q', nul(sql)));
      var replies = wire.readThrough('Z', java.time.Duration.ofSeconds(10));
      var row =
          replies.stream().filter(m -> m.is('D')).findFirst().orElseThrow(AssertionError::new);
      assertThat(
              new String(row.body(), 6, row.int32(2), java.nio.charset.StandardCharsets.ISO_8859_1))
          .isEqualTo("caf\u00e9");
    }
    StatementRequest latin1 =
        seen.stream().filter(r -> r.sql().startsWith("SELECT 'caf")).findFirst().orElseThrow();
    assertThat(latin1.sql()).isEqualTo("SELECT 'caf\u00e9'");
    assertThat(latin1.lexical().clientEncoding()).isEqualTo("LATIN1");
  }

  private static byte[] nul(byte[] text) {
    byte[] out = java.util.Arrays.copyOf(text, text.length + 1);
    return out;
  }
}

package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditTrail;
import dev.warden.core.environment.AccessWindows;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Pipelines that hold a row-limited change and a refused statement: the refusal reaches the client,
 * nothing of the batch stays, no transaction is left open, and the session goes on (the evasion
 * corpus's batch delivery under the default policy's production row limit).
 *
 * <p>Each shape runs with an audit trail that confirms at once and with one whose durable appends
 * complete later ({@link LateDurableAuditTrail}), as the real trail's do: the proxy then holds each
 * change until its intent is durable while the server already answers what came before it, so the
 * server's error for a refused statement can arrive before the proxy has seen the rest of the
 * batch, up to its Sync.
 */
class RowGuardBatchRefusalTest {
  static final long LIMIT = 2;
  static final Verdict.Deny LIMIT_DENIAL =
      new Verdict.Deny("42501", "Warden refused this statement: over 2 rows", "narrow it");
  static final Verdict.Deny FORBIDDEN =
      new Verdict.Deny("42501", "Warden refused this statement: forbidden by the test", "don't");

  /**
   * UPDATE and DELETE are limited to {@value #LIMIT} rows; anything saying FORBIDDEN is refused.
   */
  static final Gatekeeper GATE =
      new Gatekeeper() {
        @Override
        public Decision decide(StatementRequest request) {
          String sql = request.sql();
          String command = sql.strip().split("\\s+")[0].toUpperCase(Locale.ROOT);
          StatementKind kind =
              switch (command) {
                case "BEGIN", "COMMIT", "ROLLBACK" -> StatementKind.TRANSACTION;
                case "UPDATE", "DELETE", "INSERT" -> StatementKind.WRITE;
                default -> StatementKind.READ;
              };
          List<Statement> statements = List.of(TestStatements.of(kind, command));
          Analysis analysis = new Analysis(statements, "");
          if (sql.contains("FORBIDDEN")) {
            return new Decision(
                FORBIDDEN, analysis, "forbidden", false, OptionalLong.empty(), null, 1, true);
          }
          boolean limited = command.equals("DELETE") || command.equals("UPDATE");
          return new Decision(
              Verdict.ALLOW,
              analysis,
              limited ? "limit" : "",
              false,
              limited ? OptionalLong.of(LIMIT) : OptionalLong.empty(),
              limited ? LIMIT_DENIAL : null,
              1,
              true);
        }
      };

  private ProxyFixture fixture;

  private void start(String durability) {
    UnaryOperator<AuditTrail> trail =
        switch (durability) {
          case "instant" -> UnaryOperator.identity();
          case "late" -> t -> new LateDurableAuditTrail(t, Duration.ofMillis(50));
          default -> throw new IllegalArgumentException(durability);
        };
    fixture =
        new ProxyFixture(
            GATE,
            UnaryOperator.identity(),
            DataMaps.NONE,
            LoginSettings.LOCAL_ONLY,
            UnaryOperator.identity(),
            ApprovalGate.NONE,
            AccessWindows.NONE,
            trail);
    fixture.sql("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)");
    fixture.sql("INSERT INTO t SELECT g, 0 FROM generate_series(1, 5) g");
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "late"})
  void aRefusalAfterALimitedChangeInOneBatchLeavesTheSessionUsable(String durability)
      throws Exception {
    start(durability);
    assertBatchRefusedAndSessionUsable(
        "forbidden by the test",
        "DELETE FROM t WHERE id = -42",
        "INSERT INTO t VALUES (10, 0)",
        "UPDATE t SET v = 1 /* FORBIDDEN */");
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "late"})
  void aLimitedChangeAfterARefusalInOneBatchLeavesTheSessionUsable(String durability)
      throws Exception {
    start(durability);
    assertBatchRefusedAndSessionUsable(
        "forbidden by the test",
        "UPDATE t SET v = 1 /* FORBIDDEN */",
        "INSERT INTO t VALUES (10, 0)",
        "DELETE FROM t WHERE id = 1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"instant", "late"})
  void aLimitedChangeRefusedOverItsLimitInOneBatchLeavesTheSessionUsable(String durability)
      throws Exception {
    start(durability);
    assertBatchRefusedAndSessionUsable(
        "over 2 rows",
        "INSERT INTO t VALUES (10, 0)",
        "DELETE FROM t WHERE id > 0",
        "INSERT INTO t VALUES (11, 0)");
  }

  /**
   * Runs {@code batch} as one pgjdbc batch through the extended protocol (one pipeline, one Sync,
   * one implicit transaction): it is refused with {@code refusal} and changes nothing.
   */
  private void assertBatchRefusedAndSessionUsable(String refusal, String... batch)
      throws Exception {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", "extended");
    p.setProperty("socketTimeout", "10");
    try (Connection c = fixture.connect(p)) {
      var s = c.createStatement();
      for (String sql : batch) {
        s.addBatch(sql);
      }
      assertThatThrownBy(s::executeBatch)
          .isInstanceOf(BatchUpdateException.class)
          .hasMessageContaining(refusal);
      try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(5);
      }
      try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t WHERE v = 1")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
    assertUnchanged();
  }

  /** The same shape on the wire, with a simple query after the Sync in the same write. */
  @ParameterizedTest
  @ValueSource(strings = {"instant", "late"})
  void aQueryPipelinedAfterSuchABatchIsAnswered(String durability) throws Exception {
    start(durability);
    try (RawWire wire = login()) {
      wire.write(
          Packets.concat(
              Packets.parse("", "DELETE FROM t WHERE id = -42"),
              Packets.bind("", ""),
              Packets.execute("", 0),
              Packets.parse("", "INSERT INTO t VALUES (10, 0)"),
              Packets.bind("", ""),
              Packets.execute("", 0),
              Packets.parse("", "UPDATE t SET v = 1 /* FORBIDDEN */"),
              Packets.bind("", ""),
              Packets.execute("", 0),
              Packets.sync(),
              Packets.query("SELECT count(*) FROM t")));
      List<WireMessage> replies = readUntilReady(wire, 2);
      assertThat(types(replies)).isEqualTo("12C12CEZTDCZ");
      assertThat(text(replies.get(6))).contains("forbidden by the test");
      assertThat(replies.get(7).body()[0]).isEqualTo((byte) 'I');
      assertThat(text(replies.get(9))).contains("5");
    }
    assertUnchanged();
  }

  /** Simple queries pipelined: a guarded change, a change, a refusal, then a read. */
  @ParameterizedTest
  @ValueSource(strings = {"instant", "late"})
  void simpleQueriesPipelinedWithAGuardedChangeAndARefusalAreAllAnswered(String durability)
      throws Exception {
    start(durability);
    try (RawWire wire = login()) {
      wire.write(
          Packets.concat(
              Packets.query("DELETE FROM t WHERE id = -42"),
              Packets.query("INSERT INTO t VALUES (10, 0)"),
              Packets.query("UPDATE t SET v = 1 /* FORBIDDEN */"),
              Packets.query("DELETE FROM t WHERE id > 0"),
              Packets.query("SELECT count(*) FROM t")));
      List<WireMessage> replies = readUntilReady(wire, 5);
      assertThat(types(replies)).isEqualTo("CZCZEZEZTDCZ");
      assertThat(text(replies.get(4))).contains("forbidden by the test");
      assertThat(text(replies.get(6))).contains("over 2 rows");
      assertThat(text(replies.get(10))).isEqualTo("SELECT 1\0");
      assertThat(text(replies.get(9))).contains("6");
    }
    fixture.sql("DELETE FROM t WHERE id = 10");
    assertUnchanged();
  }

  private RawWire login() throws Exception {
    RawWire wire = RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
    wire.login(
        Map.of("user", ProxyFixture.USER, "database", fixture.database), ProxyFixture.PASSWORD);
    return wire;
  }

  private static List<WireMessage> readUntilReady(RawWire wire, int readies) throws Exception {
    List<WireMessage> replies = new ArrayList<>();
    for (int ready = 0; ready < readies; ) {
      WireMessage m = wire.read(Duration.ofSeconds(10));
      if (m.type() == 'N' || m.type() == 'S') {
        continue; // notices and settings are beside the point
      }
      replies.add(m);
      if (m.type() == 'Z') {
        ready++;
      }
    }
    return replies;
  }

  private static String types(List<WireMessage> replies) {
    StringBuilder s = new StringBuilder();
    for (WireMessage m : replies) {
      s.append((char) m.type());
    }
    return s.toString();
  }

  private static String text(WireMessage m) {
    return new String(m.body(), StandardCharsets.UTF_8);
  }

  /** The table is as it was, and no session of the test sits in a transaction Warden opened. */
  private void assertUnchanged() throws Exception {
    try (Connection c = fixture.direct();
        ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT count(*), count(*) FILTER (WHERE v <> 0) FROM t")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(5);
      assertThat(rs.getLong(2)).isZero();
    }
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
}

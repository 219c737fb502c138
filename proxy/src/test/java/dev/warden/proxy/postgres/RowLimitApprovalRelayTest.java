package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay's side of approving a change over its row limit, against the real server, with an
 * approval gate written for the test: the change runs where it can be undone, goes over its limit,
 * is rolled back, and the gate is asked with the rows the server reported; the client gets the
 * gate's refusal. Sent again once approved, the same statement (same text, same parameters) runs
 * once without the limit; a gate that approves at once (an automatic approval) lets the change
 * stand. The table is the oracle.
 */
class RowLimitApprovalRelayTest {
  static final long LIMIT = 2;
  static final ApprovalRequirement OVER_LIMIT =
      new ApprovalRequirement(
          Set.of("approvers"),
          1,
          false,
          ApprovalRequirement.Wait.ERROR,
          Duration.ofMinutes(10),
          Duration.ofHours(1),
          false,
          true);
  static final Verdict.Deny LIMIT_DENIAL =
      new Verdict.Deny(
          "42501",
          "Warden refused this statement: it changed more than 2 rows; Warden rolled it back",
          "Narrow the WHERE clause");

  private ProxyFixture fixture;
  private final Gate gate = new Gate();

  /**
   * Every UPDATE and DELETE may change at most {@value #LIMIT} rows, and a change over that waits
   * for approval; transaction control is told apart by its first word.
   */
  static final Gatekeeper LIMITING =
      new Gatekeeper() {
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
          Decision d =
              new Decision(
                  Verdict.ALLOW,
                  new Analysis(statements, ""),
                  limited ? "limit" : "",
                  false,
                  limited ? OptionalLong.of(LIMIT) : OptionalLong.empty(),
                  limited ? LIMIT_DENIAL : null,
                  1,
                  true);
          return limited ? d.withRowLimitApproval(OVER_LIMIT) : d;
        }
      };

  /**
   * The test's approvals: requests by (text, parameters); a request approved by the test is used
   * once. With {@link #approveAtOnce} every question is approved (as an automatic approval would).
   */
  static final class Gate implements ApprovalGate {
    final List<Question> asked = Collections.synchronizedList(new ArrayList<>());
    final Set<String> open = ConcurrentHashMap.newKeySet();
    final Set<String> approved = ConcurrentHashMap.newKeySet();
    final AtomicInteger lookups = new AtomicInteger();
    final AtomicInteger uses = new AtomicInteger();
    volatile boolean approveAtOnce;

    static String key(String text, List<byte[]> parameters) {
      StringBuilder b = new StringBuilder(text);
      for (byte[] p : parameters) {
        b.append('|').append(p == null ? "null" : HexFormat.of().formatHex(p));
      }
      return b.toString();
    }

    @Override
    public CompletableFuture<Answer> check(Question question) {
      asked.add(question);
      if (approveAtOnce) {
        return CompletableFuture.completedFuture(
            new Answer.Approved("apr_auto", "auto-approved by rule test"));
      }
      open.add(key(question.text(), question.parameters()));
      // Off the caller's thread, as the server's gate answers.
      return CompletableFuture.supplyAsync(
          () ->
              new Answer.Refused(
                  new Verdict.Deny(
                      "42501",
                      "Warden: it changed "
                          + question.rows().orElse(-1)
                          + " rows: request apr_rows waits for a reviewer",
                      "send it again once approved"),
                  "apr_rows"));
    }

    @Override
    public boolean mayHaveApproval(SessionContext session, String text, List<byte[]> parameters) {
      lookups.incrementAndGet();
      return open.contains(key(text, parameters));
    }

    @Override
    public CompletableFuture<Optional<Answer.Approved>> useApproval(
        SessionContext session, String text, List<byte[]> parameters) {
      uses.incrementAndGet();
      String key = key(text, parameters);
      return CompletableFuture.supplyAsync(
          () -> {
            if (approved.remove(key)) {
              open.remove(key);
              return Optional.of(new Answer.Approved("apr_rows", "approved by the test"));
            }
            return Optional.empty();
          });
    }

    /** Approves the one request open. */
    void approveOpen() {
      assertThat(open).hasSize(1);
      approved.addAll(open);
    }
  }

  @BeforeEach
  void start() {
    start(gate);
  }

  /** A proxy whose approval gate is {@code approvals}, and a table t of five rows behind it. */
  private void start(ApprovalGate approvals) {
    if (fixture != null) {
      fixture.close();
    }
    fixture =
        new ProxyFixture(
            LIMITING,
            UnaryOperator.identity(),
            DataMaps.NONE,
            LoginSettings.LOCAL_ONLY,
            UnaryOperator.identity(),
            approvals);
    fixture.sql("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)");
    fixture.sql("INSERT INTO t SELECT g, 0 FROM generate_series(1, 5) g");
  }

  /** No backend sits in a transaction Warden opened and forgot. */
  private void assertNoTransactionLeftOpen() throws Exception {
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

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private Connection connect(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", mode);
    return fixture.connect(p);
  }

  private long count(String where) throws SQLException {
    try (Connection c = fixture.direct();
        ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM t WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void refusedByTheGate(ThrowingRun run, long rows) {
    assertThatThrownBy(run::run)
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("42501");
              assertThat(e.getMessage())
                  .contains("it changed " + rows + " rows: request apr_rows waits");
            });
  }

  @FunctionalInterface
  interface ThrowingRun {
    void run() throws Exception;
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void overTheLimitTheGateIsAskedWithTheRowsAndItsRefusalReachesTheClient(String mode)
      throws Exception {
    String delete = "DELETE FROM t WHERE id > 0";
    try (Connection c = connect(mode)) {
      refusedByTheGate(() -> c.createStatement().executeUpdate(delete), 5);
      assertThat(count("true")).as("rolled back").isEqualTo(5);
      // The session goes on, outside any transaction.
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 9 WHERE id = 1")).isEqualTo(1);
    }
    assertThat(gate.asked)
        .singleElement()
        .satisfies(
            q -> {
              assertThat(q.text()).isEqualTo(delete);
              assertThat(q.rows()).hasValue(5);
              assertThat(q.requirement()).isEqualTo(OVER_LIMIT);
              assertThat(q.refusal()).isEqualTo(LIMIT_DENIAL);
              assertThat(q.decision().rowLimit()).hasValue(LIMIT);
            });
    assertThat(count("v = 9")).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void onceApprovedTheSameStatementRunsOnceWithoutTheLimit(String mode) throws Exception {
    String delete = "DELETE FROM t WHERE id > 1";
    try (Connection c = connect(mode)) {
      refusedByTheGate(() -> c.createStatement().executeUpdate(delete), 4);
      assertThat(count("true")).isEqualTo(5);
      gate.approveOpen();
      assertThat(c.createStatement().executeUpdate(delete)).isEqualTo(4);
      assertThat(count("true")).isEqualTo(1);
      fixture.sql("INSERT INTO t SELECT g, 0 FROM generate_series(2, 5) g");
      // Used: a third time it goes over the limit again and the gate is asked again.
      refusedByTheGate(() -> c.createStatement().executeUpdate(delete), 4);
      assertThat(count("true")).isEqualTo(5);
    }
    assertThat(gate.asked).hasSize(2);
    // Only the statement sent while its request was open looked for an approval to use.
    assertThat(gate.lookups.get()).isEqualTo(3);
    assertThat(gate.uses.get()).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @Test
  void withinTheLimitNothingIsAskedAndOnlyTheCheapLookupRuns() throws Exception {
    try (Connection c = connect("extended")) {
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id <= 2")).isEqualTo(2);
    }
    assertThat(gate.asked).isEmpty();
    assertThat(gate.uses.get()).isZero();
    assertThat(gate.lookups.get()).isEqualTo(1);
    assertThat(count("true")).isEqualTo(3);
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void insideTheClientsTransactionBlock(String mode) throws Exception {
    String update = "UPDATE t SET v = 1 WHERE id >= 3";
    try (Connection c = connect(mode)) {
      c.setAutoCommit(false);
      c.createStatement().executeUpdate("UPDATE t SET v = 5 WHERE id = 1");
      refusedByTheGate(() -> c.createStatement().executeUpdate(update), 3);
      // As after any failed statement, the block stays failed until ROLLBACK.
      assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT 1"))
          .hasMessageContaining("current transaction is aborted");
      c.rollback();
      gate.approveOpen();
      assertThat(c.createStatement().executeUpdate(update)).isEqualTo(3);
      assertThat(count("v = 1")).as("not yet committed").isZero();
      c.commit();
    }
    assertThat(count("v = 1")).isEqualTo(3);
    assertThat(count("v = 5")).isZero();
    assertNoTransactionLeftOpen();
  }

  @Test
  void aPreparedStatementsApprovalIsBoundToItsParameters() throws Exception {
    try (Connection c = connect("extended");
        PreparedStatement p = c.prepareStatement("DELETE FROM t WHERE id > ?")) {
      p.setInt(1, 1);
      refusedByTheGate(p::executeUpdate, 4);
      assertThat(gate.asked.getFirst().parameters()).hasSize(1);
      gate.approveOpen();
      p.setInt(1, 0); // other parameters: not what was approved
      refusedByTheGate(p::executeUpdate, 5);
      assertThat(count("true")).isEqualTo(5);
      p.setInt(1, 1);
      assertThat(p.executeUpdate()).isEqualTo(4);
    }
    assertThat(count("true")).isEqualTo(1);
    assertNoTransactionLeftOpen();
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void aGateThatApprovesAtOnceLetsTheChangeStand(String mode) throws Exception {
    gate.approveAtOnce = true;
    try (Connection c = connect(mode)) {
      assertThat(c.createStatement().executeUpdate("UPDATE t SET v = 3 WHERE id > 1")).isEqualTo(4);
    }
    assertThat(gate.asked).singleElement().satisfies(q -> assertThat(q.rows()).hasValue(4));
    assertThat(count("v = 3")).isEqualTo(4);
    assertNoTransactionLeftOpen();
  }

  @Test
  void aGateThatFailsRefusesAndChangesNothing() throws Exception {
    ApprovalGate failing =
        new ApprovalGate() {
          @Override
          public CompletableFuture<Answer> check(Question question) {
            return CompletableFuture.failedFuture(new IllegalStateException("store is down"));
          }
        };
    start(failing);
    try (Connection c = connect("extended")) {
      assertThatThrownBy(() -> c.createStatement().executeUpdate("DELETE FROM t WHERE id > 0"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("could not be checked");
              });
      assertThat(c.createStatement().executeUpdate("DELETE FROM t WHERE id = 1")).isEqualTo(1);
    }
    assertThat(count("true")).isEqualTo(4);
  }

  @Test
  void withoutAGateTheLimitsRefusalIsFinal() throws Exception {
    start(ApprovalGate.NONE);
    try (Connection c = connect("simple")) {
      assertThatThrownBy(() -> c.createStatement().executeUpdate("DELETE FROM t WHERE id > 0"))
          .hasMessageContaining("changed more than 2 rows");
    }
    assertThat(count("true")).isEqualTo(5);
  }
}

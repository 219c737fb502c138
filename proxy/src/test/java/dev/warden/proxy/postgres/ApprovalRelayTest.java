package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.StatementKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay's side of approvals, with an approval gate written for the test: a statement that needs
 * approval is held while the gate is asked, refused with its answer, or run once approved (in the
 * simple and the extended protocol, its parameters part of what is approved), and the database's
 * own table shows what ran.
 */
class ApprovalRelayTest {
  private ProxyFixture fixture;

  /** {@code SET warden.reason = '...'}, as the test gatekeeper recognises it. */
  private static final Pattern SET_REASON =
      Pattern.compile("SET warden\\.reason = '([^']*)'", Pattern.CASE_INSENSITIVE);

  /**
   * What the analyser says of a SET or reset of the reason (the test gatekeeper does not parse: it
   * recognises the few texts the tests send).
   */
  private static Optional<ReasonSetting> reasonSetting(String sql) {
    Matcher m = SET_REASON.matcher(sql);
    if (m.matches()) {
      return Optional.of(ReasonSetting.of(m.group(1)));
    }
    if (sql.equalsIgnoreCase("RESET warden.reason") || sql.equalsIgnoreCase("DISCARD ALL")) {
      return Optional.of(ReasonSetting.RESET);
    }
    return Optional.empty();
  }

  /**
   * Needs approval: any statement whose text mentions the table {@code guarded}. A SET or reset of
   * {@code warden.reason} is described as the analyser describes it.
   */
  static final Gatekeeper GATE =
      request -> {
        Analysis none = new Analysis(List.of(), "");
        Optional<ReasonSetting> reason = reasonSetting(request.sql());
        if (reason.isPresent()) {
          return Decision.allow(
              new Analysis(
                  List.of(
                      new dev.warden.core.statement.Statement(
                          StatementKind.SESSION,
                          request.sql().startsWith("SET") ? "SET" : "RESET",
                          Set.of(),
                          Set.of(),
                          Set.of(),
                          Set.of(),
                          Set.of(),
                          Set.of(),
                          Set.of(),
                          true,
                          false,
                          Set.of(),
                          "",
                          "",
                          Optional.empty(),
                          reason,
                          Optional.empty())),
                  ""));
        }
        if (request.sql().contains("guarded")) {
          return new Decision(
                  new Verdict.Deny(
                      "42501", "approval is required (rule \"guarded\")", "ask a reviewer"),
                  none,
                  "guarded",
                  false,
                  OptionalLong.empty(),
                  null,
                  1,
                  true)
              .withApproval(ApprovalRequirement.DEFAULT);
        }
        return Decision.allow(none);
      };

  /** Approvals for the test: a set of (text, parameters) each usable once. */
  static final class Reviewer implements ApprovalGate {
    final Map<String, Boolean> approved = new ConcurrentHashMap<>();
    final List<String> asked = Collections.synchronizedList(new ArrayList<>());

    /** The session's reason each question carried, in order. */
    final List<Optional<String>> reasons = Collections.synchronizedList(new ArrayList<>());

    volatile Duration holdFor = Duration.ZERO;
    volatile boolean fail;

    static String key(String text, List<byte[]> parameters) {
      StringBuilder b = new StringBuilder(text);
      for (byte[] p : parameters) {
        b.append('|').append(p == null ? "null" : HexFormat.of().formatHex(p));
      }
      return b.toString();
    }

    void approve(String text, List<byte[]> parameters) {
      approved.put(key(text, parameters), true);
    }

    @Override
    public CompletableFuture<Answer> check(Question question) {
      String text = question.text();
      List<byte[]> parameters = question.parameters();
      Consumer<String> notice = question.notice();
      asked.add(text);
      reasons.add(question.reason());
      if (fail) {
        return CompletableFuture.failedFuture(new IllegalStateException("store is down"));
      }
      String key = key(text, parameters);
      lastKey = key;
      if (!holdFor.isZero()) {
        notice.accept("waiting for approval of request apr_hold");
        return CompletableFuture.supplyAsync(
            () -> answer(key),
            CompletableFuture.delayedExecutor(holdFor.toMillis(), TimeUnit.MILLISECONDS));
      }
      return CompletableFuture.completedFuture(answer(key));
    }

    private Answer answer(String key) {
      if (approved.remove(key) != null) {
        return new Answer.Approved("apr_test", "approved by the test");
      }
      return new Answer.Refused(
          new Verdict.Deny("42501", "approval is required: request apr_new is waiting", "ask"),
          "apr_new");
    }
  }

  private final Reviewer reviewer = new Reviewer();

  private ProxyFixture start() {
    fixture =
        new ProxyFixture(
            GATE,
            UnaryOperator.identity(),
            DataMaps.NONE,
            LoginSettings.LOCAL_ONLY,
            UnaryOperator.identity(),
            reviewer);
    fixture.sql("CREATE TABLE guarded (n int)");
    return fixture;
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private int rows() throws SQLException {
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM guarded")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private Connection simpleProtocol() throws SQLException {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("preferQueryMode", "simple");
    return fixture.connect(p);
  }

  @Test
  void aSimpleQueryIsRefusedUntilApprovedThenRunsOnce() throws Exception {
    start();
    String insert = "INSERT INTO guarded VALUES (1)";
    try (Connection c = simpleProtocol();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute(insert))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                assertThat(e.getMessage()).contains("apr_new");
              });
      assertThat(rows()).isZero();
      reviewer.approve(insert, List.of());
      s.execute(insert);
      assertThat(rows()).isEqualTo(1);
      // The approval was used: the same statement again needs another.
      assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
      assertThat(rows()).isEqualTo(1);
      // Statements that need no approval are not asked about.
      s.execute("SELECT 1");
    }
    assertThat(reviewer.asked).containsOnly(insert);
  }

  @Test
  void anApprovalBindsTheParametersOfAPreparedStatement() throws Exception {
    start();
    String insert = "INSERT INTO guarded VALUES ($1)";
    try (Connection c = fixture.connect()) {
      // A parameter section as pgjdbc sends it for one int4 in binary: learn it from a refusal.
      try (PreparedStatement p = c.prepareStatement("INSERT INTO guarded VALUES (?)")) {
        p.setInt(1, 7);
        assertThatThrownBy(p::executeUpdate).hasMessageContaining("apr_new");
      }
      assertThat(rows()).isZero();
    }
    // Approve exactly what was asked (the test reviewer saw the text; parameters are opaque).
    // Every key asked so far was for value 7; approve that one by replaying the asked key.
    assertThat(reviewer.asked).containsOnly(insert);
    String askedKey = lastKey;
    assertThat(askedKey).isNotNull();
    reviewer.approved.put(askedKey, true);
    try (Connection c = fixture.connect()) {
      try (PreparedStatement p = c.prepareStatement("INSERT INTO guarded VALUES (?)")) {
        p.setInt(1, 8); // not what was approved
        assertThatThrownBy(p::executeUpdate).hasMessageContaining("apr_new");
        assertThat(rows()).isZero();
        p.setInt(1, 7);
        assertThat(p.executeUpdate()).isEqualTo(1);
      }
    }
    assertThat(rows()).isEqualTo(1);
  }

  private static volatile String lastKey;

  @Test
  void inHoldModeTheClientIsToldItWaitsAndTheStatementRunsWhenApproved() throws Exception {
    start();
    String insert = "INSERT INTO guarded VALUES (2)";
    reviewer.approve(insert, List.of());
    reviewer.holdFor = Duration.ofMillis(800);
    try (Connection c = simpleProtocol();
        Statement s = c.createStatement()) {
      long started = System.nanoTime();
      s.execute(insert);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThan(Duration.ofMillis(700));
      SQLWarning warning = s.getWarnings();
      assertThat((Object) warning).isNotNull();
      assertThat(warning.getMessage()).contains("waiting for approval");
      assertThat(rows()).isEqualTo(1);
      // The session is still usable after waiting.
      try (ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
    }
  }

  @Test
  void aGateThatFailsRefusesAndRunsNothing() throws Exception {
    start();
    reviewer.fail = true;
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("INSERT INTO guarded VALUES (3)"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("could not be checked");
              });
      s.execute("SELECT 1");
    }
    assertThat(rows()).isZero();
  }

  /** The reason the database holds for a session, as the session itself reads it. */
  private static String databaseReason(Statement s) throws SQLException {
    try (ResultSet rs = s.executeQuery("SELECT current_setting('warden.reason', true)")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void theGateSeesTheReasonTheSessionSetUntilItIsReset() throws Exception {
    start();
    for (String mode : List.of("simple", "extended")) {
      reviewer.reasons.clear();
      java.util.Properties p = new java.util.Properties();
      p.setProperty("preferQueryMode", mode);
      try (Connection c = fixture.connect(p);
          Statement s = c.createStatement()) {
        String insert = "INSERT INTO guarded VALUES (1)";
        assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
        s.execute("SET warden.reason = 'INC-1'");
        assertThat(databaseReason(s)).as(mode).isEqualTo("INC-1"); // forwarded: triggers read it
        assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
        s.execute("SET warden.reason = 'INC-2'");
        assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
        s.execute("RESET warden.reason");
        assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
        s.execute("SET warden.reason = 'INC-3'");
        s.execute("DISCARD ALL");
        assertThatThrownBy(() -> s.execute(insert)).hasMessageContaining("apr_new");
        assertThat(databaseReason(s)).as(mode).isEmpty();
      }
      assertThat(reviewer.reasons)
          .as(mode)
          .containsExactly(
              Optional.empty(),
              Optional.of("INC-1"),
              Optional.of("INC-2"),
              Optional.empty(),
              Optional.empty());
    }
    assertThat(rows()).isZero();
  }

  @Test
  void aSetTheServerDidNotCompleteIsNotRemembered() throws Exception {
    start();
    try (Connection c = simpleProtocol();
        Statement s = c.createStatement()) {
      s.execute("SET warden.reason = 'INC-1'");
      s.execute("BEGIN");
      assertThatThrownBy(() -> s.execute("SELECT 1/0")).hasMessageContaining("division by zero");
      // The transaction is aborted: the server refuses the SET, and Warden keeps the reason it had.
      assertThatThrownBy(() -> s.execute("SET warden.reason = 'INC-2'"))
          .hasMessageContaining("current transaction is aborted");
      s.execute("ROLLBACK");
      assertThat(databaseReason(s)).isEqualTo("INC-1");
      assertThatThrownBy(() -> s.execute("INSERT INTO guarded VALUES (1)"))
          .hasMessageContaining("apr_new");
      // A blank reason is none.
      s.execute("SET warden.reason = ''");
      assertThatThrownBy(() -> s.execute("INSERT INTO guarded VALUES (1)"))
          .hasMessageContaining("apr_new");
    }
    assertThat(reviewer.reasons).containsExactly(Optional.of("INC-1"), Optional.empty());
  }

  @Test
  void eachSessionHasItsOwnReason() throws Exception {
    start();
    try (Connection first = simpleProtocol();
        Statement one = first.createStatement();
        Connection second = simpleProtocol();
        Statement two = second.createStatement()) {
      one.execute("SET warden.reason = 'INC-1'");
      assertThatThrownBy(() -> two.execute("INSERT INTO guarded VALUES (1)"))
          .hasMessageContaining("apr_new");
      assertThatThrownBy(() -> one.execute("INSERT INTO guarded VALUES (1)"))
          .hasMessageContaining("apr_new");
    }
    assertThat(reviewer.reasons).containsExactly(Optional.empty(), Optional.of("INC-1"));
  }
}

package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7 end to end: statements that need approval, through a real Warden in front of the
 * PostgreSQL server on this machine, with psql and pgjdbc; the database's own tables show what ran
 * and when.
 */
class ApprovalEndToEndTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final Pattern REQUEST = Pattern.compile("apr_[a-z2-7]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;
  private final MovableClock clock = new MovableClock();
  private String database;

  /** The system clock, which a test can move forward. */
  static final class MovableClock extends Clock {
    private volatile java.time.Duration ahead = java.time.Duration.ZERO;

    void forward(java.time.Duration by) {
      ahead = ahead.plus(by);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.now().plus(ahead);
    }
  }

  private WardenServer server;

  @BeforeEach
  void start() throws Exception {
    database = "warden_t_appr_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    sql("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g");
    sql("CREATE TABLE tickets (id int PRIMARY KEY)");
    sql("INSERT INTO tickets SELECT g FROM generate_series(1, 5) g");
    // The database's own record of every change that ran (and was not rolled back): one row per
    // statement and one per row changed, with the reason the session held.
    sql(
        """
        CREATE TABLE change_log (
          n serial PRIMARY KEY, tab text, level text, op text, id int, reason text)""");
    sql(
        """
        CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO change_log (tab, level, op, id, reason) VALUES (
            TG_TABLE_NAME, lower(TG_LEVEL), TG_OP,
            CASE WHEN TG_LEVEL = 'ROW' THEN coalesce(NEW.id, OLD.id) END,
            current_setting('warden.reason', true));
          RETURN NULL;
        END $$""");
    for (String table : List.of("items", "tickets")) {
      sql(
          "CREATE TRIGGER "
              + table
              + "_rows AFTER INSERT OR UPDATE OR DELETE ON "
              + table
              + " FOR EACH ROW EXECUTE FUNCTION log_change()");
      sql(
          "CREATE TRIGGER "
              + table
              + "_statements AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
              + table
              + " FOR EACH STATEMENT EXECUTE FUNCTION log_change()");
    }
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        default: allow
        rules:
          - name: reasoned-ticket-deletes
            when: >-
              statement.command == 'DELETE'
              && ('tickets' in statement.tables || 'public.tickets' in statement.tables)
            action: require_approval
            approval:
              approvers: [approvers]
              require_reason: true
          - name: guarded-deletes
            when: "statement.command == 'DELETE'"
            action: require_approval
            message: deletes need a second pair of eyes
            approval:
              approvers: [approvers]
            auto_approve:
              - name: single-row-deletes
                when: "rows >= 0 && rows <= 1"
          - name: held-updates
            when: "statement.command == 'UPDATE'"
            action: require_approval
            approval:
              approvers: [approvers]
              wait: hold
              hold_timeout: 4s
          - name: short-lived-inserts
            when: "statement.command == 'INSERT'"
            action: require_approval
            approval:
              approvers: [approvers]
              expires: 1m
        """);
    Upstream local =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    WardenConfig config =
        new WardenConfig(
                new HostPort("127.0.0.1", 0),
                dir.resolve("data"),
                new TlsConfig(Optional.empty(), Optional.empty(), false),
                List.of(WardenConfig.defaultEnvironment(local)))
            .withPolicy(dir.resolve("policy.yaml"));
    server = WardenServer.start(config, clock, RANDOM);
    addUser("alice", "alice-pw", "dev", "approvers");
    addUser("bob", "bob-pw", "approvers");
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  private void addUser(String name, String password, String... groups) {
    server
        .users()
        .put(
            new LocalUser(
                name,
                Set.of(groups),
                ScramCredentials.derive(Secret.of(password), RANDOM, 4096),
                Instant.now()));
  }

  private static Identity reviewer(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  private Connection connect(String user, String password, String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", mode);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + database, p);
  }

  private Connection direct() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
  }

  private void sql(String statement) throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static void admin(String statement) {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", p);
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  private int count(String where) throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE " + where)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * What the database's change log holds for {@code table} and {@code op}: each entry as {@code
   * level:id:reason}, in order.
   */
  private List<String> changeLog(String table, String op) throws SQLException {
    try (Connection c = direct();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT level || ':' || coalesce(id::text, '') || ':' || coalesce(reason, '')"
                    + " FROM change_log WHERE tab = ? AND op = ? ORDER BY n")) {
      p.setString(1, table);
      p.setString(2, op);
      List<String> entries = new java.util.ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          entries.add(rs.getString(1));
        }
      }
      return entries;
    }
  }

  /** The request id in a refusal. */
  private static String requestIn(Throwable e) {
    Matcher m = REQUEST.matcher(e.getMessage());
    assertThat(m.find()).as(e.getMessage()).isTrue();
    return m.group();
  }

  private static String refusalOf(ThrowingRun run) {
    try {
      run.run();
    } catch (SQLException e) {
      assertThat(e.getSQLState()).isEqualTo("42501");
      return requestIn(e);
    }
    throw new AssertionError("the statement was not refused");
  }

  @FunctionalInterface
  interface ThrowingRun {
    void run() throws SQLException;
  }

  @Test
  void refusedThenApprovedThenRunOnceNotTwice() throws Exception {
    String delete = "DELETE FROM items WHERE id > 15 /* reason: cleanup of test items */";
    try (Connection alice = connect("alice", "alice-pw", "simple");
        Statement s = alice.createStatement()) {
      String id = refusalOf(() -> s.execute(delete));
      // Nothing ran before approval; sending it again while pending does not make a second request.
      assertThat(count("id > 15")).isEqualTo(5);
      assertThat(refusalOf(() -> s.execute(delete))).isEqualTo(id);
      // The database's own record: the row measurement ran the DELETE and rolled it back, and
      // its trigger's entries with it; nothing else ran.
      assertThat(changeLog("items", "DELETE")).isEmpty();

      ApprovalRequest request = server.approvals().find(id).orElseThrow();
      assertThat(request.requester()).isEqualTo("alice");
      assertThat(request.rows()).hasValue(5); // measured, and rolled back
      assertThat(request.reason()).contains("cleanup of test items");
      assertThat(request.statement()).contains("DELETE FROM items");
      assertThat(count("id > 15")).isEqualTo(5);

      // The requester may not approve their own statement, even as an approver.
      assertThatThrownBy(
              () -> server.approvals().review(id, reviewer("alice", "approvers"), true, "", false))
          .isInstanceOfSatisfying(
              ApprovalException.class,
              e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.SELF_REVIEW));
      server.approvals().review(id, reviewer("bob", "approvers"), true, "ok", false);

      assertThat(changeLog("items", "DELETE")).isEmpty();

      s.execute(delete);
      assertThat(count("id > 15")).isZero();
      // It ran exactly once: one statement, its five rows.
      List<String> ranOnce =
          List.of("row:16:", "row:17:", "row:18:", "row:19:", "row:20:", "statement::");
      assertThat(changeLog("items", "DELETE")).containsExactlyElementsOf(ranOnce);
      sql("INSERT INTO items SELECT g, 'again' FROM generate_series(16, 20) g");
      // Used: the same statement needs a new approval.
      String second = refusalOf(() -> s.execute(delete));
      assertThat(second).isNotEqualTo(id);
      assertThat(count("id > 15")).isEqualTo(5);
      assertThat(changeLog("items", "DELETE")).containsExactlyElementsOf(ranOnce);
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.USED);
    }
  }

  @Test
  void anApprovalNotUsedBeforeItsRequestExpiresIsNotUsedAfter() throws Exception {
    String insert = "INSERT INTO items VALUES (100, 'late')";
    try (Connection alice = connect("alice", "alice-pw", "simple");
        Statement s = alice.createStatement()) {
      String id = refusalOf(() -> s.execute(insert));
      server.approvals().review(id, reviewer("bob", "approvers"), true, "", false);
      clock.forward(java.time.Duration.ofMinutes(2)); // past the request's 1 minute
      assertThatThrownBy(() -> s.execute(insert))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(requestIn(e)).isNotEqualTo(id));
      assertThat(count("id = 100")).isZero();
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.EXPIRED);
      // A pending request also expires: reviewing it afterwards is refused.
      String pending = refusalOf(() -> s.execute(insert));
      clock.forward(java.time.Duration.ofMinutes(2));
      assertThatThrownBy(
              () ->
                  server.approvals().review(pending, reviewer("bob", "approvers"), true, "", false))
          .isInstanceOfSatisfying(
              ApprovalException.class,
              e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.EXPIRED));
    }
  }

  @Test
  void anApprovalBindsTheParametersAPreparedStatementWasSentWith() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", "extended");
        PreparedStatement p = alice.prepareStatement("DELETE FROM items WHERE id > ?")) {
      p.setInt(1, 18);
      String id = refusalOf(p::executeUpdate);
      server.approvals().review(id, reviewer("bob", "approvers"), true, "", false);
      p.setInt(1, 10); // changed after approval
      refusalOf(p::executeUpdate);
      assertThat(count("id > 10")).isEqualTo(10);
      p.setInt(1, 18);
      assertThat(p.executeUpdate()).isEqualTo(2);
    }
    assertThat(count("id > 18")).isZero();
  }

  @Test
  void aSingleRowDeleteIsApprovedAutomaticallyAndALargerOneIsNot() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", "simple");
        Statement s = alice.createStatement()) {
      assertThat(s.executeUpdate("DELETE FROM items WHERE id = 3")).isEqualTo(1);
      assertThat(count("id = 3")).isZero();
      String id = refusalOf(() -> s.executeUpdate("DELETE FROM items WHERE id IN (4, 5)"));
      assertThat(server.approvals().find(id).orElseThrow().rows()).hasValue(2);
      assertThat(count("id IN (4, 5)")).isEqualTo(2);
    }
    List<ApprovalRequest> used =
        server.approvals().list(dev.warden.core.approval.ApprovalStore.Filter.all()).stream()
            .filter(r -> r.status() == ApprovalRequest.Status.USED)
            .toList();
    assertThat(used)
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.reviews().getFirst().comment())
                    .isEqualTo("auto-approved by rule single-row-deletes"));
  }

  @Test
  void inHoldModeTheStatementWaitsAndRunsOnApprovalFailsOnDenialOrTimeout() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", "simple");
        Statement s = alice.createStatement()) {
      // Approved while it waits.
      CompletableFuture<Void> reviewing =
          CompletableFuture.runAsync(
              () -> reviewPending(true),
              CompletableFuture.delayedExecutor(800, TimeUnit.MILLISECONDS));
      assertThat(s.executeUpdate("UPDATE items SET name = 'held' WHERE id = 1")).isEqualTo(1);
      reviewing.get(10, TimeUnit.SECONDS);
      assertThat((Object) s.getWarnings()).isNotNull();
      assertThat(s.getWarnings().getMessage()).contains("waits for approval");
      assertThat(count("name = 'held'")).isEqualTo(1);

      // Denied while it waits: refused, and the session goes on.
      reviewing =
          CompletableFuture.runAsync(
              () -> reviewPending(false),
              CompletableFuture.delayedExecutor(800, TimeUnit.MILLISECONDS));
      assertThatThrownBy(() -> s.executeUpdate("UPDATE items SET name = 'nope' WHERE id = 2"))
          .hasMessageContaining("denied by bob");
      reviewing.get(10, TimeUnit.SECONDS);
      assertThat(count("name = 'nope'")).isZero();

      // Nobody decides in time.
      assertThatThrownBy(() -> s.executeUpdate("UPDATE items SET name = 'late' WHERE id = 3"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
      assertThat(count("name = 'late'")).isZero();
      try (ResultSet rs = s.executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
    }
  }

  private void reviewPending(boolean approve) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      for (ApprovalRequest r :
          server.approvals().list(dev.warden.core.approval.ApprovalStore.Filter.all())) {
        if (r.status() == ApprovalRequest.Status.PENDING) {
          server.approvals().review(r.id(), reviewer("bob", "approvers"), approve, "no", false);
          return;
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new AssertionError("no pending request appeared");
  }

  @Test
  void psqlIsToldTheRequestAndRunsTheStatementOnceApproved() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    String conninfo =
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + database
            + " user=alice sslmode=disable";
    String delete = "DELETE FROM items WHERE id BETWEEN 10 AND 12";
    Process first = psql(conninfo, delete);
    String err = new String(first.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(first.waitFor()).isNotZero();
    Matcher m = REQUEST.matcher(err);
    assertThat(m.find()).as(err).isTrue();
    assertThat(err).contains("warden approvals approve " + m.group());
    assertThat(count("id BETWEEN 10 AND 12")).isEqualTo(3);
    server.approvals().review(m.group(), reviewer("bob", "approvers"), true, "", false);
    Process second = psql(conninfo, delete);
    assertThat(second.waitFor()).as(new String(second.getErrorStream().readAllBytes())).isZero();
    assertThat(count("id BETWEEN 10 AND 12")).isZero();
  }

  private static Process psql(String conninfo, String... commands) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(PSQL.toString(), "-X", "-At"));
    command.add("-d");
    command.add(conninfo);
    for (String sql : commands) {
      command.add("-c");
      command.add(sql);
    }
    ProcessBuilder b = new ProcessBuilder(command);
    b.environment().putAll(Map.of("PGPASSWORD", "alice-pw", "PGCONNECT_TIMEOUT", "10"));
    Process p = b.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p;
  }

  @Test
  void aReasonSetForTheSessionReachesTheRequestAndTheDatabase() throws Exception {
    int ticket = 0;
    for (String mode : List.of("simple", "extended")) {
      ticket++;
      String delete = "DELETE FROM tickets WHERE id = " + ticket;
      try (Connection alice = connect("alice", "alice-pw", mode);
          Statement s = alice.createStatement()) {
        // The rule requires a reason: without one, no request is made.
        assertThatThrownBy(() -> s.execute(delete))
            .as(mode)
            .isInstanceOfSatisfying(
                SQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("42501");
                  assertThat(e.getMessage())
                      .contains("needs approval and a reason")
                      .contains("SET warden.reason");
                  assertThat(REQUEST.matcher(e.getMessage()).find()).isFalse();
                });
        assertThat(requests()).as(mode).isEqualTo(ticket - 1);

        s.execute("SET warden.reason = 'INC-" + ticket + "'");
        String id = refusalOf(() -> s.execute(delete));
        ApprovalRequest request = server.approvals().find(id).orElseThrow();
        assertThat(request.reason()).as(mode).contains("INC-" + ticket);
        if (mode.equals("simple")) {
          assertThat(request.rows()).hasValue(1); // measured, and rolled back
        }
        assertThat(changeLog("tickets", "DELETE")).as(mode).hasSize(2 * (ticket - 1));

        server.approvals().review(id, reviewer("bob", "approvers"), true, "ok", false);
        assertThat(s.executeUpdate(delete)).as(mode).isEqualTo(1);
        // The SET went to the database too: its trigger read the reason.
        assertThat(changeLog("tickets", "DELETE"))
            .as(mode)
            .endsWith("row:" + ticket + ":INC-" + ticket, "statement::INC-" + ticket);

        // Reset, the reason is gone again: a rule that requires one refuses.
        s.execute("RESET warden.reason");
        assertThatThrownBy(() -> s.execute("DELETE FROM tickets WHERE id = 5"))
            .as(mode)
            .hasMessageContaining("needs approval and a reason");
        assertThat(requests()).as(mode).isEqualTo(ticket);
      }
    }
  }

  /** How many approval requests the server holds, in any state. */
  private int requests() {
    return server.approvals().list(dev.warden.core.approval.ApprovalStore.Filter.all()).size();
  }

  @Test
  void aReasonSetLocallyOrAmongOtherStatementsOrTooLongIsRefused() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", "simple");
        Statement s = alice.createStatement()) {
      s.execute("BEGIN");
      assertThatThrownBy(() -> s.execute("SET LOCAL warden.reason = 'INC-1'"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("0A000");
                assertThat(e.getMessage()).contains("SET LOCAL warden.reason is not supported");
              });
      s.execute("ROLLBACK");
      assertThatThrownBy(
              () -> s.execute("SET warden.reason = 'INC-1'; DELETE FROM tickets WHERE id = 1"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("0A000");
                assertThat(e.getMessage()).contains("must be sent as a statement of its own");
              });
      assertThatThrownBy(() -> s.execute("SET warden.reason = '" + "x".repeat(1001) + "'"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("22023");
                assertThat(e.getMessage()).contains("1001 characters long");
              });
      // A near miss is an identity setting, refused as before.
      assertThatThrownBy(() -> s.execute("SET warden.reasons = 'INC-1'"))
          .hasMessageContaining("rule \"identity-setting\"");
      assertThatThrownBy(() -> s.execute("SELECT set_config('warden.reason', 'INC-1', false)"))
          .hasMessageContaining("rule \"identity-setting\"");
      try (ResultSet rs = s.executeQuery("SELECT current_setting('warden.reason', true)")) {
        rs.next();
        assertThat(rs.getString(1)).isNullOrEmpty();
      }
    }
    assertThat(server.approvals().list(dev.warden.core.approval.ApprovalStore.Filter.all()))
        .isEmpty();
    assertThat(count("true")).isEqualTo(20);
  }

  @Test
  void psqlGivesTheReasonWithSetBeforeTheStatement() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    String conninfo =
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + database
            + " user=alice sslmode=disable";
    String delete = "DELETE FROM tickets WHERE id = 3";
    // Without a reason the rule makes no request.
    Process none = psql(conninfo, delete);
    String noneErr = new String(none.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(none.waitFor()).isNotZero();
    assertThat(noneErr).contains("needs approval and a reason");
    assertThat(REQUEST.matcher(noneErr).find()).as(noneErr).isFalse();

    // Each -c is a query of its own: the SET, then the statement.
    Process first = psql(conninfo, "SET warden.reason = 'INC-3'", delete);
    String err = new String(first.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(first.waitFor()).isNotZero();
    Matcher m = REQUEST.matcher(err);
    assertThat(m.find()).as(err).isTrue();
    assertThat(server.approvals().find(m.group()).orElseThrow().reason()).contains("INC-3");
    assertThat(count("true")).isEqualTo(20);
    assertThat(changeLog("tickets", "DELETE")).isEmpty();

    server.approvals().review(m.group(), reviewer("bob", "approvers"), true, "", false);
    Process second = psql(conninfo, "SET warden.reason = 'INC-3'", delete);
    assertThat(second.waitFor()).as(new String(second.getErrorStream().readAllBytes())).isZero();
    assertThat(changeLog("tickets", "DELETE")).containsExactly("row:3:INC-3", "statement::INC-3");
  }
}

package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.environment.Environment;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7's default for changes over the row limit, end to end: a Warden with no policy file (the
 * built-in default) in front of a production-tagged environment on the PostgreSQL server of this
 * machine, through pgjdbc and psql. A change of more than 1000 rows runs where it can be undone, is
 * rolled back, and waits for a member of approvers, its request showing the rows it changed; sent
 * again once approved it runs once; a small change runs without any request. The table and a
 * trigger-written change log in the database show what ran.
 */
class RowLimitApprovalEndToEndTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final Pattern REQUEST = Pattern.compile("apr_[a-z2-7]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;
  private String database;
  private WardenServer server;

  @BeforeEach
  void start() throws Exception {
    database = "warden_t_rowappr_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    sql("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
    // The database's own record of every change that stays: trigger rows roll back with it.
    sql("CREATE TABLE change_log (id int, op text, at timestamptz DEFAULT clock_timestamp())");
    sql(
        """
        CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO change_log (id, op) VALUES (OLD.id, TG_OP);
          RETURN OLD;
        END $$""");
    sql(
        "CREATE TRIGGER items_log AFTER DELETE OR UPDATE ON items"
            + " FOR EACH ROW EXECUTE FUNCTION log_change()");
    WardenConfig config =
        TestWarden.config(
            dir.resolve("data"),
            List.of(
                new Environment(
                    "prod",
                    Set.of("production"),
                    List.of(Environment.ANY_DATABASE),
                    TestWarden.localPostgres(Optional.empty()))));
    server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    addUser("alice", "alice-pw", "dev");
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
    TestWarden.addUser(server, RANDOM, name, password, groups);
  }

  private static Identity reviewer(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  private Connection connect(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "alice-pw");
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

  private long count(String query) throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long items() throws SQLException {
    return count("SELECT count(*) FROM items");
  }

  private long logged() throws SQLException {
    return count("SELECT count(*) FROM change_log");
  }

  private List<ApprovalRequest> requests() {
    return server.approvals().list(ApprovalStore.Filter.all());
  }

  /**
   * The request id a refusal names, after checking it is the over-limit refusal for {@code rows}.
   */
  private static String refusal(ThrowingRun run, long rows) {
    try {
      run.run();
    } catch (SQLException e) {
      assertThat(e.getSQLState()).isEqualTo("42501");
      assertThat(e.getMessage())
          .contains("it changed more than 1000 rows; Warden rolled it back")
          .contains("rule \"production-row-limit\"")
          .contains("It changed " + rows + " rows: request apr_")
          .contains("waits for a reviewer in approvers")
          .contains("send the same statement again");
      Matcher m = REQUEST.matcher(e.getMessage());
      assertThat(m.find()).as(e.getMessage()).isTrue();
      return m.group();
    }
    throw new AssertionError("the statement was not refused");
  }

  @FunctionalInterface
  interface ThrowingRun {
    void run() throws SQLException;
  }

  @Test
  void aPreparedDeleteOverTheLimitWaitsForApprovalThenRunsOnce() throws Exception {
    try (Connection alice = connect("extended");
        PreparedStatement delete = alice.prepareStatement("DELETE FROM items WHERE id <= ?")) {
      delete.setInt(1, 1500);
      String id = refusal(delete::executeUpdate, 1500);
      assertThat(items()).as("rolled back").isEqualTo(2000);
      assertThat(logged()).as("the trigger's rows rolled back with it").isZero();

      ApprovalRequest request = server.approvals().find(id).orElseThrow();
      assertThat(request.status()).isEqualTo(ApprovalRequest.Status.PENDING);
      assertThat(request.requester()).isEqualTo("alice");
      assertThat(request.environment()).isEqualTo("prod");
      assertThat(request.rows()).hasValue(1500);
      assertThat(request.rule()).isEqualTo("production-row-limit");
      assertThat(request.why()).contains("more than 1000 rows");
      assertThat(request.requirement().approverGroups()).containsExactly("approvers");
      assertThat(request.statement()).contains("DELETE FROM items");

      // Sent again while pending: the same request, nothing changed.
      assertThat(refusal(delete::executeUpdate, 1500)).isEqualTo(id);
      assertThat(items()).isEqualTo(2000);

      server.approvals().review(id, reviewer("bob", "approvers"), true, "checked", false);
      assertThat(delete.executeUpdate()).isEqualTo(1500);
      assertThat(items()).isEqualTo(500);
      assertThat(logged()).isEqualTo(1500);
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.USED);

      // Used: a third time it is rolled back and makes a new request.
      sql("INSERT INTO items SELECT g, 'again' FROM generate_series(1, 1500) g");
      sql("TRUNCATE change_log");
      String third = refusal(delete::executeUpdate, 1500);
      assertThat(third).isNotEqualTo(id);
      assertThat(items()).isEqualTo(2000);
      assertThat(logged()).isZero();

      // Approved for 1500, sent with other parameters: not what was approved.
      server.approvals().review(third, reviewer("bob", "approvers"), true, "", false);
      delete.setInt(1, 1400);
      String other = refusal(delete::executeUpdate, 1400);
      assertThat(other).isNotIn(id, third);
      assertThat(items()).isEqualTo(2000);
      assertThat(logged()).isZero();
      assertThat(server.approvals().find(third).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.APPROVED);
    }
  }

  @Test
  void aSmallChangeRunsWithoutAnyRequest() throws Exception {
    try (Connection alice = connect("extended");
        PreparedStatement delete = alice.prepareStatement("DELETE FROM items WHERE id <= ?")) {
      delete.setInt(1, 10);
      assertThat(delete.executeUpdate()).isEqualTo(10);
    }
    try (Connection alice = connect("simple");
        Statement s = alice.createStatement()) {
      assertThat(s.executeUpdate("UPDATE items SET name = 'x' WHERE id BETWEEN 11 AND 1010"))
          .as("exactly the limit")
          .isEqualTo(1000);
    }
    assertThat(items()).isEqualTo(1990);
    assertThat(logged()).isEqualTo(1010);
    assertThat(requests()).isEmpty();
  }

  @Test
  void theRequesterCannotApproveTheirOwnChange() throws Exception {
    addUser("carol", "carol-pw", "approvers");
    String id;
    try (Connection alice = connect("simple");
        Statement s = alice.createStatement()) {
      id = refusal(() -> s.executeUpdate("UPDATE items SET name = 'y' WHERE id > 100"), 1900);
    }
    assertThatThrownBy(
            () -> server.approvals().review(id, reviewer("alice", "approvers"), true, "", false))
        .hasMessageContaining("cannot review it");
    assertThat(count("SELECT count(*) FROM items WHERE name = 'y'")).isZero();
    assertThat(logged()).isZero();
  }

  @Test
  void psqlIsToldTheRequestAndRunsTheChangeOnceApproved() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    String conninfo =
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + database
            + " user=alice sslmode=disable";
    String delete = "DELETE FROM items WHERE id > 500";
    Process first = psql(conninfo, delete);
    String err = new String(first.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(first.waitFor()).isNotZero();
    assertThat(err).contains("It changed 1500 rows");
    Matcher m = REQUEST.matcher(err);
    assertThat(m.find()).as(err).isTrue();
    assertThat(err).contains("warden approvals approve " + m.group());
    assertThat(items()).isEqualTo(2000);
    assertThat(logged()).isZero();
    assertThat(server.approvals().find(m.group()).orElseThrow().rows()).hasValue(1500);

    server.approvals().review(m.group(), reviewer("bob", "approvers"), true, "", false);
    Process second = psql(conninfo, delete);
    String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(second.waitFor())
        .as(new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
        .isZero();
    assertThat(out).contains("DELETE 1500");
    assertThat(items()).isEqualTo(500);
    assertThat(logged()).isEqualTo(1500);
  }

  private static Process psql(String conninfo, String sql) throws Exception {
    ProcessBuilder b = new ProcessBuilder(PSQL.toString(), "-X", "-d", conninfo, "-c", sql);
    b.environment().putAll(Map.of("PGPASSWORD", "alice-pw", "PGCONNECT_TIMEOUT", "10"));
    Process p = b.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p;
  }
}

package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.environment.Environment;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.audit.AuditLogReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
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
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Issue 7's break-glass for guardrail denials, end to end: a real Warden with no policy file (the
 * default policy) in front of a production-tagged environment on the PostgreSQL server on this
 * machine, through pgjdbc and psql. The database's own catalogue shows what ran; the audit trail
 * shows who let it through.
 */
class BreakGlassEndToEndTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final Pattern REQUEST = Pattern.compile("apr_[a-z2-7]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DROP_MESSAGE =
      "Warden refused this statement: DROP is not allowed in production (rule"
          + " \"production-drop\")";
  private static final String DROP_HINT =
      "Run it in a non-production environment, or ask for approval. A reviewer in approvers can"
          + " let it through once as break-glass: give your reason, /* reason: ... */ in the"
          + " statement or SET warden.reason = '...' before it, and send it again to make a"
          + " request.";

  @TempDir Path dir;
  private String database;
  private WardenServer server;

  @BeforeEach
  void start() throws Exception {
    database = "warden_t_bg_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    sql("CREATE TABLE t (id int PRIMARY KEY)");
    sql("INSERT INTO t SELECT generate_series(1, 3)");
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

  private void sql(String statement) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
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

  /** Whether table t exists, as the database itself says. */
  private boolean tableExists() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('public.t') IS NOT NULL")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private List<ApprovalRequest> requests() {
    return server.approvals().list(ApprovalStore.Filter.all());
  }

  private static ServerErrorMessage refusal(ThrowingRun run) {
    try {
      run.run();
    } catch (PSQLException e) {
      assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("42501");
      return e.getServerErrorMessage();
    } catch (SQLException e) {
      throw new AssertionError("not a server error", e);
    }
    throw new AssertionError("the statement was not refused");
  }

  private static String requestIn(String message) {
    Matcher m = REQUEST.matcher(message);
    assertThat(m.find()).as(message).isTrue();
    return m.group();
  }

  @FunctionalInterface
  interface ThrowingRun {
    void run() throws SQLException;
  }

  private static void refusedFor(ApprovalException.Reason reason, ThrowingRun run) {
    assertThatThrownBy(run::run)
        .isInstanceOfSatisfying(
            ApprovalException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  @Test
  void aDropIsRefusedThenLetThroughOnceAsBreakGlassAndTheTrailSaysSo() throws Exception {
    String drop = "/* reason: INC-9 */ DROP TABLE t";
    try (Connection alice = connect("simple");
        Statement s = alice.createStatement()) {
      // No reason: refused exactly as before, with how to ask; no request, nothing stored.
      ServerErrorMessage plain = refusal(() -> s.execute("DROP TABLE t"));
      assertThat(plain.getMessage()).isEqualTo(DROP_MESSAGE);
      assertThat(plain.getHint()).isEqualTo(DROP_HINT);
    }
    try (Connection alice = connect("extended");
        Statement s = alice.createStatement()) {
      // The extended protocol is not offered break-glass: refused at Parse as before, reason or
      // not.
      for (String sql : List.of("DROP TABLE t", drop)) {
        ServerErrorMessage before = refusal(() -> s.execute(sql));
        assertThat(before.getMessage()).as(sql).isEqualTo(DROP_MESSAGE);
        assertThat(before.getHint())
            .as(sql)
            .isEqualTo("Run it in a non-production environment, or ask for approval.");
      }
    }
    assertThat(requests()).isEmpty();
    assertThat(tableExists()).isTrue();

    String id;
    try (Connection alice = connect("simple");
        Statement s = alice.createStatement()) {
      ServerErrorMessage asked = refusal(() -> s.execute(drop));
      id = requestIn(asked.getMessage());
      assertThat(asked.getMessage())
          .startsWith(DROP_MESSAGE)
          .contains("only a break-glass approval by a reviewer in approvers can let it through");
      assertThat(asked.getHint()).contains("warden approvals approve " + id + " --break-glass");
      assertThat(tableExists()).isTrue();

      ApprovalRequest request = server.approvals().find(id).orElseThrow();
      assertThat(request.requester()).isEqualTo("alice");
      assertThat(request.rule()).isEqualTo("production-drop");
      assertThat(request.why()).isEqualTo(DROP_MESSAGE);
      assertThat(request.reason()).contains("INC-9");
      assertThat(request.status()).isEqualTo(ApprovalRequest.Status.PENDING);

      // An ordinary approval is refused; so is the requester, and break-glass without a reason.
      refusedFor(
          ApprovalException.Reason.BREAK_GLASS_REQUIRED,
          () -> server.approvals().review(id, reviewer("bob", "approvers"), true, "ok", false));
      refusedFor(
          ApprovalException.Reason.SELF_REVIEW,
          () ->
              server
                  .approvals()
                  .review(id, reviewer("alice", "dev", "approvers"), true, "mine", true));
      refusedFor(
          ApprovalException.Reason.JUSTIFICATION_REQUIRED,
          () -> server.approvals().review(id, reviewer("bob", "approvers"), true, " ", true));
      assertThat(refusal(() -> s.execute(drop)).getMessage()).contains(id);
      assertThat(tableExists()).isTrue();

      server
          .approvals()
          .review(id, reviewer("bob", "approvers"), true, "INC-9: t is corrupt, restoring", true);
      s.execute(drop);
      assertThat(tableExists()).isFalse();
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.USED);

      // Once: made again, the same statement is refused with a new request.
      sql("CREATE TABLE t (id int PRIMARY KEY)");
      assertThat(requestIn(refusal(() -> s.execute(drop)).getMessage())).isNotEqualTo(id);
      assertThat(tableExists()).isTrue();
    }

    Map<String, Object> ran =
        awaitRecord(
            "intent", r -> drop.equals(r.get("text")) && "allowed".equals(r.get("verdict")));
    assertThat(ran)
        .containsEntry("user", "alice")
        .containsEntry("rule", "production-drop (break-glass by bob, request " + id + ")");
    Map<String, Object> approved =
        awaitRecord(
            "event", r -> "approval-approve".equals(r.get("event")) && r.toString().contains(id));
    assertThat(approved.toString()).contains("break_glass=true").contains("INC-9: t is corrupt");
  }

  @Test
  void psqlIsToldHowToAskAndRunsTheStatementOnceLetThrough() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    Process plain = psql("TRUNCATE t");
    String err = new String(plain.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(plain.waitFor()).isNotZero();
    assertThat(err)
        .contains("TRUNCATE is not allowed in production")
        .contains("can let it through once as break-glass");
    assertThat(requests()).isEmpty();

    String truncate = "/* reason: INC-10 */ TRUNCATE t";
    Process asked = psql(truncate);
    err = new String(asked.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(asked.waitFor()).isNotZero();
    String id = requestIn(err);
    assertThat(err).contains("warden approvals approve " + id + " --break-glass");
    assertThat(rows()).isEqualTo(3);

    server.approvals().review(id, reviewer("bob", "approvers"), true, "INC-10, purge", true);
    Process run = psql(truncate);
    assertThat(run.waitFor()).as(new String(run.getErrorStream().readAllBytes())).isZero();
    assertThat(rows()).isZero();
  }

  private int rows() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private Process psql(String sql) throws Exception {
    String conninfo =
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + database
            + " user=alice sslmode=disable";
    ProcessBuilder b = new ProcessBuilder(PSQL.toString(), "-X", "-At", "-d", conninfo, "-c", sql);
    b.environment().putAll(Map.of("PGPASSWORD", "alice-pw", "PGCONNECT_TIMEOUT", "10"));
    Process p = b.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p;
  }

  /** The first audit record of {@code type} that {@code matches}, waiting for it to be written. */
  private Map<String, Object> awaitRecord(
      String type, java.util.function.Predicate<Map<String, Object>> matches) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      for (Map<String, Object> r : records()) {
        if (type.equals(r.get("type")) && matches.test(r)) {
          return r;
        }
      }
      assertThat(System.nanoTime()).as("an audit record of " + type).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private List<Map<String, Object>> records() throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    AuditLogReader reader = AuditLogReader.open(dir.resolve("data").resolve("audit"));
    try (AuditLogReader.Cursor cursor = reader.readAfter(0)) {
      while (cursor.hasNext()) {
        ChainedRecord r = cursor.next();
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = JSON.readValue(r.payload(), Map.class);
        out.add(fields);
      }
    }
    return out;
  }
}

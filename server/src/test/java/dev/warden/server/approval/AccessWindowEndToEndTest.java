package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.WardenServer;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7, access windows, end to end: through a real Warden in front of the PostgreSQL server on
 * this machine, with pgjdbc and psql, the database's own privileges showing which role a session
 * logged in as. alice reads as {@code reader}; an approved window lets her new sessions write as
 * {@code writer} until it ends, when her elevated session is ended at its next idle moment and new
 * ones read again.
 */
class AccessWindowEndToEndTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;
  private final ApprovalEndToEndTest.MovableClock clock = new ApprovalEndToEndTest.MovableClock();
  private final String suffix = Long.toHexString(RANDOM.nextLong() >>> 1);
  private final String database = "warden_t_jit_" + suffix;
  private final String reader = "warden_t_jit_reader_" + suffix;
  private final String writer = "warden_t_jit_writer_" + suffix;
  private final HttpClient http = HttpClient.newHttpClient();
  private final AuditJson json = new AuditJson();
  private WardenServer server;

  @BeforeEach
  void start() throws Exception {
    admin("CREATE DATABASE " + database);
    admin("CREATE ROLE " + reader + " LOGIN PASSWORD 'reader-pw'");
    admin("CREATE ROLE " + writer + " LOGIN PASSWORD 'writer-pw'");
    sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    sql("INSERT INTO items VALUES (1, 'one')");
    sql("GRANT CONNECT ON DATABASE " + database + " TO " + reader + ", " + writer);
    sql("GRANT SELECT ON items TO " + reader + ", " + writer);
    sql("GRANT INSERT, UPDATE ON items TO " + writer);
    Upstream local =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    Environment environment =
        new Environment(
            "production",
            Set.of(),
            List.of(Environment.ANY_DATABASE),
            local,
            List.of(
                new RoleMapping(
                    Set.of("dev"),
                    Set.of(),
                    reader,
                    Secret.of("reader-pw"),
                    Optional.of("reader"),
                    Optional.empty()),
                new RoleMapping(
                    Set.of(),
                    Set.of(),
                    writer,
                    Secret.of("writer-pw"),
                    Optional.of("writer"),
                    Optional.of(JustInTime.DEFAULT))));
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            new TlsConfig(Optional.empty(), Optional.empty(), false),
            List.of(environment));
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
    admin("DROP ROLE IF EXISTS " + reader);
    admin("DROP ROLE IF EXISTS " + writer);
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

  private Connection alice() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "alice-pw");
    p.setProperty("sslmode", "disable");
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

  private int count() throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static String currentUser(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void insertIsRefusedByTheDatabase(Connection c, int id) {
    assertThatThrownBy(
            () -> {
              try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO items VALUES (" + id + ", 'x')");
              }
            })
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("42501");
              assertThat(e.getMessage()).contains("permission denied");
            });
  }

  private HttpResponse<String> post(String user, String path, Map<String, Object> body)
      throws Exception {
    String credentials = user + ":" + user + "-pw";
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.apiAddress().getPort() + path))
            .timeout(Duration.ofSeconds(20))
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString(credentials.getBytes(StandardCharsets.UTF_8)))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json.write(body)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
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

  private List<Map<String, Object>> events(String name) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    for (AuditHit hit :
        server.auditSearch().search(AuditQuery.parse("event:" + name), 100).hits()) {
      out.add(hit.fields());
    }
    return out;
  }

  @Test
  void anAccessWindowOpensForNewSessionsAndClosesWithTheElevatedSessionEnded() throws Exception {
    try (Connection before = alice()) {
      assertThat(currentUser(before)).isEqualTo(reader);
      insertIsRefusedByTheDatabase(before, 2);

      // Asked for through the REST API, as `warden access request` does.
      HttpResponse<String> asked =
          post(
              "alice",
              "/api/access",
              Map.of("env", "production", "role", "writer", "for", "2m", "reason", "INC-7 fix"));
      assertThat(asked.statusCode()).as(asked.body()).isEqualTo(200);
      String id = String.valueOf(((Map<?, ?>) json.read(asked.body())).get("id"));
      // Nothing changes before approval, and alice, an approver herself, cannot approve it.
      try (Connection pending = alice()) {
        assertThat(currentUser(pending)).isEqualTo(reader);
      }
      HttpResponse<String> self = post("alice", "/api/approvals/" + id + "/approve", Map.of());
      assertThat(self.statusCode()).isEqualTo(403);
      assertThat(self.body()).contains("cannot review it");

      HttpResponse<String> approved =
          post("bob", "/api/approvals/" + id + "/approve", Map.of("comment", "go"));
      assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);

      try (Connection elevated = alice();
          Statement s = elevated.createStatement()) {
        assertThat(currentUser(elevated)).isEqualTo(writer);
        s.execute("INSERT INTO items VALUES (2, 'two')");
        assertThat(count()).isEqualTo(2);
        // The session opened before the window keeps its role.
        assertThat(currentUser(before)).isEqualTo(reader);
        insertIsRefusedByTheDatabase(before, 3);
        if (Files.isExecutable(PSQL)) {
          Process p = psql("INSERT INTO items VALUES (3, 'three')");
          assertThat(p.waitFor())
              .as(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
              .isZero();
          assertThat(count()).isEqualTo(3);
        }

        // The window ends: the elevated session is ended when idle, with a message saying why.
        clock.forward(Duration.ofMinutes(2).plusSeconds(1));
        awaitClosed(elevated);
        assertThatThrownBy(() -> s.execute("INSERT INTO items VALUES (4, 'four')"))
            .isInstanceOf(SQLException.class);
      }
      assertThat(count()).isEqualTo(3);
      // The normal session was not touched.
      assertThat(currentUser(before)).isEqualTo(reader);
    }
    try (Connection after = alice()) {
      assertThat(currentUser(after)).isEqualTo(reader);
      insertIsRefusedByTheDatabase(after, 4);
    }
    if (Files.isExecutable(PSQL)) {
      Process p = psql("INSERT INTO items VALUES (4, 'four')");
      String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).isNotZero();
      assertThat(err).contains("permission denied");
    }

    // The request is marked used by the expiry sweep; every step is in the audit trail.
    List<ApprovalRequest> swept = server.approvals().expireDue();
    assertThat(swept)
        .singleElement()
        .extracting(ApprovalRequest::status)
        .isEqualTo(ApprovalRequest.Status.USED);
    awaitEvent("access-window-end");
    assertThat(events("access-request")).isNotEmpty();
    assertThat(events("access-approve")).isNotEmpty();
    assertThat(events("access-window-open")).isNotEmpty();
    assertThat(events("expire"))
        .anySatisfy(
            e ->
                assertThat(String.valueOf(e.get("details")))
                    .contains("access_window")
                    .contains("writer"));
    assertThat(events("connect"))
        .anySatisfy(e -> assertThat(String.valueOf(e.get("details"))).contains("access_role"));
  }

  @Test
  void psqlIsToldWhyTheElevatedSessionEnded() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    HttpResponse<String> asked =
        post(
            "alice",
            "/api/access",
            Map.of("env", "production", "role", "writer", "for", "1m", "reason", "INC-8"));
    String id = String.valueOf(((Map<?, ?>) json.read(asked.body())).get("id"));
    assertThat(post("bob", "/api/approvals/" + id + "/approve", Map.of()).statusCode())
        .isEqualTo(200);
    // One psql session: a statement as writer, then, after the window's end, another.
    String conninfo =
        "host=127.0.0.1 port="
            + server.address().getPort()
            + " dbname="
            + database
            + " user=alice sslmode=disable";
    ProcessBuilder b = new ProcessBuilder(PSQL.toString(), "-X", "-At", "-d", conninfo);
    b.environment().putAll(Map.of("PGPASSWORD", "alice-pw", "PGCONNECT_TIMEOUT", "10"));
    b.redirectErrorStream(true);
    Process session = b.start();
    var in = session.getOutputStream();
    in.write("SELECT current_user;\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
    Thread.sleep(1500);
    clock.forward(Duration.ofMinutes(2));
    Thread.sleep(2500);
    in.write("SELECT current_user;\n".getBytes(StandardCharsets.UTF_8));
    in.flush();
    in.close();
    assertThat(session.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String output = new String(session.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output)
        .contains(writer)
        .contains("access window for role writer")
        .contains("continue as your normal role");
  }

  private void awaitEvent(String name) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (events(name).isEmpty()) {
      assertThat(System.nanoTime()).as("waiting for " + name).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /** Waits (up to 10 s) until the server side has closed the connection. */
  private static void awaitClosed(Connection c) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && c.isValid(1)) {
      Thread.sleep(100);
    }
    assertThat(c.isValid(1)).as("the elevated session was ended").isFalse();
  }
}

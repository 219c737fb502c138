package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import dev.warden.server.audit.AuditJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live sessions and metrics, end to end: a real Warden in front of the PostgreSQL server on this
 * machine, pgjdbc clients, and the REST API. A session appears in {@code /api/sessions} with who it
 * is and what it did, only to those allowed to see it; an administrator ends it, the client's next
 * statement fails with SQLSTATE 57P01 naming who and why, the database rolls back what it had open
 * and stops what it was running, and the audit trail says so. {@code /metrics} counts it all.
 */
class LiveSessionsEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/";
  private static final AuditJson JSON = new AuditJson();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Map<String, String> PASSWORDS =
      Map.of(
          "root", "root-pw",
          "audrey", "audrey-pw",
          "paul", "paul-pw",
          "petra", "petra-pw",
          "mona", "mona-pw");

  @TempDir static Path dir;

  private static String database;
  private static WardenServer server;

  @BeforeAll
  static void start() throws Exception {
    database = "warden_t_live_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    try (Connection c = DriverManager.getConnection(ADMIN_URL + database, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE customers (id int PRIMARY KEY, email text, city text)");
      s.execute(
          "INSERT INTO customers SELECT g, 'person' || g || '@example.com', 'Lisbon'"
              + " FROM generate_series(1, 30) g");
      s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
    }
    server =
        WardenServer.start(
            TestWarden.config(dir.resolve("data"), List.of(TestWarden.production(database))),
            Clock.systemUTC(),
            RANDOM);
    user("root", "admins");
    user("audrey", "auditors");
    user("paul");
    user("petra");
    user("mona", "monitoring");
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  // ---- live sessions ----------------------------------------------------------------------------

  @Test
  void aSessionIsListedWithWhoItIsAndWhatItDidToThoseAllowedToSeeIt() throws Exception {
    try (Connection paul = connect("paul", "live-sessions-test");
        Connection petra = connect("petra", "other");
        Statement s = paul.createStatement()) {
      s.executeQuery("SELECT 1").close();
      s.executeQuery("SELECT city FROM customers WHERE id = 2").close();
      // A secret in a statement is shown as the audit trail records it: redacted.
      assertThatThrownBy(() -> s.execute("ALTER ROLE nobody_here PASSWORD 'hunter2-secret'"))
          .isInstanceOf(SQLException.class);
      petra.createStatement().executeQuery("SELECT 1").close();

      Map<String, Object> mine =
          awaitSession("paul", "paul", m -> ((Number) m.get("statements")).longValue() >= 3);
      assertThat(mine)
          .containsEntry("user", "paul")
          .containsEntry("environment", "production")
          .containsEntry("database", "production")
          .containsEntry("application", "live-sessions-test")
          .containsEntry("role", "postgres")
          .containsEntry("auth_method", "scram-sha-256")
          .containsEntry("state", "idle");
      assertThat((String) mine.get("source")).startsWith("127.0.0.1:");
      assertThat((String) mine.get("last_statement"))
          .startsWith("ALTER ROLE nobody_here PASSWORD")
          .doesNotContain("hunter2");
      assertThat(Instant.parse((String) mine.get("started"))).isBefore(Instant.now());
      Instant.parse((String) mine.get("last_statement_at"));

      // paul sees only his own; the auditor and the administrator see both.
      assertThat(users(get("/api/sessions", "paul"))).containsExactly("paul");
      assertThat(users(get("/api/sessions", "audrey"))).contains("paul", "petra");
      assertThat(users(get("/api/sessions?environment=production", "root")))
          .contains("paul", "petra");
      String petras = (String) awaitSession("petra", "audrey", m -> true).get("id");
      assertThat(get("/api/sessions/" + petras, "paul").statusCode()).isEqualTo(404);
      assertThat(get("/api/sessions/" + petras, "audrey").statusCode()).isEqualTo(200);
      assertThat(get("/api/sessions/" + mine.get("id"), "paul").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void anOpenTransactionIsShownAsSuch() throws Exception {
    try (Connection c = connect("petra", "tx")) {
      c.setAutoCommit(false);
      c.createStatement().executeQuery("SELECT 1").close();
      awaitSession("petra", "root", m -> "in_transaction".equals(m.get("state")));
      c.rollback();
      awaitSession("petra", "root", m -> "idle".equals(m.get("state")));
    }
  }

  @Test
  void anAdministratorEndsASessionTheClientIsToldWhoAndWhyAndItIsAudited() throws Exception {
    // For contrast: a session that simply ends leaves its idle database connection parked for
    // reuse, so the database process stays.
    int parked;
    try (Connection other = connect("paul", "contrast")) {
      parked = backendOf(other);
    }
    Thread.sleep(200);
    assertThat(count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + parked)).isEqualTo(1);
    try (Connection c = connect("paul", "to-be-ended")) {
      int backend = backendOf(c);
      String id =
          (String)
              awaitSession("paul", "root", m -> "to-be-ended".equals(m.get("application")))
                  .get("id");

      assertThat(
              post("/api/sessions/" + id + "/terminate", "paul", Map.of("reason", "x"))
                  .statusCode())
          .isEqualTo(403);
      assertThat(post("/api/sessions/" + id + "/terminate", "root", Map.of()).statusCode())
          .isEqualTo(400);
      HttpResponse<String> ended =
          post("/api/sessions/" + id + "/terminate", "root", Map.of("reason", "incident 42"));
      assertThat(ended.statusCode()).as(ended.body()).isEqualTo(200);
      assertThat(JSON.read(ended.body())).isEqualTo(Map.of("terminated", true, "id", id));

      SQLException e = nextStatementFails(c);
      assertThat(e.getSQLState()).isEqualTo("57P01");
      assertThat(e.getMessage())
          .contains("ended by Warden administrator root")
          .contains("incident 42");
      awaitGone(id);
      awaitBackendGone(backend); // not parked for reuse

      Map<String, Object> audit =
          await(
              "/api/audit?q=" + encode("event:session-terminate"),
              "audrey",
              b -> JSON.write(b).contains(id));
      String record = JSON.write(audit);
      assertThat(record).contains(id).contains("incident 42").contains("\"user\":\"root\"");
    }
  }

  @Test
  void endingASessionInsideATransactionRollsItBackAndTheConnectionIsNotReused() throws Exception {
    try (Connection c = connect("petra", "tx-ended")) {
      int backend = backendOf(c);
      c.setAutoCommit(false);
      c.createStatement().execute("INSERT INTO notes VALUES (1, 'uncommitted')");
      Map<String, Object> s =
          awaitSession("petra", "root", m -> "in_transaction".equals(m.get("state")));
      String id = (String) s.get("id");
      assertThat(
              post("/api/sessions/" + id + "/terminate", "root", Map.of("reason", "tx"))
                  .statusCode())
          .isEqualTo(200);
      assertThat(nextStatementFails(c).getSQLState()).isEqualTo("57P01");
      awaitGone(id);
      awaitBackendGone(backend);
      assertThat(count("SELECT count(*) FROM notes")).isZero();
    }
  }

  @Test
  void endingASessionStopsTheStatementItIsRunning() throws Exception {
    // The statement waits for a lock held here: it runs until cancelled, at no cost to the CPU.
    try (Connection holder = DriverManager.getConnection(ADMIN_URL + database, "postgres", "");
        Connection c = connect("petra", "waiter")) {
      holder.setAutoCommit(false);
      holder.createStatement().execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE");
      int backend = backendOf(c);
      CompletableFuture<SQLException> waiting = new CompletableFuture<>();
      Thread.ofPlatform()
          .start(
              () -> {
                try (Statement s = c.createStatement()) {
                  s.executeQuery("SELECT count(*) FROM notes").close();
                  waiting.complete(null);
                } catch (SQLException e) {
                  waiting.complete(e);
                }
              });
      Map<String, Object> s = awaitSession("petra", "root", m -> "active".equals(m.get("state")));
      assertThat((String) s.get("last_statement")).isEqualTo("SELECT count(*) FROM notes");
      awaitWaiting(backend);
      assertThat(
              post(
                      "/api/sessions/" + s.get("id") + "/terminate",
                      "root",
                      Map.of("reason", "too slow"))
                  .statusCode())
          .isEqualTo(200);
      SQLException e = waiting.get(20, TimeUnit.SECONDS);
      assertThat((Throwable) e).isNotNull();
      assertThat(e.getSQLState()).isEqualTo("57P01");
      assertThat(e.getMessage()).contains("too slow");
      // Cancelled and gone while the lock is still held: not left waiting behind a closed socket.
      awaitBackendGone(backend);
      holder.rollback();
    }
  }

  // ---- metrics ----------------------------------------------------------------------------------

  @Test
  void metricsNeedMonitoringAuditorsOrAdministrators() throws Exception {
    HttpResponse<String> anonymous = get("/metrics", null);
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("WWW-Authenticate").orElseThrow())
        .startsWith("Basic");
    assertThat(get("/metrics", "paul").statusCode()).isEqualTo(403);
    for (String user : List.of("mona", "audrey", "root")) {
      HttpResponse<String> r = get("/metrics", user);
      assertThat(r.statusCode()).as(user).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow())
          .startsWith("text/plain; version=0.0.4");
    }
  }

  @Test
  void countersMoveWithLoginsStatementsRefusalsAndMaskedValues() throws Exception {
    Map<String, Double> before = MetricsText.parse(get("/metrics", "mona").body());
    try (Connection c = connect("paul", "metrics");
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT city FROM customers WHERE id = 1").close();
      try (ResultSet rs = s.executeQuery("SELECT email FROM customers WHERE id < 4")) {
        while (rs.next()) {
          assertThat(rs.getString(1)).doesNotStartWith("person"); // masked
        }
      }
      assertThatThrownBy(() -> s.execute("DROP TABLE customers")).isInstanceOf(SQLException.class);
      assertThatThrownBy(() -> connect("paul", "wrong-password", "metrics"))
          .isInstanceOf(SQLException.class);

      Map<String, Double> after = MetricsText.parse(get("/metrics", "mona").body());
      String env = "environment=\"production\"";
      assertThat(delta(before, after, "warden_statements_total{" + env + ",verdict=\"allowed\"}"))
          .isGreaterThanOrEqualTo(2);
      assertThat(delta(before, after, "warden_statements_total{" + env + ",verdict=\"denied\"}"))
          .isGreaterThanOrEqualTo(1);
      assertThat(delta(before, after, "warden_masked_values_total{" + env + "}"))
          .isGreaterThanOrEqualTo(3);
      assertThat(delta(before, after, "warden_connections_total{" + env + ",result=\"accepted\"}"))
          .isGreaterThanOrEqualTo(1);
      assertThat(delta(before, after, "warden_connections_total{" + env + ",result=\"refused\"}"))
          .isGreaterThanOrEqualTo(1);
      assertThat(after.get("warden_sessions{" + env + "}")).isGreaterThanOrEqualTo(1);
      assertThat(after).containsEntry("warden_audit_available", 1.0);
      assertThat(after).containsKey("warden_approvals_pending");
      assertThat(after.get("jvm_memory_used_bytes{area=\"heap\"}")).isPositive();
      assertThat(after.get("jvm_threads_current")).isPositive();
      assertThat(after.get("process_uptime_seconds")).isPositive();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static double delta(Map<String, Double> before, Map<String, Double> after, String key) {
    assertThat(after).as("metrics after").containsKey(key);
    return after.get(key) - before.getOrDefault(key, 0.0);
  }

  /** The next statement on {@code c}, which Warden has ended; its error. */
  private static SQLException nextStatementFails(Connection c) {
    Throwable t = null;
    try (Statement s = c.createStatement()) {
      s.executeQuery("SELECT 1").close();
    } catch (SQLException e) {
      t = e;
    }
    assertThat(t).as("the next statement fails").isInstanceOf(SQLException.class);
    return (SQLException) t;
  }

  /** The database's process id serving {@code c} (through Warden, the upstream backend). */
  private static int backendOf(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void awaitBackendGone(int pid) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == 0) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("backend " + pid + " is still there");
  }

  private static void awaitWaiting(int pid) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (count(
              "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = "
                  + pid)
          == 1) {
        return;
      }
      Thread.sleep(25);
    }
    throw new AssertionError("backend " + pid + " never waited for the lock");
  }

  private static long count(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(ADMIN_URL + database, "postgres", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> awaitSession(
      String user, String asker, Predicate<Map<String, Object>> done) throws Exception {
    Map<String, Object> last = null;
    for (int i = 0; i < 200; i++) {
      for (Object o : (List<Object>) body(get("/api/sessions", asker)).get("sessions")) {
        Map<String, Object> m = (Map<String, Object>) o;
        if (m.get("user").equals(user)) {
          last = m;
          if (done.test(m)) {
            return m;
          }
        }
      }
      Thread.sleep(25);
    }
    throw new AssertionError("no session of " + user + " as wanted; last: " + last);
  }

  private static void awaitGone(String id) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (get("/api/sessions/" + id, "root").statusCode() == 404) {
        return;
      }
      Thread.sleep(25);
    }
    throw new AssertionError("session " + id + " is still listed");
  }

  @SuppressWarnings("unchecked")
  private static List<Object> users(HttpResponse<String> r) {
    return ((List<Object>) body(r).get("sessions"))
        .stream().map(o -> ((Map<String, Object>) o).get("user")).toList();
  }

  private static String encode(String q) {
    return java.net.URLEncoder.encode(q, StandardCharsets.UTF_8);
  }

  private static Map<String, Object> await(
      String path, String user, Predicate<Map<String, Object>> done) throws Exception {
    Map<String, Object> last = null;
    for (int i = 0; i < 200; i++) {
      last = body(get(path, user));
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("never satisfied: " + JSON.write(last));
  }

  private static HttpResponse<String> get(String path, String user) throws Exception {
    return request("GET", path, user, null);
  }

  private static HttpResponse<String> post(String path, String user, Object body) throws Exception {
    return request("POST", path, user, JSON.write(body));
  }

  private static HttpResponse<String> request(String method, String path, String user, String body)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.apiAddress().getPort() + path))
            .timeout(Duration.ofSeconds(30));
    if (user != null) {
      r.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(
                      (user + ":" + PASSWORDS.get(user)).getBytes(StandardCharsets.UTF_8)));
    }
    if (body != null) {
      r.header("Content-Type", "application/json");
      r.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      r.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> body(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return (Map<String, Object>) JSON.read(response.body());
  }

  private static void user(String name, String... groups) {
    TestWarden.addUser(server, RANDOM, name, PASSWORDS.get(name), groups);
  }

  private static Connection connect(String user, String application) throws SQLException {
    return connect(user, PASSWORDS.get(user), application);
  }

  private static Connection connect(String user, String password, String application)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("ApplicationName", application);
    p.setProperty("assumeMinServerVersion", "12"); // application_name in the startup packet
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/production", p);
  }

  private static void admin(String sql) {
    try (Connection c = DriverManager.getConnection(ADMIN_URL + "postgres", "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Prometheus' text format (0.0.4), read strictly: any line it does not allow fails the test. */
  static final class MetricsText {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL =
        "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:\\\\[\\\\\"n]|[^\"\\\\\\n])*\"";
    private static final Pattern SAMPLE =
        Pattern.compile(
            "("
                + NAME
                + ")(\\{(?:"
                + LABEL
                + ")(?:,"
                + LABEL
                + ")*\\})? (-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
    private static final Pattern TYPE =
        Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");

    /** Every sample by its name and labels as written, checking the text on the way. */
    static Map<String, Double> parse(String text) {
      assertThat(text).endsWith("\n");
      Map<String, Double> samples = new HashMap<>();
      Map<String, String> types = new HashMap<>();
      for (String line : text.split("\n")) {
        Matcher m;
        if ((m = HELP.matcher(line)).matches()) {
          continue;
        }
        if ((m = TYPE.matcher(line)).matches()) {
          assertThat(types.put(m.group(1), m.group(2))).as("one TYPE per family: " + line).isNull();
          continue;
        }
        m = SAMPLE.matcher(line);
        assertThat(m.matches()).as("a valid sample line: '" + line + "'").isTrue();
        assertThat(types).as("TYPE before the samples of " + m.group(1)).containsKey(m.group(1));
        String key = m.group(1) + (m.group(2) == null ? "" : m.group(2));
        assertThat(samples.put(key, Double.parseDouble(m.group(3))))
            .as("one sample per series: " + key)
            .isNull();
      }
      return samples;
    }
  }
}

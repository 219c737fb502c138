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
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's REST endpoints against a real Warden in front of PostgreSQL, under the built-in
 * policy, with an administrator, an auditor and a plain user: environments, the overview following
 * statements made through the proxy, the data map finding an e-mail column, the policy shown,
 * checked and simulated, identities and service tokens, and each endpoint's refusals (401 without
 * credentials, 403 for a role that may not, 400 for a bad request, 404 and 409).
 */
class ConsoleApiEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final AuditJson JSON = new AuditJson();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/";
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path dir;

  private static String database;
  private static WardenServer server;

  @BeforeAll
  static void start() throws Exception {
    database = "warden_t_consoleapi_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    try (Connection c = DriverManager.getConnection(ADMIN_URL + database, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE customers (id int PRIMARY KEY, email text, city text)");
      s.execute(
          "INSERT INTO customers SELECT g, 'person' || g || '@example.com', 'Lisbon'"
              + " FROM generate_series(1, 30) g");
    }
    server =
        WardenServer.start(
            TestWarden.config(dir.resolve("data"), List.of(TestWarden.production(database))),
            Clock.systemUTC(),
            RANDOM);
    user("root", "root-pw", "admins");
    user("audrey", "audrey-pw", "auditors");
    user("paul", "paul-pw");
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  // ---- environments and overview ----------------------------------------------------------------

  @Test
  void environmentsAreListedForAnyoneSignedInWithTheirLiveSessionsButNoCredentials()
      throws Exception {
    assertThat(get("/api/environments", null).statusCode()).isEqualTo(401);
    try (Connection c = connect("paul", "paul-pw")) {
      c.createStatement().execute("SELECT 1");
      Map<String, Object> env =
          await(
              "/api/environments",
              "paul",
              body ->
                  first(body, "environments").get("sessions") instanceof Number n
                      && n.intValue() >= 1);
      Map<String, Object> production = first(env, "environments");
      assertThat(production.get("name")).isEqualTo("production");
      assertThat(production.get("tags")).isEqualTo(List.of("production"));
      assertThat(production.get("upstream")).isEqualTo("127.0.0.1:5432");
      assertThat(JSON.write(env)).doesNotContain("postgres\"").doesNotContain("password");
    }
  }

  @Test
  void theOverviewCountsStatementsRefusalsAndMaskedResultsAsTheyHappen() throws Exception {
    assertThat(get("/api/overview", "paul").statusCode()).isEqualTo(403);
    assertThat(get("/api/overview?environment=nowhere", "audrey").statusCode()).isEqualTo(404);
    long before = number(body(get("/api/overview?environment=production", "audrey")), "statements");
    try (Connection c = connect("paul", "paul-pw");
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT email FROM customers WHERE id = 1").close();
      assertThatThrownBy(() -> s.execute("DROP TABLE customers")).isInstanceOf(SQLException.class);
      Map<String, Object> overview =
          await(
              "/api/overview?environment=production",
              "audrey",
              body ->
                  number(body, "statements") >= before + 2
                      && number(body, "denied") >= 1
                      && number(body, "masked") >= 1
                      && JSON.write(body.get("tables")).contains("customers"));
      assertThat((List<?>) overview.get("minutes")).hasSize(60);
      assertThat(JSON.write(overview.get("connected"))).contains("\"paul\"");
      assertThat(JSON.write(overview.get("tables"))).contains("customers");
      assertThat(overview).containsKey("approvals_pending");
    }
  }

  // ---- data map ---------------------------------------------------------------------------------

  @Test
  void theDataMapShowsTheEmailColumnWithItsKindHowItWasFoundAndItsStrategy() throws Exception {
    assertThat(get("/api/datamap", "paul").statusCode()).isEqualTo(403);
    assertThat(get("/api/datamap?environment=nowhere", "audrey").statusCode()).isEqualTo(404);
    Map<String, Object> body = body(get("/api/datamap?environment=production", "audrey"));
    String text = JSON.write(body);
    assertThat(text)
        .contains("\"table\":\"public.customers\"")
        .contains("\"column\":\"email\"")
        .contains("\"kind\":\"email\"")
        .doesNotContain("\"column\":\"city\"");
    Map<String, Object> map = first(body, "maps");
    assertThat(map.get("environment")).isEqualTo("production");
    assertThat(map.get("database"))
        .as("the database name the client asked for")
        .isEqualTo("production");
  }

  // ---- policy -----------------------------------------------------------------------------------

  @Test
  void thePolicyIsShownToAuditorsWithItsRulesAndText() throws Exception {
    assertThat(get("/api/policy", "paul").statusCode()).isEqualTo(403);
    Map<String, Object> body = body(get("/api/policy", "audrey"));
    assertThat(body.get("source")).isEqualTo("default");
    assertThat((String) body.get("text")).contains("rules:");
    assertThat(JSON.write(body.get("rules"))).contains("production-drop");
  }

  @Test
  void aPolicyTextIsValidatedWithTheLineAndColumnOfEachProblem() throws Exception {
    String good = "default: allow\nrules:\n  - name: x\n    when: \"true\"\n    action: deny\n";
    assertThat(post("/api/policy/validate", "audrey", Map.of("text", good)).statusCode())
        .isEqualTo(403);
    Map<String, Object> ok = body(post("/api/policy/validate", "root", Map.of("text", good)));
    assertThat(ok).containsEntry("valid", true);
    Map<String, Object> bad =
        body(
            post(
                "/api/policy/validate",
                "root",
                Map.of("text", "default: allow\nrules:\n  - name: x\n    when: \"1 +\"\n")));
    assertThat(bad).containsEntry("valid", false);
    Map<String, Object> problem = first(bad, "errors");
    assertThat(((Number) problem.get("line")).intValue()).isGreaterThanOrEqualTo(3);
    assertThat((String) problem.get("message")).isNotBlank();
    assertThat(post("/api/policy/validate", "root", Map.of("txt", good)).statusCode())
        .isEqualTo(400);
  }

  @Test
  void aStatementIsSimulatedAsTheRequesterOrByAuditorsAsAnyone() throws Exception {
    Map<String, Object> drop =
        body(
            post(
                "/api/policy/simulate",
                "paul",
                Map.of("statement", "DROP TABLE customers", "environment", "production")));
    assertThat(drop)
        .containsEntry("verdict", "deny")
        .containsEntry("user", "paul")
        .containsEntry("break_glass", true);
    assertThat((String) drop.get("message")).contains("DROP");
    Map<String, Object> read =
        body(
            post(
                "/api/policy/simulate",
                "paul",
                Map.of("statement", "SELECT email FROM customers", "environment", "production")));
    assertThat(read).containsEntry("verdict", "allow").containsEntry("masked", true);
    assertThat(
            post(
                    "/api/policy/simulate",
                    "paul",
                    Map.of("statement", "SELECT 1", "environment", "production", "user", "root"))
                .statusCode())
        .isEqualTo(403);
    Map<String, Object> asOther =
        body(
            post(
                "/api/policy/simulate",
                "audrey",
                Map.of(
                    "statement",
                    "SELECT 1",
                    "environment",
                    "production",
                    "user",
                    "carol",
                    "groups",
                    List.of("dev"))));
    assertThat(asOther).containsEntry("user", "carol").containsEntry("groups", List.of("dev"));
    assertThat(
            post(
                    "/api/policy/simulate",
                    "paul",
                    Map.of("statement", "SELECT 1", "environment", "nowhere"))
                .statusCode())
        .isEqualTo(400);
  }

  // ---- identities and tokens
  // ----------------------------------------------------------------------

  @Test
  void identitiesAreListedAndAdministratorsCreateAndRevokeServiceTokens() throws Exception {
    assertThat(get("/api/identities", "paul").statusCode()).isEqualTo(403);
    assertThat(JSON.write(body(get("/api/identities", "audrey"))))
        .contains("\"name\":\"root\"")
        .contains("\"admins\"")
        .doesNotContain("credential");
    assertThat(post("/api/tokens", "audrey", Map.of("name", "ci-bot")).statusCode()).isEqualTo(403);
    assertThat(
            post("/api/tokens", "root", Map.of("name", "ci-bot", "expires_in", "soon"))
                .statusCode())
        .isEqualTo(400);
    HttpResponse<String> created =
        post(
            "/api/tokens",
            "root",
            Map.of("name", "ci-bot", "groups", List.of("auditors"), "expires_in", "30d"));
    assertThat(created.statusCode()).isEqualTo(201);
    String token = (String) body(created).get("token");
    assertThat(token).startsWith("wdt_");
    assertThat(post("/api/tokens", "root", Map.of("name", "ci-bot")).statusCode()).isEqualTo(409);
    assertThat(post("/api/tokens", "root", Map.of("name", "paul")).statusCode())
        .as("users and tokens share one name space")
        .isEqualTo(409);

    // The token authenticates the API as an auditor, and stops once revoked.
    assertThat(request("GET", "/api/policy", "ci-bot", token, null).statusCode()).isEqualTo(200);
    assertThat(JSON.write(body(get("/api/identities", "audrey")))).contains("\"ci-bot\"");
    assertThat(post("/api/tokens/ci-bot/revoke", "audrey", Map.of()).statusCode()).isEqualTo(403);
    assertThat(post("/api/tokens/ci-bot/revoke", "root", Map.of()).statusCode()).isEqualTo(200);
    assertThat(post("/api/tokens/ci-bot/revoke", "root", Map.of()).statusCode()).isEqualTo(409);
    assertThat(post("/api/tokens/nobody/revoke", "root", Map.of()).statusCode()).isEqualTo(404);
    assertThat(request("GET", "/api/policy", "ci-bot", token, null).statusCode()).isEqualTo(401);

    // Both changes are in the audit trail.
    assertThat(
            JSON.write(
                await(
                    "/api/audit?q=event:token-create",
                    "audrey",
                    b -> JSON.write(b).contains("ci-bot"))))
        .contains("ci-bot");
    assertThat(
            JSON.write(
                await(
                    "/api/audit?q=event:token-revoke",
                    "audrey",
                    b -> JSON.write(b).contains("ci-bot"))))
        .contains("ci-bot");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static final Map<String, String> PASSWORDS =
      Map.of("root", "root-pw", "audrey", "audrey-pw", "paul", "paul-pw");

  private static HttpResponse<String> get(String path, String user) throws Exception {
    return request("GET", path, user, user == null ? null : PASSWORDS.get(user), null);
  }

  private static HttpResponse<String> post(String path, String user, Object body) throws Exception {
    return request("POST", path, user, PASSWORDS.get(user), JSON.write(body));
  }

  private static HttpResponse<String> request(
      String method, String path, String user, String password, String body) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(URI.create(console() + path)).timeout(Duration.ofSeconds(30));
    if (user != null) {
      r.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
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
    assertThat(response.statusCode()).as(response.body()).isBetween(200, 201);
    return (Map<String, Object>) JSON.read(response.body());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> first(Map<String, Object> body, String list) {
    List<Object> items = (List<Object>) body.get(list);
    assertThat(items).as(list + " in " + body).isNotEmpty();
    return (Map<String, Object>) items.get(0);
  }

  private static long number(Map<String, Object> body, String field) {
    return ((Number) body.get(field)).longValue();
  }

  /** Asks until the answer satisfies {@code done} (records reach the feed within milliseconds). */
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

  private static String console() {
    return TestWarden.console(server);
  }

  private static void user(String name, String password, String... groups) {
    TestWarden.addUser(server, RANDOM, name, password, groups);
  }

  private static Connection connect(String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
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
}

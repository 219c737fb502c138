package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.session.LiveSession;
import dev.warden.core.session.SessionRegistry;
import dev.warden.core.session.SessionState;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The live-session endpoints' answers and authorization, over HTTP against the real API, with
 * sessions a protocol engine would register (their ending is proven against PostgreSQL in {@link
 * LiveSessionsEndToEndTest}).
 */
class SessionRoutesTest {
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");
  private final Clock clock = Clock.fixed(T0.plusSeconds(60), ZoneOffset.UTC);
  private final ChainingTrail trail = new ChainingTrail();
  private final SessionRegistry registry =
      new SessionRegistry((sql, lexical) -> sql.replace("'hunter2'", "'***'"));
  private final AuditJson json = new AuditJson();
  private final HttpClient http = HttpClient.newHttpClient();
  private ApiServer api;
  private Fake alices;
  private Fake bobs;

  @BeforeEach
  void start() throws Exception {
    MemoryUsers users =
        new MemoryUsers()
            .add("alice", "alice pw", "developers")
            .add("bob", "bob pw", "developers")
            .add("audrey", "audrey pw", "auditors")
            .add("root", "root pw", "admins")
            .add("apollo", "apollo pw", "approvers");
    api =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(
                    users,
                    new MemorySearch(clock, () -> trail.appended().size()),
                    trail,
                    trail,
                    new AuthThrottle(clock),
                    clock)
                .withRoutes(SessionRoutes.of(registry, trail, clock)));
    alices = new Fake("0a1ce0000000a1ce", "alice", "production", T0);
    alices.statements = 3;
    alices.state = SessionState.ACTIVE;
    alices.last =
        new LiveSession.LastStatement(
            "ALTER ROLE app PASSWORD 'hunter2'", LexicalSettings.DEFAULT, T0.plusSeconds(30));
    bobs = new Fake("b0b0000000000b0b", "bob", "staging", T0.plusSeconds(1));
    registry.add(alices);
    registry.add(bobs);
  }

  @AfterEach
  void stop() {
    api.close();
  }

  @Test
  void anAuditorSeesEverySessionWithItsFactsAndTheLastStatementRedacted() throws Exception {
    HttpResponse<String> r = get("/api/sessions", "audrey");
    assertThat(r.statusCode()).isEqualTo(200);
    List<Map<String, Object>> sessions = sessions(r);
    assertThat(sessions).extracting(s -> s.get("id")).containsExactly(alices.id(), bobs.id());
    Map<String, Object> a = sessions.get(0);
    assertThat(a)
        .containsEntry("user", "alice")
        .containsEntry("groups", List.of("developers"))
        .containsEntry("auth_method", "service-token")
        .containsEntry("on_behalf_of", "alice.person")
        .containsEntry("environment", "production")
        .containsEntry("database", "shop")
        .containsEntry("source", "10.0.0.7:50000")
        .containsEntry("application", "psql")
        .containsEntry("role", "app_ro")
        .containsEntry("started", "2026-11-28T09:00:00Z")
        .containsEntry("state", "active")
        .containsEntry("statements", 3L)
        .containsEntry("last_statement", "ALTER ROLE app PASSWORD '***'")
        .containsEntry("last_statement_at", "2026-11-28T09:00:30Z");
    assertThat(r.body()).doesNotContain("hunter2");
    Map<String, Object> b = sessions.get(1);
    assertThat(b).doesNotContainKeys("last_statement", "last_statement_at", "on_behalf_of");
    assertThat(b).containsEntry("state", "idle").containsEntry("statements", 0L);
  }

  @Test
  void theListCanBeNarrowedToOneEnvironment() throws Exception {
    assertThat(sessions(get("/api/sessions?environment=staging", "root")))
        .extracting(s -> s.get("id"))
        .containsExactly(bobs.id());
    assertThat(sessions(get("/api/sessions?environment=nowhere", "root"))).isEmpty();
  }

  @Test
  void anyOtherUserSeesOnlyTheirOwnSessions() throws Exception {
    assertThat(sessions(get("/api/sessions", "alice")))
        .extracting(s -> s.get("id"))
        .containsExactly(alices.id());
    assertThat(sessions(get("/api/sessions", "apollo"))).isEmpty();
    assertThat(get("/api/sessions/" + alices.id(), "alice").statusCode()).isEqualTo(200);
    // Another's session is as unknown to them as one that does not exist.
    HttpResponse<String> other = get("/api/sessions/" + bobs.id(), "alice");
    assertThat(other.statusCode()).isEqualTo(404);
    assertThat(error(other)).isEqualTo("no live session " + bobs.id());
  }

  @Test
  void oneSessionIsShownByIdAndAnUnknownIdIs404() throws Exception {
    HttpResponse<String> r = get("/api/sessions/" + bobs.id(), "audrey");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(body(r)).containsEntry("id", bobs.id()).containsEntry("user", "bob");
    HttpResponse<String> missing = get("/api/sessions/ffffffffffffffff", "audrey");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(error(missing)).isEqualTo("no live session ffffffffffffffff");
  }

  @Test
  void everyEndpointNeedsCredentials() throws Exception {
    for (String path : List.of("/api/sessions", "/api/sessions/" + alices.id())) {
      HttpResponse<String> r = get(path, null);
      assertThat(r.statusCode()).as(path).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
    }
    assertThat(terminate(alices.id(), null, Map.of("reason", "x")).statusCode()).isEqualTo(401);
    assertThat(get("/api/sessions", "alice", "wrong password").statusCode()).isEqualTo(401);
    assertThat(alices.terminatedBy).isEmpty();
  }

  @Test
  void anAdministratorEndsASessionAndItIsRecordedFirst() throws Exception {
    HttpResponse<String> r = terminate(alices.id(), "root", Map.of("reason", "  suspicious  "));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(body(r)).isEqualTo(Map.of("terminated", true, "id", alices.id()));
    assertThat(alices.terminatedBy).containsExactly("root: suspicious");
    AuditEvent event = events("session-terminate").getLast();
    assertThat(event.success()).isTrue();
    assertThat(event.actor()).isEqualTo("root");
    assertThat(event.details())
        .containsEntry("session", alices.id())
        .containsEntry("session_user", "alice")
        .containsEntry("environment", "production")
        .containsEntry("reason", "suspicious")
        .containsEntry("via", "api");
    assertThat(bobs.terminatedBy).isEmpty();
  }

  @Test
  void onlyAdministratorsEndSessionsAndRefusalsAreRecorded() throws Exception {
    for (String user : List.of("alice", "audrey", "apollo")) {
      HttpResponse<String> r = terminate(alices.id(), user, Map.of("reason", "mine"));
      assertThat(r.statusCode()).as(user).isEqualTo(403);
      assertThat(error(r))
          .isEqualTo("user " + user + " may not end sessions: that needs the group admins");
    }
    assertThat(alices.terminatedBy).isEmpty();
    assertThat(events("session-terminate"))
        .hasSize(3)
        .allSatisfy(e -> assertThat(e.success()).isFalse());
  }

  @Test
  void aReasonIsRequiredAndChecked() throws Exception {
    assertThat(error(terminate(alices.id(), "root", Map.of()))).startsWith("a reason is required");
    assertThat(terminate(alices.id(), "root", Map.of()).statusCode()).isEqualTo(400);
    assertThat(terminate(alices.id(), "root", Map.of("reason", "   ")).statusCode()).isEqualTo(400);
    assertThat(terminate(alices.id(), "root", Map.of("reason", 7)).statusCode()).isEqualTo(400);
    assertThat(terminate(alices.id(), "root", Map.of("reason", "a\nb")).statusCode())
        .isEqualTo(400);
    assertThat(terminate(alices.id(), "root", Map.of("reason", "x".repeat(501))).statusCode())
        .isEqualTo(400);
    HttpResponse<String> unknown =
        terminate(alices.id(), "root", Map.of("reason", "x", "why", "y"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(error(unknown)).startsWith("unknown field 'why'");
    assertThat(
            send(
                    "POST",
                    "/api/sessions/" + alices.id() + "/terminate",
                    "root",
                    "root pw",
                    "[1]",
                    "application/json")
                .statusCode())
        .isEqualTo(400);
    assertThat(alices.terminatedBy).isEmpty();
    assertThat(events("session-terminate")).isEmpty();
  }

  @Test
  void anUnknownSessionIs404AndNothingIsRecorded() throws Exception {
    HttpResponse<String> r = terminate("ffffffffffffffff", "root", Map.of("reason", "x"));
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(error(r)).isEqualTo("no live session ffffffffffffffff");
    assertThat(events("session-terminate")).isEmpty();
  }

  @Test
  void aTerminationTheTrailCannotRecordDoesNotHappen() throws Exception {
    trail.fail("disk full");
    HttpResponse<String> r = terminate(alices.id(), "root", Map.of("reason", "x"));
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(error(r)).contains("disk full");
    assertThat(alices.terminatedBy).isEmpty();
  }

  @Test
  void aTerminationMustBeJsonFromThisSite() throws Exception {
    String path = "/api/sessions/" + alices.id() + "/terminate";
    assertThat(
            send("POST", path, "root", "root pw", "reason=x", "application/x-www-form-urlencoded")
                .statusCode())
        .isEqualTo(415);
    HttpRequest crossSite =
        HttpRequest.newBuilder(URI.create(base() + path))
            .header("Authorization", basic("root", "root pw"))
            .header("Content-Type", "application/json")
            .header("Origin", "https://evil.example")
            .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"x\"}"))
            .build();
    assertThat(http.send(crossSite, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(403);
    assertThat(alices.terminatedBy).isEmpty();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private String base() {
    return "http://127.0.0.1:" + api.address().getPort();
  }

  private HttpResponse<String> get(String path, String user) throws Exception {
    return get(path, user, user + " pw");
  }

  private HttpResponse<String> get(String path, String user, String password) throws Exception {
    return send("GET", path, user, password, null, null);
  }

  private HttpResponse<String> terminate(String id, String user, Map<String, Object> body)
      throws Exception {
    return send(
        "POST",
        "/api/sessions/" + id + "/terminate",
        user,
        user + " pw",
        json.write(body),
        "application/json");
  }

  private HttpResponse<String> send(
      String method, String path, String user, String password, String body, String type)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path));
    if (user != null) {
      b.header("Authorization", basic(user, password));
    }
    if (type != null) {
      b.header("Content-Type", type);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> body(HttpResponse<String> r) {
    return (Map<String, Object>) json.read(r.body());
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> sessions(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return (List<Map<String, Object>>) body(r).get("sessions");
  }

  private String error(HttpResponse<String> r) {
    return (String) body(r).get("error");
  }

  private List<AuditEvent> events(String name) {
    List<AuditEvent> out = new ArrayList<>();
    for (AuditRecord r : trail.appended()) {
      if (r instanceof AuditEvent e && e.name().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  /** A session as the proxy registers one, its facts set by the test. */
  static final class Fake implements LiveSession {
    private final SessionContext context;
    private final Instant started;
    volatile SessionState state = SessionState.IDLE;
    volatile long statements;
    volatile LastStatement last;
    final List<String> terminatedBy = new CopyOnWriteArrayList<>();

    Fake(String id, String user, String environment, Instant started) {
      Upstream upstream =
          new Upstream(
              "127.0.0.1",
              5432,
              Optional.empty(),
              "postgres",
              Secret.of(""),
              TlsMode.DISABLE,
              Optional.empty());
      Identity identity =
          user.equals("alice")
              ? new Identity(
                  user,
                  Set.of("developers"),
                  AuthMethod.SERVICE_TOKEN,
                  Optional.of("alice.person"),
                  Optional.empty())
              : new Identity(user, Set.of("developers"), AuthMethod.SCRAM_SHA_256);
      this.context =
          new SessionContext(
              id,
              identity,
              new Environment(environment, Set.of(), List.of(Environment.ANY_DATABASE), upstream),
              "10.0.0.7:50000",
              "shop",
              "psql");
      this.started = started;
    }

    String id() {
      return context.id();
    }

    @Override
    public SessionContext context() {
      return context;
    }

    @Override
    public String upstreamRole() {
      return "app_ro";
    }

    @Override
    public Instant started() {
      return started;
    }

    @Override
    public SessionState state() {
      return state;
    }

    @Override
    public long statements() {
      return statements;
    }

    @Override
    public Optional<LastStatement> lastStatement() {
      return Optional.ofNullable(last);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> terminate(
        String administrator, String reason) {
      terminatedBy.add(administrator + ": " + reason);
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
  }
}

package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.core.masking.DataMaps;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Logins other than local SCRAM through the proxy: a token verified by a {@link TokenVerifier} (the
 * OIDC verifier's own tests cover the token checks), the session's identity visible to the
 * database, the environment's role mapping and access rules, and sessions ending when their
 * credential does.
 */
class IdentityLoginTest {
  private ProxyFixture fixture;

  /** Identities by token; verification completes on another thread, as a real one may. */
  static final class Tokens implements TokenVerifier {
    final Map<String, Object> answers = new ConcurrentHashMap<>();
    final Executor elsewhere = Executors.newVirtualThreadPerTaskExecutor();

    Tokens accept(String token, Identity identity) {
      answers.put(token, identity);
      return this;
    }

    Tokens refuse(String token, AuthenticationFailure.Reason reason) {
      answers.put(token, reason);
      return this;
    }

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public CompletableFuture<Identity> verify(String claimedUser, String token) {
      return CompletableFuture.supplyAsync(
          () -> {
            Object answer = answers.get(token);
            if (answer instanceof Identity identity && identity.name().equals(claimedUser)) {
              return identity;
            }
            AuthenticationFailure.Reason reason =
                answer instanceof AuthenticationFailure.Reason r
                    ? r
                    : answer == null
                        ? AuthenticationFailure.Reason.TOKEN_INVALID
                        : AuthenticationFailure.Reason.USER_MISMATCH;
            throw new java.util.concurrent.CompletionException(
                new AuthenticationFailure(reason, "test verdict"));
          },
          elsewhere);
    }
  }

  private static Identity oidc(String name, Instant expires, String... groups) {
    return new Identity(
        name, Set.of(groups), AuthMethod.OIDC, Optional.empty(), Optional.ofNullable(expires));
  }

  private ProxyFixture start(
      Tokens tokens,
      LoginSettings.AtExpiry atExpiry,
      Duration grace,
      Gatekeeper gatekeeper,
      UnaryOperator<Environment> environment) {
    fixture =
        new ProxyFixture(
            gatekeeper,
            s -> s.withUpstreamReuse(false),
            DataMaps.NONE,
            new LoginSettings(tokens, Optional.empty(), atExpiry, grace),
            environment);
    return fixture;
  }

  private ProxyFixture start(Tokens tokens) {
    return start(
        tokens,
        LoginSettings.AtExpiry.WHEN_IDLE,
        Duration.ofMinutes(5),
        Gatekeeper.allowAll(),
        UnaryOperator.identity());
  }

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private Connection login(String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    return DriverManager.getConnection(fixture.proxyUrl(), p);
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private List<AuditEvent> events(String name) {
    return fixture.audit.records().stream()
        .filter(r -> r instanceof AuditEvent e && e.name().equals(name))
        .map(r -> (AuditEvent) r)
        .toList();
  }

  @Test
  void aTokenIsAcceptedAsThePasswordAndTheDatabaseSeesWhoIsConnected() throws Exception {
    start(
        new Tokens()
            .accept(
                "tok-carol",
                oidc("carol@corp.example", Instant.now().plusSeconds(3600), "analysts", "oncall")));
    try (Connection c = login("carol@corp.example", "tok-carol")) {
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo("carol@corp.example");
      assertThat(scalar(c, "SELECT current_setting('warden.groups')")).isEqualTo("analysts,oncall");
      assertThat(scalar(c, "SELECT current_setting('warden.auth_method')")).isEqualTo("oidc");
      assertThat(scalar(c, "SELECT current_setting('warden.on_behalf_of')")).isEmpty();
      // RESET ALL returns to the startup values, so the identity cannot be shed that way.
      try (Statement s = c.createStatement()) {
        s.execute("RESET ALL");
      }
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo("carol@corp.example");
    }
    AuditEvent ok = events("authenticate").getFirst();
    assertThat(ok.success()).isTrue();
    assertThat(ok.details()).containsEntry("method", "oidc").containsKey("credential_expires");
  }

  @Test
  void localUsersStillLogInWithScramWhenTokensAreOn() throws Exception {
    start(new Tokens());
    try (Connection c = fixture.connect()) {
      assertThat(scalar(c, "SELECT current_setting('warden.auth_method')"))
          .isEqualTo("scram-sha-256");
    }
  }

  @Test
  void aRefusedTokenIsAuditedWithItsReasonAndTheClientIsToldWhy() throws Exception {
    start(
        new Tokens()
            .refuse("tok-old", AuthenticationFailure.Reason.EXPIRED)
            .refuse("tok-down", AuthenticationFailure.Reason.PROVIDER_UNAVAILABLE)
            .accept("tok-dave", oidc("dave@corp.example", null)));

    assertThatThrownBy(() -> login("erin@corp.example", "not-a-token"))
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("28P01");
              assertThat(e.getMessage()).contains("token authentication failed");
            });
    assertThatThrownBy(() -> login("erin@corp.example", "tok-old"))
        .hasMessageContaining("has expired")
        .hasMessageContaining("warden login");
    assertThatThrownBy(() -> login("erin@corp.example", "tok-dave"))
        .hasMessageContaining("does not belong to user \"erin@corp.example\"");
    assertThatThrownBy(() -> login("erin@corp.example", "tok-down"))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"));

    List<String> reasons =
        events("authenticate").stream()
            .filter(e -> !e.success())
            .map(e -> e.details().get("method") + " " + e.details().get("reason"))
            .toList();
    assertThat(reasons)
        .containsExactly(
            "oidc token-invalid",
            "oidc expired",
            "oidc user-mismatch",
            "oidc provider-unavailable");
    // The token is never recorded.
    assertThat(fixture.audit.records().toString()).doesNotContain("tok-old", "not-a-token");
  }

  @Test
  void theEnvironmentsRoleMappingDecidesTheDatabaseRoleAndRefusesTheUnmapped() throws Exception {
    String role = "warden_t_ro_" + Long.toHexString(System.nanoTime());
    ProxyFixture.admin("CREATE ROLE " + role + " LOGIN");
    try {
      start(
          new Tokens()
              .accept("tok-ann", oidc("ann@corp.example", null, "analysts"))
              .accept("tok-max", oidc("max@corp.example", null, "contractors")),
          LoginSettings.AtExpiry.WHEN_IDLE,
          Duration.ofMinutes(5),
          Gatekeeper.allowAll(),
          env ->
              new Environment(
                  env.name(),
                  env.tags(),
                  env.databases(),
                  env.upstream(),
                  List.of(new RoleMapping(Set.of("analysts"), Set.of(), role, Secret.of("")))));
      fixture.sql("GRANT CONNECT ON DATABASE " + fixture.database + " TO " + role);
      try (Connection c = login("ann@corp.example", "tok-ann")) {
        assertThat(scalar(c, "SELECT current_user")).isEqualTo(role);
        assertThat(scalar(c, "SELECT session_user")).isEqualTo(role);
      }
      assertThatThrownBy(() -> login("max@corp.example", "tok-max"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("28000");
                assertThat(e.getMessage()).contains("no database role is mapped");
              });
      // Local users are identities too: alice (group engineers) has no mapping either.
      assertThatThrownBy(() -> fixture.connect()).hasMessageContaining("no database role");
    } finally {
      fixture.close();
      fixture = null;
      ProxyFixture.admin("DROP ROLE IF EXISTS " + role);
    }
  }

  @Test
  void rowLevelSecurityReadsTheVerifiedIdentity() throws Exception {
    String role = "warden_t_app_" + Long.toHexString(System.nanoTime());
    ProxyFixture.admin("CREATE ROLE " + role + " LOGIN");
    try {
      start(
          new Tokens()
              .accept("tok-ann", oidc("ann@corp.example", null, "staff"))
              .accept("tok-bob", oidc("bob@corp.example", null, "staff")),
          LoginSettings.AtExpiry.WHEN_IDLE,
          Duration.ofMinutes(5),
          Gatekeeper.allowAll(),
          env ->
              new Environment(
                  env.name(),
                  env.tags(),
                  env.databases(),
                  env.upstream(),
                  List.of(new RoleMapping(Set.of("staff"), Set.of(), role, Secret.of("")))));
      fixture.sql("CREATE TABLE notes (owner text, body text)");
      fixture.sql(
          "INSERT INTO notes VALUES ('ann@corp.example', 'ann''s'), ('bob@corp.example', 'bob''s')");
      fixture.sql("ALTER TABLE notes ENABLE ROW LEVEL SECURITY");
      fixture.sql(
          "CREATE POLICY own_notes ON notes USING (owner = current_setting('warden.identity'))");
      fixture.sql("GRANT CONNECT ON DATABASE " + fixture.database + " TO " + role);
      fixture.sql("GRANT SELECT ON notes TO " + role);
      try (Connection ann = login("ann@corp.example", "tok-ann");
          Connection bob = login("bob@corp.example", "tok-bob")) {
        assertThat(scalar(ann, "SELECT string_agg(body, ',') FROM notes")).isEqualTo("ann's");
        assertThat(scalar(bob, "SELECT string_agg(body, ',') FROM notes")).isEqualTo("bob's");
      }
    } finally {
      fixture.close();
      fixture = null;
      ProxyFixture.admin("DROP ROLE IF EXISTS " + role);
    }
  }

  @Test
  void accessRulesAreAskedBeforeTheSessionOpens() throws Exception {
    Gatekeeper onlyEngineers =
        new Gatekeeper() {
          @Override
          public Decision decide(StatementRequest request) {
            return Gatekeeper.allowAll().decide(request);
          }

          @Override
          public Admission admit(SessionContext session) {
            return session.identity().groups().contains("engineers")
                ? new Admission(true, "engineers-only", "")
                : new Admission(false, "engineers-only", "only engineers work here");
          }
        };
    start(
        new Tokens().accept("tok-zoe", oidc("zoe@corp.example", null, "sales")),
        LoginSettings.AtExpiry.WHEN_IDLE,
        Duration.ofMinutes(5),
        onlyEngineers,
        UnaryOperator.identity());
    try (Connection c = fixture.connect()) {
      assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
    }
    assertThatThrownBy(() -> login("zoe@corp.example", "tok-zoe"))
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("28000");
              assertThat(e.getMessage())
                  .contains("zoe@corp.example may not connect to environment test")
                  .contains("only engineers work here")
                  .contains("engineers-only");
            });
    assertThat(events("authenticate"))
        .anySatisfy(
            e -> {
              assertThat(e.success()).isFalse();
              assertThat(e.details()).containsEntry("reason", "not-permitted");
            });
  }

  @Test
  void aSessionEndsWhenIdleAfterItsTokenExpiresButAnOpenTransactionMayFinish() throws Exception {
    Instant expires = Instant.now().plusMillis(1500);
    start(new Tokens().accept("tok-kim", oidc("kim@corp.example", expires)));
    try (Connection c = login("kim@corp.example", "tok-kim");
        Statement s = c.createStatement()) {
      s.execute("BEGIN");
      s.execute("CREATE TEMP TABLE work (n int)");
      Thread.sleep(Duration.between(Instant.now(), expires).toMillis() + 700);
      s.execute("INSERT INTO work VALUES (1)"); // still inside the transaction: allowed to finish
      s.execute("COMMIT");
      awaitClosed(c);
      assertThatThrownBy(() -> scalar(c, "SELECT 1")).isInstanceOf(SQLException.class);
    }
    assertThat(events("expire")).hasSize(1);
    assertThat(events("expire").getFirst().details()).containsEntry("method", "oidc");
  }

  @Test
  void terminateEndsTheSessionAtExpiryEvenInsideATransaction() throws Exception {
    Instant expires = Instant.now().plusMillis(1500);
    start(
        new Tokens().accept("tok-lee", oidc("lee@corp.example", expires)),
        LoginSettings.AtExpiry.TERMINATE,
        Duration.ZERO,
        Gatekeeper.allowAll(),
        UnaryOperator.identity());
    try (Connection c = login("lee@corp.example", "tok-lee");
        Statement s = c.createStatement()) {
      s.execute("BEGIN");
      awaitClosed(c);
      // pgjdbc reads the FATAL while checking the connection, and reports it closed after.
      assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOf(SQLException.class);
    }
    assertThat(events("expire"))
        .singleElement()
        .satisfies(e -> assertThat(e.details()).containsEntry("idle", "false"));
  }

  /** Waits (up to 10 s) until the server side has closed the connection. */
  private static void awaitClosed(Connection c) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && c.isValid(1)) {
      Thread.sleep(100);
    }
  }
}

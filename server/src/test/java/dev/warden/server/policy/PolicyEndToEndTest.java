package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.nio.file.Files;
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
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Policy through the real proxy, in front of the PostgreSQL server on this machine: one database
 * reached through three environments, production (enforcing), staging, and a production-tagged
 * shadow in observe-only mode. What happened is checked on the database directly.
 */
class PolicyEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";

  @TempDir Path dir;

  private final String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(4));
  private final String database = "warden_policy_" + suffix;

  @BeforeEach
  void createDatabase() throws SQLException {
    try (Connection admin = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    try (Connection db = direct();
        Statement s = db.createStatement()) {
      s.execute("CREATE TABLE kept (id int); CREATE TABLE staged (id int);");
      s.execute("CREATE TABLE shadowed (id int); CREATE TABLE reloaded (id int)");
    }
  }

  @AfterEach
  void dropDatabase() throws SQLException {
    try (Connection admin = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = admin.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  private Connection direct() throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:5432/" + database, "postgres", "");
  }

  private boolean tableExists(String table) throws SQLException {
    try (Connection db = direct();
        Statement s = db.createStatement();
        ResultSet r = s.executeQuery("SELECT to_regclass('public." + table + "') IS NOT NULL")) {
      r.next();
      return r.getBoolean(1);
    }
  }

  private Environment environment(String name, Set<String> tags) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of(database),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    return new Environment(name, tags, List.of(), upstream);
  }

  private WardenServer start(Optional<Path> policy) throws Exception {
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            TlsConfig.generated(),
            List.of(
                environment("prod-" + suffix, Set.of("production")),
                environment("staging-" + suffix, Set.of()),
                environment("shadow-" + suffix, Set.of("production"))),
            policy,
            Set.of("shadow-" + suffix));
    WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    server
        .users()
        .put(
            new LocalUser(
                "alice",
                Set.of("dev"),
                ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                Instant.now()));
    return server;
  }

  private static Connection connect(WardenServer server, String environment, String mode)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "pw");
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", mode);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + environment, p);
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void aDropIsRefusedInProductionAndTheConnectionStaysUsable(String mode) throws Exception {
    try (WardenServer server = start(Optional.empty());
        Connection c = connect(server, "prod-" + suffix, mode);
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("DROP TABLE kept"))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("42501");
                ServerErrorMessage m = e.getServerErrorMessage();
                assertThat(m.getMessage())
                    .isEqualTo(
                        "Warden refused this statement: DROP is not allowed in production (rule"
                            + " \"production-drop\")");
                // The rule's hint; for a simple query, followed by how to ask for break-glass.
                assertThat(m.getHint())
                    .startsWith("Run it in a non-production environment, or ask for approval.");
              });
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM kept")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getLong(1)).isZero();
      }
      assertThat(tableExists("kept")).isTrue();
    }
  }

  @Test
  void theSameDropRunsOutsideProductionAndInObserveOnlyMode() throws Exception {
    try (WardenServer server = start(Optional.empty())) {
      try (Connection c = connect(server, "staging-" + suffix, "simple");
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE staged");
      }
      assertThat(tableExists("staged")).isFalse();
      try (Connection c = connect(server, "shadow-" + suffix, "simple");
          Statement s = c.createStatement()) {
        s.execute("DROP TABLE shadowed");
      }
      assertThat(tableExists("shadowed")).isFalse();
      assertThat(tableExists("kept")).isTrue();
    }
  }

  @Test
  void anEditedPolicyFileAppliesToTheNextStatement() throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, "default: allow\n");
    try (WardenServer server = start(Optional.of(file));
        Connection c = connect(server, "staging-" + suffix, "simple");
        Statement s = c.createStatement()) {
      long before = server.policy().version();
      Files.writeString(
          file,
          """
          default: allow
          rules:
            - name: no-drops-anywhere
              when: "'destructive' in statement.flags"
              action: deny
              message: nothing is dropped here
              hint: Ask the owner of the schema.
          """);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (server.policy().version() == before && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(server.policy().version()).isNotEqualTo(before);
      assertThatThrownBy(() -> s.execute("DROP TABLE reloaded"))
          .isInstanceOfSatisfying(
              PSQLException.class,
              e ->
                  assertThat(e.getServerErrorMessage().getMessage())
                      .isEqualTo(
                          "Warden refused this statement: nothing is dropped here (rule"
                              + " \"no-drops-anywhere\")"));
      assertThat(tableExists("reloaded")).isTrue();

      // A broken edit keeps the policy in force.
      long good = server.policy().version();
      Files.writeString(file, "default: allow\nrules: [ {name: x} ]\n");
      Thread.sleep(PolicyReloader.DEFAULT_INTERVAL.toMillis() * 2);
      assertThat(server.policy().version()).isEqualTo(good);
      assertThatThrownBy(() -> s.execute("DROP TABLE reloaded")).isInstanceOf(PSQLException.class);
    }
  }

  @Test
  void aBadPolicyFileStopsWardenFromStarting() throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(
        file, "default: allow\nrules:\n  - name: x\n    when: nope\n    action: deny\n");
    assertThatThrownBy(() -> start(Optional.of(file)))
        .hasMessageStartingWith("invalid policy:")
        .hasMessageContaining(file + ":3:5: rule 'x'");
  }
}

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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/**
 * Warden's refusal of statements that change a warden.* setting, through the real proxy in front of
 * the PostgreSQL server on this machine, under a policy that allows everything: in an enforcing
 * environment and in an observe-only one, by simple and extended query. The database's own value of
 * the setting is the oracle: it never changes.
 */
class IdentitySettingEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;

  private final String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(4));

  private static final List<String> ATTEMPTS =
      List.of(
          "SET warden.identity = 'bob'",
          "SET SESSION \"warden\".\"identity\" TO 'bob'",
          "RESET warden.identity",
          "SET LOCAL warden.groups = 'dba'",
          "SELECT set_config('warden.identity', 'bob', false)",
          "SELECT 1; SELECT set_config('warden.' || 'identity', 'bob', false)",
          "DO $$ BEGIN PERFORM set_config('warden.identity', 'bob', false); END $$");

  private Environment environment(String name, Set<String> tags) {
    return new Environment(
        name,
        tags,
        List.of(),
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of("postgres"),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  private WardenServer start() throws Exception {
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        policy,
        """
        default: allow
        rules:
          - name: everything
            when: "true"
            action: allow
        """);
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            TlsConfig.generated(),
            List.of(
                environment("prod-" + suffix, Set.of("production")),
                environment("shadow-" + suffix, Set.of("production"))),
            Optional.of(policy),
            Set.of("shadow-" + suffix));
    WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    server
        .users()
        .put(
            new LocalUser(
                "alice",
                Set.of("dba"),
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

  private static String identitySetting(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT current_setting('warden.identity', true)")) {
      r.next();
      return r.getString(1);
    }
  }

  @Test
  void noClientChangesAWardenSettingWhateverThePolicyOrTheEnvironmentsMode() throws Exception {
    try (WardenServer server = start()) {
      for (String environment : List.of("prod-" + suffix, "shadow-" + suffix)) {
        for (String mode : List.of("simple", "extended")) {
          try (Connection c = connect(server, environment, mode)) {
            c.setAutoCommit(false);
            String before = identitySetting(c);
            assertThat(before).isEqualTo("alice");
            for (String sql : ATTEMPTS) {
              try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute(sql))
                    .as("%s in %s (%s)", sql, environment, mode)
                    .isInstanceOfSatisfying(
                        PSQLException.class,
                        e -> {
                          assertThat(e.getSQLState()).isEqualTo("42501");
                          assertThat(e.getServerErrorMessage().getMessage())
                              .isEqualTo(
                                  "Warden refused this statement: warden.* settings carry your"
                                      + " verified identity to the database and cannot be"
                                      + " changed (rule \"identity-setting\")");
                          assertThat(e.getServerErrorMessage().getHint())
                              .contains("Remove the warden.* setting");
                        });
              }
              c.rollback();
              assertThat(identitySetting(c)).as(sql).isEqualTo(before);
            }
            try (PreparedStatement p =
                c.prepareStatement("SELECT set_config('warden.identity', ?, false)")) {
              p.setString(1, "bob");
              assertThatThrownBy(p::executeQuery)
                  .isInstanceOfSatisfying(
                      PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            }
            c.rollback();
            assertThat(identitySetting(c)).isEqualTo(before);
            // Reading the settings is fine, and the session goes on.
            try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT current_setting('warden.identity', true)")) {
              assertThat(r.next()).isTrue();
            }
          }
        }
      }
    }
  }
}

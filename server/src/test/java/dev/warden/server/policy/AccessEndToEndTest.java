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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/**
 * The policy file's access section through the real proxy in front of the PostgreSQL server on this
 * machine: who may open a session in which environment, and a reload that changes it for new
 * sessions only. Whether a refused session reached the database is checked in pg_stat_activity.
 */
class AccessEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";

  @TempDir Path dir;

  private final String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(4));

  private static final String ENGINEERS_ONLY_IN_PRODUCTION =
      """
      default: allow
      access:
        default: deny
        rules:
          - name: prod-engineers
            when: "'production' in env.tags && 'engineers' in identity.groups"
            action: allow
          - name: everyone-elsewhere
            when: "!('production' in env.tags)"
            action: allow
      """;

  private Environment environment(String name, Set<String> tags) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of("postgres"),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    return new Environment(name, tags, List.of(), upstream);
  }

  private WardenServer start(Path policy) throws Exception {
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            TlsConfig.generated(),
            List.of(
                environment("prod-" + suffix, Set.of("production")),
                environment("staging-" + suffix, Set.of())),
            Optional.of(policy),
            Set.of());
    WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    for (String[] user : new String[][] {{"alice", "engineers"}, {"carol", "sales"}}) {
      server
          .users()
          .put(
              new LocalUser(
                  user[0],
                  Set.of(user[1]),
                  ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                  Instant.now()));
    }
    return server;
  }

  private Connection connect(WardenServer server, String user, String environment)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", "pw");
    p.setProperty("sslmode", "disable");
    p.setProperty("ApplicationName", "access-" + suffix + "-" + user);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + environment, p);
  }

  /** How many of the database's sessions a user of this test opened through Warden. */
  private int upstreamSessionsOf(String user) throws SQLException {
    try (Connection admin = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = admin.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'access-"
                    + suffix
                    + "-"
                    + user
                    + "'")) {
      r.next();
      return r.getInt(1);
    }
  }

  private static void assertRefused(ThrowingConnect connect, String rule) {
    assertThatThrownBy(connect::run)
        .isInstanceOfSatisfying(
            PSQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("28000");
              assertThat(e.getServerErrorMessage().getMessage())
                  .contains("(access rule \"" + rule + "\")");
            });
  }

  @FunctionalInterface
  private interface ThrowingConnect {
    void run() throws Exception;
  }

  @Test
  void onlyWhomTheAccessRulesLetInReachTheDatabaseAndAReloadAppliesToNewSessions()
      throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, ENGINEERS_ONLY_IN_PRODUCTION);
    String prod = "prod-" + suffix;
    String staging = "staging-" + suffix;
    try (WardenServer server = start(file)) {
      try (Connection alice = connect(server, "alice", prod);
          Statement s = alice.createStatement();
          ResultSet r = s.executeQuery("SELECT 1")) {
        assertThat(r.next()).isTrue();
      }
      assertRefused(() -> connect(server, "carol", prod).close(), "(default)");
      assertThat(upstreamSessionsOf("carol")).isZero();
      try (Connection carol = connect(server, "carol", staging)) {
        assertThat(carol.isValid(10)).isTrue();
      }

      // Alice keeps a session open while production is closed to everyone.
      try (Connection open = connect(server, "alice", prod)) {
        long before = server.policy().version();
        Files.writeString(
            file,
            """
            default: allow
            access:
              rules:
                - name: production-closed
                  when: "'production' in env.tags"
                  action: deny
                  message: production is closed for the release
            """);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (server.policy().version() == before && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(server.policy().version()).isNotEqualTo(before);
        assertThatThrownBy(() -> connect(server, "alice", prod).close())
            .isInstanceOfSatisfying(
                PSQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("28000");
                  assertThat(e.getServerErrorMessage().getMessage())
                      .contains("production is closed for the release")
                      .contains("(access rule \"production-closed\")");
                });
        try (Statement s = open.createStatement();
            ResultSet r = s.executeQuery("SELECT 2")) {
          assertThat(r.next()).isTrue();
        }
        assertThat(upstreamSessionsOf("alice")).isEqualTo(1);
      }
    }
  }
}

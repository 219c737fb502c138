package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.testkit.RecordingAuditTrail;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One listener serves several environments, chosen by the database name the client asks for. */
class RoutingTest {
  static final String DB_A = "warden_route_a_" + Long.toHexString(System.nanoTime());
  static final String DB_B = "warden_route_b_" + Long.toHexString(System.nanoTime());
  static final Set<String> environmentsSeen = ConcurrentHashMap.newKeySet();
  static PostgresProxy proxy;

  @BeforeAll
  static void start() {
    ProxyFixture.admin("CREATE DATABASE " + DB_A);
    ProxyFixture.admin("CREATE DATABASE " + DB_B);
    Environment production =
        new Environment(
            "production", Set.of("production"), List.of("app"), upstream(Optional.of(DB_A)));
    Environment staging =
        new Environment("staging", Set.of(), List.of(), upstream(Optional.of(DB_B)));
    Gatekeeper recording =
        Gatekeeper.judging(
            (StatementRequest r) -> {
              environmentsSeen.add(r.session().environment().name());
              return Verdict.ALLOW;
            });
    proxy =
        new PostgresProxy(
            ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            new Environments(List.of(production, staging)),
            new ScramServer(
                new InMemoryUsers().add("alice", "pw"), Secret.of("k"), new SecureRandom()),
            new AuthThrottle(Clock.systemUTC()),
            recording,
            new ProxyAudit(new RecordingAuditTrail(), false, Clock.systemUTC()));
    proxy.start();
  }

  private static Upstream upstream(Optional<String> database) {
    return new Upstream(
        ProxyFixture.PG_HOST,
        ProxyFixture.PG_PORT,
        database,
        ProxyFixture.PG_USER,
        Secret.of(""),
        TlsMode.DISABLE,
        Optional.empty());
  }

  @AfterAll
  static void stop() {
    proxy.close();
    ProxyFixture.admin("DROP DATABASE IF EXISTS " + DB_A + " WITH (FORCE)");
    ProxyFixture.admin("DROP DATABASE IF EXISTS " + DB_B + " WITH (FORCE)");
  }

  private static String upstreamDatabaseFor(String database) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "pw");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:"
                    + proxy.address().getPort()
                    + "/"
                    + database
                    + "?sslmode=disable",
                p);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_database()")) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void aListedDatabaseNameSelectsItsEnvironment() throws SQLException {
    assertThat(upstreamDatabaseFor("app")).isEqualTo(DB_A);
    assertThat(environmentsSeen).contains("production");
  }

  @Test
  void theEnvironmentNameSelectsItself() throws SQLException {
    assertThat(upstreamDatabaseFor("staging")).isEqualTo(DB_B);
    assertThat(environmentsSeen).contains("staging");
  }

  @Test
  void anUnknownDatabaseIsRefusedAfterAuthentication() {
    assertThatThrownBy(() -> upstreamDatabaseFor("nowhere"))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("3D000"));
  }
}

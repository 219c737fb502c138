package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The composition root end to end, in front of the PostgreSQL server on this machine
 * (127.0.0.1:5432, trust authentication for {@code postgres}).
 */
class WardenServerTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;

  private WardenConfig config(boolean tlsRequired) {
    Upstream local =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    return new WardenConfig(
        new HostPort("127.0.0.1", 0),
        dir.resolve("data"),
        new TlsConfig(Optional.empty(), Optional.empty(), tlsRequired),
        List.of(WardenConfig.defaultEnvironment(local)));
  }

  private static void addUser(WardenServer server, String name, String password) {
    server
        .users()
        .put(
            new LocalUser(
                name,
                Set.of("dev"),
                ScramCredentials.derive(Secret.of(password), RANDOM, 4096),
                Instant.now()));
  }

  private static Connection connect(
      WardenServer server, String user, String password, String sslmode) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("sslmode", sslmode);
    properties.setProperty("connectTimeout", "10");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/postgres", properties);
  }

  private static String query(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getString(1);
    }
  }

  @Test
  void aLocalUserReachesTheDatabaseAsTheUpstreamRole() throws Exception {
    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      addUser(server, "alice", "correct horse");

      try (Connection connection = connect(server, "alice", "correct horse", "disable")) {
        assertThat(query(connection, "SELECT current_user")).isEqualTo("postgres");
        assertThat(query(connection, "SELECT current_database()")).isEqualTo("postgres");
      }
    }
  }

  @Test
  void aWrongPasswordIsRefused() throws Exception {
    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      addUser(server, "alice", "correct horse");

      assertThatThrownBy(() -> connect(server, "alice", "battery staple", "disable"))
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("28P01");
      assertThatThrownBy(() -> connect(server, "nobody", "battery staple", "disable"))
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getSQLState())
          .isEqualTo("28P01");
    }
  }

  @Test
  void clientsCanUseTlsWithTheGeneratedCertificate() throws Exception {
    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      addUser(server, "alice", "correct horse");

      assertThat(server.generatedCertificate()).isPresent();
      // sslmode=require fails unless the listener completes a TLS handshake.
      try (Connection connection = connect(server, "alice", "correct horse", "require")) {
        assertThat(query(connection, "SELECT 42")).isEqualTo("42");
      }
    }
  }

  @Test
  void aListenerRequiringTlsRefusesPlaintextClients() throws Exception {
    try (WardenServer server = WardenServer.start(config(true), Clock.systemUTC(), RANDOM)) {
      addUser(server, "alice", "correct horse");

      assertThatThrownBy(() -> connect(server, "alice", "correct horse", "disable"))
          .isInstanceOf(SQLException.class);
      try (Connection connection = connect(server, "alice", "correct horse", "require")) {
        assertThat(query(connection, "SELECT 1")).isEqualTo("1");
      }
    }
  }

  @Test
  void keepsItsKeysAndUsersAcrossRestarts() throws Exception {
    Path mockKey = dir.resolve("data").resolve(WardenServer.MOCK_KEY_FILE);
    byte[] key;
    byte[] certificate;
    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      addUser(server, "alice", "correct horse");
      key = Files.readAllBytes(mockKey);
      certificate = Files.readAllBytes(server.generatedCertificate().orElseThrow().certificate());
    }
    assertThat(key).hasSize(32);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("data"))))
        .as("the data directory is private")
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mockKey)))
        .isEqualTo("rw-------");

    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      assertThat(Files.readAllBytes(mockKey)).isEqualTo(key);
      assertThat(server.generatedCertificate().orElseThrow().created()).isFalse();
      assertThat(Files.readAllBytes(server.generatedCertificate().orElseThrow().certificate()))
          .isEqualTo(certificate);
      try (Connection connection = connect(server, "alice", "correct horse", "disable")) {
        assertThat(query(connection, "SELECT 1")).isEqualTo("1");
      }
    }
  }

  @Test
  void aTakenPortIsAClearStartupError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      WardenConfig config =
          config(false).withListen(new HostPort("127.0.0.1", taken.getLocalPort()));

      assertThatThrownBy(() -> WardenServer.start(config, Clock.systemUTC(), RANDOM))
          .isInstanceOf(StartupException.class)
          .hasMessageStartingWith("cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
    // The store was closed again: a new server can open it.
    try (WardenServer server = WardenServer.start(config(false), Clock.systemUTC(), RANDOM)) {
      assertThat(server.users().list()).isEmpty();
    }
  }
}

package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.testkit.RecordingAuditTrail;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warden logs in to an upstream with each password method PostgreSQL offers, over plain TCP and
 * TLS, against an embedded PostgreSQL whose pg_hba.conf demands them; the client never learns the
 * upstream credentials, even when the login fails.
 */
class UpstreamLoginTest {
  static final String SECRET = "upstream-Pa55-" + Long.toHexString(new SecureRandom().nextLong());

  @TempDir static Path dir;
  static EmbeddedPostgres pg;
  static TestCertificates.Pem cert;
  static TestCertificates.Pem wrongNameCert;

  @BeforeAll
  static void start() throws IOException, SQLException {
    cert = TestCertificates.selfSigned(dir.resolve("tls"), "127.0.0.1", "localhost");
    wrongNameCert = TestCertificates.selfSigned(dir.resolve("other"), "db.example.invalid");
    Path hba = dir.resolve("pg_hba.conf");
    Files.writeString(
        hba,
        String.join(
            "\n",
            "local all all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host all scram_user 127.0.0.1/32 scram-sha-256",
            "host all md5_user 127.0.0.1/32 md5",
            "host all clear_user 127.0.0.1/32 password",
            "hostssl all tls_user 127.0.0.1/32 scram-sha-256",
            "hostnossl all tls_user 127.0.0.1/32 reject",
            ""));
    pg =
        EmbeddedPostgres.builder()
            .setServerConfig("hba_file", hba.toString())
            .setServerConfig("ssl", "on")
            .setServerConfig("ssl_cert_file", cert.certificate().toString())
            .setServerConfig("ssl_key_file", cert.privateKey().toString())
            .setServerConfig("listen_addresses", "127.0.0.1")
            .start();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE scram_user LOGIN PASSWORD '" + SECRET + "'");
      s.execute("CREATE ROLE tls_user LOGIN PASSWORD '" + SECRET + "'");
      s.execute("CREATE ROLE clear_user LOGIN PASSWORD '" + SECRET + "'");
      s.execute("SET password_encryption = 'md5'");
      s.execute("CREATE ROLE md5_user LOGIN PASSWORD '" + SECRET + "'");
    }
  }

  @AfterAll
  static void stop() throws IOException {
    if (pg != null) {
      pg.close();
    }
  }

  private static Upstream upstream(String user, String password, TlsMode tls, Path ca) {
    return new Upstream(
        "127.0.0.1",
        pg.getPort(),
        Optional.of("postgres"),
        user,
        Secret.of(password),
        tls,
        Optional.ofNullable(ca));
  }

  private static PostgresProxy proxyInFrontOf(Upstream upstream) {
    InMemoryUsers users = new InMemoryUsers().add("alice", "alice-secret");
    PostgresProxy proxy =
        new PostgresProxy(
            ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            new Environments(
                List.of(
                    new Environment("e", Set.of(), List.of(Environment.ANY_DATABASE), upstream))),
            new ScramServer(users, Secret.of("k"), new SecureRandom()),
            new AuthThrottle(Clock.systemUTC()),
            Gatekeeper.allowAll(),
            new ProxyAudit(new RecordingAuditTrail(), false, Clock.systemUTC()));
    proxy.start();
    return proxy;
  }

  private static Connection connectThrough(PostgresProxy proxy) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "alice-secret");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/app?sslmode=disable", p);
  }

  /** Connects through a Warden in front of {@code upstream} and returns current_user. */
  private static String currentUserThrough(Upstream upstream) throws SQLException {
    try (PostgresProxy proxy = proxyInFrontOf(upstream);
        Connection c = connectThrough(proxy);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user, current_setting('warden.identity')")) {
      rs.next();
      assertThat(rs.getString(2)).isEqualTo("alice");
      return rs.getString(1);
    }
  }

  @Test
  void aCancelReachesAnUpstreamThatUsesTls() throws Exception {
    try (PostgresProxy proxy = proxyInFrontOf(upstream("tls_user", SECRET, TlsMode.REQUIRE, null));
        Connection c = connectThrough(proxy);
        Statement s = c.createStatement()) {
      var canceller =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor()
              .schedule(
                  () -> {
                    s.cancel();
                    return null;
                  },
                  500,
                  java.util.concurrent.TimeUnit.MILLISECONDS);
      long start = System.nanoTime();
      assertThatThrownBy(() -> s.execute("SELECT pg_sleep(30)"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57014"));
      canceller.get();
      assertThat(System.nanoTime() - start).isLessThan(java.time.Duration.ofSeconds(10).toNanos());
    }
  }

  @Test
  void scramSha256() throws SQLException {
    assertThat(currentUserThrough(upstream("scram_user", SECRET, TlsMode.DISABLE, null)))
        .isEqualTo("scram_user");
  }

  @Test
  void md5() throws SQLException {
    assertThat(currentUserThrough(upstream("md5_user", SECRET, TlsMode.DISABLE, null)))
        .isEqualTo("md5_user");
  }

  @Test
  void cleartextPassword() throws SQLException {
    assertThat(currentUserThrough(upstream("clear_user", SECRET, TlsMode.DISABLE, null)))
        .isEqualTo("clear_user");
  }

  @Test
  void tlsRequireWithoutCertificateCheck() throws SQLException {
    assertThat(currentUserThrough(upstream("tls_user", SECRET, TlsMode.REQUIRE, null)))
        .isEqualTo("tls_user");
  }

  @Test
  void tlsVerifyFullAgainstTheRightCertificate() throws SQLException {
    assertThat(
            currentUserThrough(
                upstream("tls_user", SECRET, TlsMode.VERIFY_FULL, cert.certificate())))
        .isEqualTo("tls_user");
  }

  @Test
  void tlsVerifyFullRefusesACertificateForAnotherName() {
    assertThatThrownBy(
            () ->
                currentUserThrough(
                    upstream("tls_user", SECRET, TlsMode.VERIFY_FULL, wrongNameCert.certificate())))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"));
  }

  @Test
  void aFailedUpstreamLoginRevealsNoCredentials() {
    assertThatThrownBy(
            () -> currentUserThrough(upstream("scram_user", "wrong", TlsMode.DISABLE, null)))
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getSQLState()).isEqualTo("08006");
              assertThat(e.getMessage()).doesNotContain("scram_user").doesNotContain(SECRET);
            });
  }

  @Test
  void noPasswordConfiguredForAnUpstreamThatAsksForOne() {
    assertThatThrownBy(() -> currentUserThrough(upstream("scram_user", "", TlsMode.DISABLE, null)))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"));
  }
}

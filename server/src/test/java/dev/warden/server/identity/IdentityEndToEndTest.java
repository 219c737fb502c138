package dev.warden.server.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.core.identity.Secret;
import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.IdentityConfig;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.tls.TestCertificates;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6 end to end: psql and pgjdbc log in through a real Warden with a token from an OpenID
 * Connect provider running in the test (over HTTP on loopback, verified through its discovery
 * document and JWKS), and with client certificates from a CA generated here.
 */
class IdentityEndToEndTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final String AUDIENCE = "warden-cli";

  @TempDir static Path dir;
  static MockIdentityProvider idp;
  static TestCertificates.Authority clientCa;
  static TestCertificates.Authority strangerCa;
  static WardenServer server;

  @BeforeAll
  static void start() throws Exception {
    idp = MockIdentityProvider.start();
    clientCa = TestCertificates.rootCa("Warden test client CA");
    strangerCa = TestCertificates.rootCa("Warden test client CA"); // same name, other key
    Path caFile = clientCa.writeCertificate(dir.resolve("clients-ca.pem"));
    Upstream local =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    WardenConfig config =
        new WardenConfig(
                new HostPort("127.0.0.1", 0),
                dir.resolve("data"),
                new TlsConfig(
                    Optional.empty(),
                    Optional.empty(),
                    false,
                    Optional.of(
                        new TlsConfig.ClientCertificates(
                            caFile,
                            false,
                            ClientCertificateSettings.of(ClientCertificateSettings.SanType.EMAIL),
                            Optional.empty()))),
                List.of(WardenConfig.defaultEnvironment(local)))
            .withIdentity(
                new IdentityConfig(
                    List.of(
                        OidcProviderSettings.builder("corp", idp.issuer(), List.of(AUDIENCE))
                            .clientId(AUDIENCE)
                            .build()),
                    LoginSettings.AtExpiry.TERMINATE,
                    Duration.ZERO));
    server = WardenServer.start(config, Clock.systemUTC(), new SecureRandom());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.close();
    }
  }

  private static String token(String email, Duration lifetime, String... groups) {
    return idp.token()
        .subject("sub-" + email)
        .email(email)
        .emailVerified(true)
        .groups(groups)
        .audience(AUDIENCE)
        .expiresAt(Instant.now().plus(lifetime))
        .sign();
  }

  private static Connection pgjdbc(Properties extra) throws SQLException {
    Properties p = new Properties();
    p.setProperty("sslmode", "require");
    p.setProperty("connectTimeout", "10");
    p.putAll(extra);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/postgres", p);
  }

  private static Properties login(String user, String password) {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    return p;
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private record Run(int exit, String out, String err) {}

  private static Run psql(Map<String, String> env, String conninfo, String sql)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(PSQL.toString(), "-X", "-At", "-d", conninfo, "-c", sql);
    builder.environment().putAll(env);
    builder.environment().remove("PGPASSFILE");
    builder.environment().put("PGCONNECT_TIMEOUT", "10");
    Process process = builder.start();
    process.getOutputStream().close();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("psql did not finish");
    }
    return new Run(
        process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim(),
        new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim());
  }

  private static String conninfo(String user, String sslmode) {
    return "host=127.0.0.1 port="
        + server.address().getPort()
        + " dbname=postgres user="
        + user
        + " sslmode="
        + sslmode;
  }

  @Test
  void pgjdbcLogsInWithAnOidcTokenAndTheDatabaseSeesTheVerifiedIdentity() throws Exception {
    String token = token("ada@corp.example", Duration.ofMinutes(10), "engineers", "oncall");
    try (Connection c = pgjdbc(login("ada@corp.example", token))) {
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo("ada@corp.example");
      assertThat(scalar(c, "SELECT current_setting('warden.groups')"))
          .isEqualTo("engineers,oncall");
      assertThat(scalar(c, "SELECT current_setting('warden.auth_method')")).isEqualTo("oidc");
      // The identity the database sees cannot be changed by the client.
      assertThatThrownBy(() -> scalar(c, "SELECT set_config('warden.identity', 'bob', false)"))
          .hasMessageContaining("identity-setting");
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo("ada@corp.example");
    }
  }

  @Test
  void psqlLogsInWithAnOidcTokenAsItsPassword() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    String token = token("grace@corp.example", Duration.ofMinutes(10), "analysts");
    Run run =
        psql(
            Map.of("PGPASSWORD", token),
            conninfo("grace@corp.example", "require"),
            "SELECT current_setting('warden.identity') || ' ' || current_setting('warden.groups')");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo("grace@corp.example analysts");

    Run someoneElse =
        psql(Map.of("PGPASSWORD", token), conninfo("mallory@corp.example", "require"), "SELECT 1");
    assertThat(someoneElse.exit()).isNotZero();
    assertThat(someoneElse.err()).contains("does not belong to user \"mallory@corp.example\"");
    assertThat(someoneElse.err()).doesNotContain(token);
  }

  @Test
  void expiredForeignAndUnsignedTokensAreRefused() {
    String expired =
        idp.token()
            .email("ada@corp.example")
            .emailVerified(true)
            .audience(AUDIENCE)
            .expiresAt(Instant.now().minus(Duration.ofHours(1)))
            .sign();
    assertThatThrownBy(() -> pgjdbc(login("ada@corp.example", expired)))
        .hasMessageContaining("has expired");
    String otherAudience =
        idp.token()
            .email("ada@corp.example")
            .emailVerified(true)
            .audience("some-other-app")
            .expiresAt(Instant.now().plus(Duration.ofMinutes(5)))
            .sign();
    assertThatThrownBy(() -> pgjdbc(login("ada@corp.example", otherAudience)))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
    String unsigned =
        idp.token()
            .email("ada@corp.example")
            .emailVerified(true)
            .audience(AUDIENCE)
            .expiresAt(Instant.now().plus(Duration.ofMinutes(5)))
            .signAlgNone();
    assertThatThrownBy(() -> pgjdbc(login("ada@corp.example", unsigned)))
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
  }

  @Test
  void aSessionDoesNotOutliveItsToken() throws Exception {
    String token = token("kai@corp.example", Duration.ofSeconds(3));
    try (Connection c = pgjdbc(login("kai@corp.example", token))) {
      assertThat(scalar(c, "SELECT 1")).isEqualTo("1");
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (System.nanoTime() < deadline && c.isValid(1)) {
        Thread.sleep(200);
      }
      assertThatThrownBy(() -> scalar(c, "SELECT 1")).isInstanceOf(SQLException.class);
    }
    // Replaying the token after it expired does not open a new session.
    assertThatThrownBy(() -> pgjdbc(login("kai@corp.example", token)))
        .hasMessageContaining("expired");
  }

  @Test
  void pgjdbcLogsInWithAClientCertificateAndNoPassword() throws Exception {
    TestCertificates.IssuedFiles files =
        clientCa
            .leaf("batch")
            .email("batch@corp.example")
            .usage(TestCertificates.Usage.CLIENT_AUTH)
            .issue()
            .writeTo(Files.createTempDirectory(dir, "batch"));
    Properties p = new Properties();
    p.setProperty("user", "batch@corp.example");
    p.setProperty("sslcert", files.certificate().toString());
    p.setProperty("sslkey", files.pkcs12().toString());
    p.setProperty("sslpassword", TestCertificates.PKCS12_PASSWORD);
    try (Connection c = pgjdbc(p)) {
      assertThat(scalar(c, "SELECT current_setting('warden.identity')"))
          .isEqualTo("batch@corp.example");
      assertThat(scalar(c, "SELECT current_setting('warden.auth_method')")).isEqualTo("mtls");
    }
    // The certificate names batch, not someone else.
    p.setProperty("user", "root@corp.example");
    assertThatThrownBy(() -> pgjdbc(p))
        .hasMessageContaining("client certificate does not belong to user");
  }

  @Test
  void psqlLogsInWithAClientCertificateAndBadCertificatesAreRefused() throws Exception {
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
    TestCertificates.IssuedFiles good =
        clientCa
            .leaf("ops")
            .email("ops@corp.example")
            .usage(TestCertificates.Usage.CLIENT_AUTH)
            .issue()
            .writeTo(Files.createTempDirectory(dir, "ops"));
    Run run =
        psql(
            Map.of(),
            conninfo("ops@corp.example", "require")
                + " sslcert="
                + good.certificate()
                + " sslkey="
                + good.privateKey(),
            "SELECT current_setting('warden.identity') || ' ' || current_setting('warden.auth_method')");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo("ops@corp.example mtls");

    for (TestCertificates.LeafBuilder bad :
        List.of(
            clientCa
                .leaf("old")
                .email("ops@corp.example")
                .usage(TestCertificates.Usage.CLIENT_AUTH)
                .expired(),
            strangerCa
                .leaf("stranger")
                .email("ops@corp.example")
                .usage(TestCertificates.Usage.CLIENT_AUTH),
            clientCa
                .leaf("server")
                .email("ops@corp.example")
                .usage(TestCertificates.Usage.SERVER_AUTH),
            clientCa
                .leaf("other")
                .email("dev@corp.example")
                .usage(TestCertificates.Usage.CLIENT_AUTH))) {
      TestCertificates.IssuedFiles files =
          bad.issue().writeTo(Files.createTempDirectory(dir, "bad"));
      Run refused =
          psql(
              Map.of("PGPASSWORD", "not-a-token"),
              conninfo("ops@corp.example", "require")
                  + " sslcert="
                  + files.certificate()
                  + " sslkey="
                  + files.privateKey(),
              "SELECT 1");
      assertThat(refused.exit()).as(refused.out()).isNotZero();
    }
  }
}

package dev.warden.server.identity.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.embedded.EmbeddedStore;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service tokens end to end: issued and revoked with {@code warden tokens} in its own process
 * against the data directory of a running Warden, and used by pgjdbc in front of the PostgreSQL
 * server on this machine (127.0.0.1:5432, trust authentication for {@code postgres}).
 */
class ServiceTokenLoginTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private WardenServer server;

  private Path dataDir() {
    return dir.resolve("data");
  }

  @BeforeEach
  void start() throws Exception {
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
            dataDir(),
            new TlsConfig(Optional.empty(), Optional.empty(), false),
            List.of(WardenConfig.defaultEnvironment(local)));
    server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** One run of the {@code warden} command in a process of its own, as an operator runs it. */
  private record Run(int exitCode, String out, String err) {}

  private Run warden(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.warden.server.cli.Main");
    command.addAll(List.of(args));
    command.add("--data-dir");
    command.add(dataDir().toString());
    Path out = dir.resolve("cli.out");
    Path err = dir.resolve("cli.err");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("warden " + String.join(" ", args) + " did not finish");
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** Creates a token with the CLI and returns the token string it printed. */
  private String createToken(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("tokens", "create"));
    all.addAll(List.of(args));
    Run run = warden(all.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    String token = run.out().strip();
    assertThat(ServiceTokens.looksLikeToken(token)).as(run.out()).isTrue();
    return token;
  }

  private Connection connect(String user, String password) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("sslmode", "disable");
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

  private void assertRefused(String user, String password) {
    assertThatThrownBy(() -> connect(user, password).close())
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
  }

  /** Waits for an authenticate event that {@code wanted} accepts; the timeout only stops a hang. */
  private AuditHit awaitAuthenticate(Predicate<Map<String, Object>> wanted) throws Exception {
    AuditQuery query = AuditQuery.parse("event:authenticate");
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      for (AuditHit hit : server.auditSearch().search(query, 100).hits()) {
        if (wanted.test(hit.fields())) {
          return hit;
        }
      }
      assertThat(System.nanoTime()).as("waiting for the authenticate event").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static Predicate<Map<String, Object>> failedWith(String claimedUser, String reason) {
    return f ->
        Boolean.FALSE.equals(f.get("success"))
            && f.get("details") instanceof Map<?, ?> d
            && claimedUser.equals(d.get("claimed_user"))
            && reason.equals(d.get("reason"));
  }

  private Optional<ServiceToken> stored(String name) {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir())) {
      return store.serviceTokens().find(name);
    }
  }

  @Test
  void aTokenFromTheCliLogsInAndIsAuditedAsAServiceToken() throws Exception {
    String token =
        createToken(
            "--name", "ci-deploy", "--groups", "ci", "--on-behalf-of", "alice@corp.example");

    try (Connection connection = connect("ci-deploy", token)) {
      assertThat(query(connection, "SELECT current_user")).isEqualTo("postgres");
    }

    AuditHit hit =
        awaitAuthenticate(
            f -> Boolean.TRUE.equals(f.get("success")) && "ci-deploy".equals(f.get("user")));
    assertThat(hit.fields().get("auth")).isEqualTo("service-token");
    assertThat(hit.fields().get("groups")).isEqualTo(List.of("ci"));
    // THREATS AU08: the token is in no file Warden wrote (store, audit log, index, keys).
    server.close();
    server = null;
    try (Stream<Path> files = Files.walk(dataDir())) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1))
            .as(file.toString())
            .doesNotContain(token);
      }
    }
  }

  @Test
  void aWrongTokenIsAWrongPassword() throws Exception {
    String token = createToken("--name", "ci-deploy");

    assertRefused("ci-deploy", ServiceTokens.generate(RANDOM).reveal());
    assertRefused("ci-deploy", token.substring(0, token.length() - 1));
    assertRefused("no-such-token", token);
    awaitAuthenticate(failedWith("ci-deploy", "bad-password"));
    awaitAuthenticate(failedWith("no-such-token", "unknown-user"));
    try (Connection connection = connect("ci-deploy", token)) {
      assertThat(query(connection, "SELECT 1")).isEqualTo("1");
    }
  }

  @Test
  void revokedWhileWardenRunsTheNextLoginFailsAndTheOpenSessionGoesOn() throws Exception {
    String token = createToken("--name", "ci-deploy", "--groups", "ci");

    try (Connection open = connect("ci-deploy", token)) {
      assertThat(query(open, "SELECT 1")).isEqualTo("1");

      Run revoke = warden("tokens", "revoke", "ci-deploy");
      assertThat(revoke.exitCode()).as(revoke.err()).isZero();
      assertThat(revoke.out()).contains("Revoked service token ci-deploy");

      assertRefused("ci-deploy", token);
      assertThat(query(open, "SELECT 2")).isEqualTo("2");
    }
    awaitAuthenticate(failedWith("ci-deploy", "revoked"));

    Run list = warden("tokens", "list");
    assertThat(list.out()).containsPattern("ci-deploy +revoked");
    assertThat(list.out() + list.err()).doesNotContain(token);
  }

  @Test
  void anExpiredTokenIsRefused() throws Exception {
    Secret token = ServiceTokens.generate(RANDOM);
    Instant now = Instant.now();
    try (EmbeddedStore store = EmbeddedStore.open(dataDir())) {
      store
          .serviceTokens()
          .create(
              ServiceToken.issue(
                  "old-job",
                  Set.of("ci"),
                  Optional.empty(),
                  now.minus(Duration.ofDays(2)),
                  Optional.of(now.minus(Duration.ofDays(1))),
                  "os:tester",
                  ScramCredentials.derive(token, RANDOM, ScramCredentials.DEFAULT_ITERATIONS),
                  ""),
              ServiceTokenStore.NameCheck.NONE);
    }

    assertRefused("old-job", token.reveal());
    awaitAuthenticate(failedWith("old-job", "expired"));
  }

  @Test
  void aSuccessfulLoginIsRecordedAsTheTokensLastUseAndAFailedOneIsNot() throws Exception {
    String token = createToken("--name", "ci-deploy");
    assertRefused("ci-deploy", ServiceTokens.generate(RANDOM).reveal());
    awaitAuthenticate(failedWith("ci-deploy", "bad-password"));
    assertThat(stored("ci-deploy").orElseThrow().lastUsed()).isEmpty();

    Instant before = Instant.now();
    connect("ci-deploy", token).close();

    long deadline = System.nanoTime() + PATIENCE.toNanos();
    Optional<Instant> lastUsed;
    while ((lastUsed = stored("ci-deploy").orElseThrow().lastUsed()).isEmpty()) {
      assertThat(System.nanoTime()).as("waiting for the last use").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(lastUsed.get()).isAfterOrEqualTo(before.minusSeconds(1));
    Run list = warden("tokens", "list", "--json");
    assertThat(list.out()).contains("\"last_used\" : \"" + lastUsed.get() + "\"");
  }

  @Test
  void usersAndTokensShareOneNameSpace() throws Exception {
    server
        .users()
        .put(
            new LocalUser(
                "alice",
                Set.of(),
                ScramCredentials.derive(Secret.of("correct horse"), RANDOM, 4096),
                Instant.now()));

    Run clash = warden("tokens", "create", "--name", "alice");

    assertThat(clash.exitCode()).isEqualTo(1);
    assertThat(clash.err()).contains("a local user is named alice");
    assertThat(clash.out()).isEmpty();
    try (Connection connection = connect("alice", "correct horse")) {
      assertThat(query(connection, "SELECT 1")).isEqualTo("1");
    }
  }
}

package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.server.identity.login.CredentialStore;
import dev.warden.server.identity.login.OidcClient;
import dev.warden.server.identity.login.TestClock;
import dev.warden.server.identity.login.Tokens;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden connect} after a login at the in-test provider, with a fake psql on PATH. */
@Timeout(60)
class ConnectCommandTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-01T12:00:00Z"));
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  @TempDir Path dir;
  private Map<String, String> env;

  @BeforeEach
  void logIn() throws Exception {
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("dba")));
    env = new HashMap<>();
    env.put("WARDEN_CONFIG_DIR", dir.resolve("config").toString());
    env.put("HOME", dir.toString());
    env.put("PATH", dir.resolve("bin") + ":/usr/bin:/bin");
    env.put("RECORD_DIR", dir.toString());
    CliRun login =
        LoginCommandTest.run(
            dir,
            env,
            terminal ->
                new LoginCommand(
                    terminal,
                    new LoginCommand.Dependencies(
                        clock,
                        OidcClient.defaultHttpClient(),
                        d -> {
                          clock.advance(d);
                          idp.approveDevice(idp.lastUserCode().orElseThrow(), "u-1");
                        },
                        Optional.empty(),
                        Duration.ofSeconds(30))),
            "login",
            "--issuer",
            idp.issuer().toString(),
            "--client-id",
            "warden-cli",
            "--device");
    assertThat(login.exitCode()).as(login.err()).isZero();
    Files.createDirectories(dir.resolve("bin"));
    Path psql = dir.resolve("bin/psql");
    Files.writeString(
        psql,
        "#!/bin/sh\n"
            + "printf '%s\\n' \"$@\" > \"$RECORD_DIR/args\"\n"
            + "env > \"$RECORD_DIR/env\"\n"
            + "exit 7\n");
    Files.setPosixFilePermissions(psql, PosixFilePermissions.fromString("rwx------"));
  }

  @AfterEach
  void stop() {
    idp.close();
  }

  private CliRun connect(String... args) {
    return LoginCommandTest.run(
        dir,
        env,
        terminal ->
            new ConnectCommand(
                terminal, new ConnectCommand.Dependencies(clock, OidcClient.defaultHttpClient())),
        args);
  }

  private Tokens cached() {
    return new CredentialStore(dir.resolve("config").resolve(CredentialStore.FILE_NAME))
        .load("default")
        .orElseThrow()
        .tokens()
        .orElseThrow();
  }

  @Test
  void psqlGetsTheTokenInItsEnvironmentAndNotOnItsCommandLine() throws Exception {
    String token = cached().idToken().reveal();
    CliRun run = connect("connect", "production", "--", "-c", "select 1");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(7);
    List<String> args = Files.readAllLines(dir.resolve("args"));
    assertThat(args)
        .containsExactly(
            "--dbname=host=127.0.0.1 port=6432 dbname=production user=alice@corp.example"
                + " sslmode=prefer",
            "-c",
            "select 1");
    assertThat(String.join(" ", args)).doesNotContain(token);
    assertThat(Files.readAllLines(dir.resolve("env"))).contains("PGPASSWORD=" + token);
  }

  @Test
  void theAccessTokenDatabaseUserAndSslmodeCanBeChosen() throws Exception {
    String access = cached().accessToken().reveal();
    CliRun run =
        connect(
            "connect",
            "production",
            "--database",
            "shop",
            "--user",
            "alice",
            "--sslmode",
            "require",
            "--token",
            "access");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(7);
    assertThat(Files.readAllLines(dir.resolve("args")))
        .containsExactly(
            "--dbname=host=127.0.0.1 port=6432 dbname=shop user=alice sslmode=require");
    assertThat(Files.readAllLines(dir.resolve("env"))).contains("PGPASSWORD=" + access);
  }

  @Test
  void printShowsAConnectionStringAndWarnsThatItHoldsASecret() {
    String token = cached().idToken().reveal();
    CliRun run = connect("connect", "staging", "--print");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .isEqualTo(
            "host=127.0.0.1 port=6432 dbname=staging user=alice@corp.example sslmode=prefer"
                + " password="
                + token
                + "\n");
    assertThat(run.err()).startsWith("warden: warning: this connection string contains your token");
  }

  @Test
  void pgpassReplacesTheMatchingLineAndKeepsTheOthers() throws Exception {
    Path pgpass = dir.resolve("pgpass");
    env.put("PGPASSFILE", pgpass.toString());
    Files.writeString(
        pgpass,
        "db.internal:5432:app:bob:bobpw\n"
            + "127.0.0.1:6432:production:alice@corp.example:stale\n"
            + "127.0.0.1:6432:staging:alice@corp.example:other\n");
    Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
    String token = cached().idToken().reveal();
    CliRun run = connect("connect", "production", "--pgpass");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(Files.readString(pgpass))
        .isEqualTo(
            "db.internal:5432:app:bob:bobpw\n"
                + "127.0.0.1:6432:production:alice@corp.example:"
                + token
                + "\n"
                + "127.0.0.1:6432:staging:alice@corp.example:other\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pgpass)))
        .isEqualTo("rw-------");
    assertThat(run.out()).doesNotContain(token);
  }

  @Test
  void anExpiringTokenIsRenewedBeforeUse() throws Exception {
    String before = cached().idToken().reveal();
    clock.advance(Duration.ofMinutes(4).plusSeconds(30));
    CliRun run = connect("connect", "production");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(7);
    String after = cached().idToken().reveal();
    assertThat(after).isNotEqualTo(before);
    assertThat(Files.readAllLines(dir.resolve("env"))).contains("PGPASSWORD=" + after);
  }

  @Test
  void withoutPsqlTheCommandSaysSo() {
    env.put("PATH", dir.resolve("nothing-here").toString());
    CliRun run = connect("connect", "production");
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err()).startsWith("warden: psql is not installed (not found on PATH)");
  }

  @Test
  void withoutALoginTheCommandSaysToLogIn() {
    CliRun run = connect("connect", "production", "--profile", "other");
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err()).isEqualTo("warden: not logged in (profile other); run warden login\n");
  }
}

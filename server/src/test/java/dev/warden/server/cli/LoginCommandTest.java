package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.server.identity.login.CredentialStore;
import dev.warden.server.identity.login.DeviceFlow;
import dev.warden.server.identity.login.OidcClient;
import dev.warden.server.identity.login.TestClock;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code warden login} against the in-test provider, as a person runs it. */
@Timeout(60)
class LoginCommandTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-01T12:00:00Z"));
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  @TempDir Path dir;

  LoginCommandTest() {
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("dba")));
  }

  @AfterEach
  void stop() {
    idp.close();
  }

  /** Approves the device request on the first poll, as the person would in their browser. */
  private final DeviceFlow.Sleeper approvingSleeper =
      d -> {
        clock.advance(d);
        idp.approveDevice(idp.lastUserCode().orElseThrow(), "u-1");
      };

  private final Consumer<URI> followingBrowser =
      uri -> {
        HttpClient http =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.ALWAYS).build();
        try {
          http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };

  CliRun login(Map<String, String> extraEnv, String... args) {
    Map<String, String> env = new HashMap<>();
    env.put("WARDEN_CONFIG_DIR", dir.resolve("config").toString());
    env.put("HOME", dir.toString());
    env.putAll(extraEnv);
    return run(
        dir,
        env,
        terminal ->
            new LoginCommand(
                terminal,
                new LoginCommand.Dependencies(
                    clock,
                    OidcClient.defaultHttpClient(),
                    approvingSleeper,
                    Optional.of(followingBrowser),
                    Duration.ofSeconds(30))),
        args);
  }

  /** Runs {@code warden} with its real error handling and the command {@code make} builds. */
  static CliRun run(
      Path dir,
      Map<String, String> env,
      java.util.function.Function<Terminal, Object> make,
      String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Terminal terminal =
        new Terminal(
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env,
            dir,
            Optional.empty());
    // Registered as Main registers its commands, before the streams are set, so errors go
    // through Main's handlers to the terminal.
    CommandLine command = new CommandLine(make.apply(terminal));
    command.setOut(new PrintWriter(terminal.out(), true, StandardCharsets.UTF_8));
    command.setErr(new PrintWriter(terminal.err(), true, StandardCharsets.UTF_8));
    CommandLine line = Main.commandLine(terminal);
    // Main's own registration (with the system's clock and HTTP client) is swapped for the test's.
    String name = command.getCommandName();
    if (line.getSubcommands().containsKey(name)) {
      line.getCommandSpec().removeSubcommand(name);
    }
    int code = line.addSubcommand(command).execute(args);
    return new CliRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path credentials() {
    return dir.resolve("config").resolve(CredentialStore.FILE_NAME);
  }

  @Test
  void aDeviceLoginShowsTheCodeAndKeepsTheTokensPrivately() throws Exception {
    CliRun run =
        login(
            Map.of(),
            "login",
            "--issuer",
            idp.issuer().toString(),
            "--client-id",
            "warden-cli",
            "--proxy",
            "warden.corp.example:6432",
            "--device");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err())
        .contains("To sign in, open " + idp.issuer() + "/device")
        .contains("and enter the code: " + idp.lastUserCode().orElseThrow());
    assertThat(run.out())
        .startsWith("Logged in as alice@corp.example at " + idp.issuer())
        .contains("valid until 2026-11-01T12:05:05Z");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials())))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials().getParent())))
        .isEqualTo("rwx------");
    assertThat(Files.readString(credentials()))
        .contains("\"proxy\" : \"warden.corp.example:6432\"")
        .contains("\"refresh_token\"");
  }

  @Test
  void aSecondLoginNeedsNoFlagsAndStatusNeverShowsTheToken() throws Exception {
    assertThat(
            login(
                    Map.of(),
                    "login",
                    "--issuer",
                    idp.issuer().toString(),
                    "--client-id",
                    "warden-cli",
                    "--device")
                .exitCode())
        .isZero();
    idp.resetCounters();
    // A display is available, so the second login uses the browser by default.
    idp.signIn("u-1");
    CliRun again = login(Map.of("DISPLAY", ":0"), "login");
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.err()).contains("Opening your browser").contains("/authorize?");
    assertThat(idp.requests(MockIdentityProvider.Endpoint.AUTHORIZE)).isEqualTo(1);
    assertThat(idp.requests(MockIdentityProvider.Endpoint.DEVICE_AUTHORIZATION)).isZero();

    CliRun status = login(Map.of(), "login", "--status");
    assertThat(status.exitCode()).isZero();
    assertThat(status.out())
        .contains("Logged in as alice@corp.example")
        .contains("issuer:    " + idp.issuer())
        .contains("client id: warden-cli")
        .contains("proxy:     127.0.0.1:6432 (default)")
        .contains("valid until 2026-11-01T12:05:05Z (5 min left)");
    String stored = Files.readString(credentials());
    for (String token : List.of("id_token", "access_token", "refresh_token")) {
      String value = stored.split("\"" + token + "\" : \"")[1].split("\"")[0];
      assertThat(status.out() + status.err()).doesNotContain(value);
    }
  }

  @Test
  void logoutForgetsTheTokensButKeepsTheSettings() throws Exception {
    login(
        Map.of(),
        "login",
        "--issuer",
        idp.issuer().toString(),
        "--client-id",
        "warden-cli",
        "--device");
    CliRun logout = login(Map.of(), "login", "--logout");
    assertThat(logout.exitCode()).isZero();
    assertThat(logout.out()).startsWith("Logged out: the cached tokens are removed");
    assertThat(Files.readString(credentials())).doesNotContain("token\"").contains("warden-cli");
    CliRun status = login(Map.of(), "login", "--status");
    assertThat(status.exitCode()).isEqualTo(Main.FAILED);
    assertThat(status.out()).isEqualTo("Not logged in. Run warden login.\n");
  }

  @Test
  void theFirstLoginNeedsAnIssuer() {
    CliRun run = login(Map.of(), "login");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err()).startsWith("warden: --issuer is required for the first login");
  }

  @Test
  void anUnreachableProviderIsOneClearLine() {
    CliRun run =
        login(Map.of(), "login", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--device");
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err()).startsWith("warden: cannot reach the identity provider at 127.0.0.1:1");
  }

  @Test
  void aDeniedSignInIsOneClearLine() {
    CliRun run =
        run(
            dir,
            Map.of("WARDEN_CONFIG_DIR", dir.resolve("config").toString()),
            terminal ->
                new LoginCommand(
                    terminal,
                    new LoginCommand.Dependencies(
                        clock,
                        OidcClient.defaultHttpClient(),
                        d -> idp.denyDevice(idp.lastUserCode().orElseThrow()),
                        Optional.empty(),
                        Duration.ofSeconds(30))),
            "login",
            "--issuer",
            idp.issuer().toString(),
            "--client-id",
            "warden-cli");
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err()).endsWith("warden: the sign-in was denied at the identity provider\n");
    assertThat(credentials()).doesNotExist();
  }

  @Test
  void deviceAndBrowserExcludeEachOther() {
    CliRun run = login(Map.of(), "login", "--device", "--browser");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err()).isEqualTo("warden: --device and --browser exclude each other\n");
  }
}

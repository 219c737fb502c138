package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.WardenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
  @TempDir Path dir;

  @Test
  void versionPrintsTheBuildVersion() {
    CliRun run = CliRun.run(dir, "", "version");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).startsWith("warden 0.").doesNotContain("${");
  }

  @Test
  void noCommandPrintsUsageAndExits2() {
    CliRun run = CliRun.run(dir, "");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Usage: warden").contains("serve", "users", "demo", "version");
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    CliRun run = CliRun.run(dir, "", "serv");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Unmatched argument").contains("Did you mean: warden serve");
  }

  @Test
  void aMalformedListenAddressIsAUsageError() {
    CliRun run = CliRun.run(dir, "", "serve", "--listen", "6432");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("Invalid value for option '--listen': '6432' is not HOST:PORT")
        .contains("Run 'warden serve --help' for usage.");
  }

  @Test
  void aMalformedUpstreamUrlIsAUsageErrorThatDoesNotEchoThePassword() {
    CliRun run = CliRun.run(dir, "", "serve", "--upstream", "postgresql://u:canary-pw%zz@db:5432");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("'%' that is not followed by two hexadecimal digits");
    assertThat(run.out() + run.err()).doesNotContain("canary-pw");
  }

  @Test
  void anInvalidConfigurationFileFailsWithItsPosition() throws Exception {
    Files.writeString(dir.resolve("warden.yaml"), "listen: 127.0.0.1:6432\nlisen: x\n");

    CliRun run = CliRun.run(dir, "", "serve", "--config", "warden.yaml");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "warden: invalid configuration: "
                + dir.resolve("warden.yaml")
                + ":2:1: unknown key 'lisen' in the configuration file (did you mean 'listen'?)"
                + System.lineSeparator());
  }

  @Test
  void flagsOverrideTheConfigurationFile() throws Exception {
    Files.writeString(
        dir.resolve("warden.yaml"),
        """
        listen: 127.0.0.1:7000
        data-dir: from-file
        environments:
          - name: production
            upstream: { host: db.internal, user: u, password: { env: PW } }
        """);

    WardenConfig config =
        serve(
            "--config",
            "warden.yaml",
            "--listen",
            "0.0.0.0:7001",
            "--upstream",
            "postgresql://me:pw@[::1]:5433/app");

    assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 7001));
    assertThat(config.dataDir()).as("relative to the file").isEqualTo(dir.resolve("from-file"));
    Environment only = config.environments().getFirst();
    assertThat(config.environments()).hasSize(1);
    assertThat(only.name()).isEqualTo("default");
    assertThat(only.databases()).containsExactly("*");
    assertThat(only.upstream().host()).isEqualTo("::1");
    assertThat(only.upstream().port()).isEqualTo(5433);
    assertThat(only.upstream().database()).contains("app");
    assertThat(only.upstream().password().reveal()).isEqualTo("pw");
    assertThat(only.upstream().tls()).isEqualTo(TlsMode.DISABLE);
  }

  @Test
  void withoutAnyFlagServeUsesTheZeroConfigurationDefaults() {
    WardenConfig config = serve();

    assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
    assertThat(config.dataDir()).isEqualTo(dir.resolve("warden-data"));
    assertThat(config.environments())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name()).isEqualTo("default");
              assertThat(e.serves("anything")).isTrue();
              assertThat(e.upstream().host()).isEqualTo("localhost");
              assertThat(e.upstream().port()).isEqualTo(5432);
              assertThat(e.upstream().user()).isEqualTo("postgres");
              assertThat(e.upstream().database()).isEmpty();
            });
  }

  @Test
  void aConfigurationFileWithoutDataDirUsesTheDefaultInTheWorkingDirectory() throws Exception {
    Files.writeString(dir.resolve("warden.yaml"), "listen: 127.0.0.1:7000\n");

    assertThat(serve("--config", "warden.yaml").dataDir()).isEqualTo(dir.resolve("warden-data"));
  }

  @Test
  void dataDirFlagIsResolvedAgainstTheWorkingDirectory() {
    assertThat(serve("--data-dir", "elsewhere").dataDir()).isEqualTo(dir.resolve("elsewhere"));
  }

  private WardenConfig serve(String... args) {
    Terminal terminal =
        new Terminal(
            System.in, System.out, System.err, Map.of("PW", "from-env"), dir, Optional.empty());
    CommandLine line = Main.commandLine(terminal);
    String[] all = new String[args.length + 1];
    all[0] = "serve";
    System.arraycopy(args, 0, all, 1, args.length);
    CommandLine.ParseResult result = line.parseArgs(all);
    ServeCommand serve = (ServeCommand) result.subcommand().commandSpec().userObject();
    return serve.configuration();
  }
}

package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.store.embedded.EmbeddedStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TokensCommandTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  @TempDir Path dir;

  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

  /**
   * Runs {@code warden ARGS} with the tokens command registered as Main registers it, at a fixed
   * time.
   */
  static CliRun run(Path workingDirectory, Clock clock, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Terminal terminal =
        new Terminal(
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            workingDirectory,
            Optional.empty());
    CommandLine line = Main.commandLine(terminal);
    // Main's own registration (with the system clock), if any, is swapped for a fixed clock's.
    if (line.getSubcommands().containsKey("tokens")) {
      line.getCommandSpec().removeSubcommand("tokens");
    }
    CommandLine tokens =
        new CommandLine(new TokensCommand())
            .addSubcommand(new TokensCommand.Create(terminal, clock, new SecureRandom()))
            .addSubcommand(new TokensCommand.ListTokens(terminal, clock))
            .addSubcommand(new TokensCommand.Revoke(terminal, clock));
    tokens.setExecutionExceptionHandler(line.getExecutionExceptionHandler());
    tokens.setParameterExceptionHandler(line.getParameterExceptionHandler());
    tokens.setOut(line.getOut());
    tokens.setErr(line.getErr());
    line.addSubcommand("tokens", tokens);
    int code = line.execute(args);
    return new CliRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private CliRun run(String... args) {
    return run(dir, clock, args);
  }

  private String[] withData(String... args) {
    return Stream.concat(Stream.of(args), Stream.of("--data-dir", "data")).toArray(String[]::new);
  }

  private Optional<ServiceToken> stored(String name) {
    try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("data"))) {
      return store.serviceTokens().find(name);
    }
  }

  private static boolean verifies(ServiceToken token, String secret) {
    var c = token.credential();
    return ScramCredentials.derive(Secret.of(secret), c.salt(), c.iterations()).equals(c);
  }

  @Test
  void createPrintsTheTokenOnceAndStoresOnlyItsVerifier() throws Exception {
    CliRun run =
        run(
            withData(
                "tokens",
                "create",
                "--name",
                "ci-deploy",
                "--groups",
                "ci, deploy",
                "--on-behalf-of",
                "alice@corp.example",
                "--description",
                "nightly deploy"));

    assertThat(run.exitCode()).as(run.err()).isZero();
    String token = run.out().strip();
    assertThat(ServiceTokens.looksLikeToken(token)).as(run.out()).isTrue();
    assertThat(run.out()).isEqualTo(token + System.lineSeparator());
    assertThat(run.err())
        .contains("Created service token ci-deploy")
        .contains(
            "groups ci, deploy; on behalf of alice@corp.example; expires 2026-05-30 12:00 UTC")
        .contains("only time it is shown")
        .contains("psql \"host=HOST port=PORT dbname=DATABASE user=ci-deploy password=")
        .doesNotContain(token);
    ServiceToken stored = stored("ci-deploy").orElseThrow();
    assertThat(stored.expires()).contains(NOW.plus(Duration.ofDays(90)));
    assertThat(stored.groups()).containsExactlyInAnyOrder("ci", "deploy");
    assertThat(stored.onBehalfOf()).contains("alice@corp.example");
    assertThat(stored.description()).isEqualTo("nightly deploy");
    assertThat(stored.createdBy()).startsWith("os:");
    assertThat(verifies(stored, token)).isTrue();
    assertThat(
            new String(
                Files.readAllBytes(dir.resolve("data/warden.db")), StandardCharsets.ISO_8859_1))
        .doesNotContain(token);

    CliRun list = run(withData("tokens", "list"));
    CliRun json = run(withData("tokens", "list", "--json"));
    assertThat(list.out() + list.err() + json.out() + json.err()).doesNotContain(token);
  }

  @Test
  void twoTokensAreDifferent() {
    String a = run(withData("tokens", "create", "--name", "a")).out().strip();
    String b = run(withData("tokens", "create", "--name", "b")).out().strip();
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void listShowsEveryColumnAndStatus() {
    run(
        withData(
            "tokens",
            "create",
            "--name",
            "ci-deploy",
            "--groups",
            "ci",
            "--on-behalf-of",
            "alice"));
    run(withData("tokens", "create", "--name", "forever", "--expires", "never"));
    run(withData("tokens", "create", "--name", "gone"));
    run(withData("tokens", "revoke", "gone"));
    try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("data"))) {
      store.serviceTokens().recordUse("ci-deploy", NOW.plusSeconds(60));
    }

    CliRun list = run(withData("tokens", "list"));

    assertThat(list.exitCode()).isZero();
    assertThat(list.out().lines().toList())
        .containsExactly(
            "NAME       STATUS   GROUPS  ON BEHALF OF  CREATED               EXPIRES              "
                + " LAST USED             REVOKED",
            "ci-deploy  active   ci      alice         2026-03-01 12:00 UTC  2026-05-30 12:00 UTC "
                + " 2026-03-01 12:01 UTC  -",
            "forever    active   -       -             2026-03-01 12:00 UTC  never                "
                + " never                 -",
            "gone       revoked  -       -             2026-03-01 12:00 UTC  2026-05-30 12:00 UTC "
                + " never                 2026-03-01 12:00 UTC");

    CliRun later =
        run(
            dir,
            Clock.fixed(NOW.plus(Duration.ofDays(91)), ZoneOffset.UTC),
            withData("tokens", "list"));
    assertThat(later.out()).containsPattern("ci-deploy +expired");
  }

  @Test
  void listAsJson() throws Exception {
    run(
        withData(
            "tokens",
            "create",
            "--name",
            "ci-deploy",
            "--groups",
            "deploy,ci",
            "--description",
            "nightly"));
    run(withData("tokens", "create", "--name", "forever", "--expires", "never"));

    CliRun json = run(withData("tokens", "list", "--json"));

    assertThat(json.exitCode()).isZero();
    JsonNode tokens = new ObjectMapper().readTree(json.out()).get("tokens");
    assertThat(tokens).hasSize(2);
    JsonNode ci = tokens.get(0);
    assertThat(ci.get("name").asText()).isEqualTo("ci-deploy");
    assertThat(ci.get("status").asText()).isEqualTo("active");
    assertThat(ci.get("groups").toString()).isEqualTo("[\"ci\",\"deploy\"]");
    assertThat(ci.get("on_behalf_of").isNull()).isTrue();
    assertThat(ci.get("created").asText()).isEqualTo("2026-03-01T12:00:00Z");
    assertThat(ci.get("expires").asText()).isEqualTo("2026-05-30T12:00:00Z");
    assertThat(ci.get("last_used").isNull()).isTrue();
    assertThat(ci.get("revoked").isNull()).isTrue();
    assertThat(ci.get("description").asText()).isEqualTo("nightly");
    assertThat(tokens.get(1).get("expires").isNull()).isTrue();
  }

  @Test
  void listWithoutADataDirectorySaysSo() throws Exception {
    CliRun list = run(withData("tokens", "list"));
    assertThat(list.exitCode()).isZero();
    assertThat(list.out()).contains("No service tokens");
    assertThat(
            new ObjectMapper()
                .readTree(run(withData("tokens", "list", "--json")).out())
                .get("tokens"))
        .isEmpty();
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }

  @Test
  void revokeMarksTheTokenAndSaysWhenItWasAlreadyRevoked() {
    run(withData("tokens", "create", "--name", "ci-deploy"));

    CliRun first = run(withData("tokens", "revoke", "ci-deploy"));
    assertThat(first.exitCode()).isZero();
    assertThat(first.out()).contains("Revoked service token ci-deploy");
    assertThat(stored("ci-deploy").orElseThrow().revoked()).contains(NOW);

    CliRun second =
        run(
            dir,
            Clock.fixed(NOW.plusSeconds(3600), ZoneOffset.UTC),
            withData("tokens", "revoke", "ci-deploy"));
    assertThat(second.exitCode()).isZero();
    assertThat(second.out()).contains("already revoked at 2026-03-01 12:00 UTC");
    assertThat(stored("ci-deploy").orElseThrow().revoked()).contains(NOW);

    CliRun unknown = run(withData("tokens", "revoke", "nobody"));
    assertThat(unknown.exitCode()).isEqualTo(Main.FAILED);
    assertThat(unknown.err()).contains("no service token named 'nobody'");
  }

  @Test
  void expiryForms() {
    assertThat(TokensCommand.parseExpiry("90d", NOW)).contains(NOW.plus(Duration.ofDays(90)));
    assertThat(TokensCommand.parseExpiry("12h", NOW)).contains(NOW.plus(Duration.ofHours(12)));
    assertThat(TokensCommand.parseExpiry(" 1D ", NOW)).contains(NOW.plus(Duration.ofDays(1)));
    assertThat(TokensCommand.parseExpiry("2026-12-31T00:00:00Z", NOW))
        .contains(Instant.parse("2026-12-31T00:00:00Z"));
    assertThat(TokensCommand.parseExpiry("2026-12-31", NOW))
        .contains(Instant.parse("2026-12-31T00:00:00Z"));
    assertThat(TokensCommand.parseExpiry("never", NOW)).isEmpty();
    assertThat(TokensCommand.parseExpiry("NEVER", NOW)).isEmpty();
  }

  @Test
  void badExpiriesAreUsageErrorsAndCreateNothing() {
    for (String bad :
        new String[] {
          "",
          "0d",
          "-5d",
          "90",
          "90m",
          "1y",
          "soon",
          "2026-02-01T00:00:00Z",
          "2026-03-01T12:00:00Z",
          "2026-13-01",
          "9999999d"
        }) {
      CliRun run = run(withData("tokens", "create", "--name", "t", "--expires", bad));
      assertThat(run.exitCode()).as(bad).isEqualTo(Main.USAGE);
      assertThat(run.err()).as(bad).contains("invalid --expires");
      assertThat(run.out()).as(bad).isEmpty();
    }
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }

  @Test
  void aLocalUsersNameIsRefused() {
    CliRun.run(dir, "pw\n", "users", "add", "alice", "--data-dir", "data");

    CliRun run = run(withData("tokens", "create", "--name", "alice"));

    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("a local user is named alice");
    assertThat(run.out()).isEmpty();
    assertThat(stored("alice")).isEmpty();
  }

  @Test
  void aTokensNameIsNotIssuedTwice() {
    String first = run(withData("tokens", "create", "--name", "ci")).out().strip();

    CliRun again = run(withData("tokens", "create", "--name", "ci"));

    assertThat(again.exitCode()).isEqualTo(Main.FAILED);
    assertThat(again.err()).contains("a service token named ci already exists");
    assertThat(again.out()).isEmpty();
    assertThat(verifies(stored("ci").orElseThrow(), first)).isTrue();
  }

  @Test
  void badNamesAndValuesAreUsageErrors() {
    assertThat(run(withData("tokens", "create")).exitCode()).isEqualTo(Main.USAGE);
    CliRun space = run(withData("tokens", "create", "--name", "ci deploy"));
    assertThat(space.exitCode()).isEqualTo(Main.USAGE);
    assertThat(space.err()).contains("invalid token name");
    CliRun group = run(withData("tokens", "create", "--name", "ci", "--groups", "a;b"));
    assertThat(group.err()).contains("invalid group name");
    CliRun person =
        run(withData("tokens", "create", "--name", "ci", "--on-behalf-of", "bob smith"));
    assertThat(person.err()).contains("invalid --on-behalf-of name");
    CliRun description =
        run(withData("tokens", "create", "--name", "ci", "--description", "a\u001b[2Jb"));
    assertThat(description.exitCode()).isEqualTo(Main.USAGE);
    assertThat(description.err()).contains("description may not contain control");
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
    CliRun bare = run("tokens");
    assertThat(bare.exitCode()).isEqualTo(Main.USAGE);
    assertThat(bare.err()).contains("missing subcommand");
  }
}

package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.store.embedded.EmbeddedStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsersCommandTest {
  @TempDir Path dir;

  private Optional<LocalUser> stored(String name) {
    try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("data"))) {
      return store.users().find(name);
    }
  }

  private static boolean verifies(LocalUser user, String password) {
    ScramCredential stored = user.credential();
    return ScramCredentials.derive(Secret.of(password), stored.salt(), stored.iterations())
        .equals(stored);
  }

  @Test
  void addReadsOneLineOfStandardInputAsThePassword() {
    CliRun run =
        CliRun.run(
            dir,
            "s3cret pass\nignored\n",
            "users",
            "add",
            "alice@corp.example",
            "--groups",
            "dev,ops",
            "--data-dir",
            "data");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Created user alice@corp.example (groups dev, ops)");
    assertThat(run.out() + run.err()).doesNotContain("s3cret");
    LocalUser alice = stored("alice@corp.example").orElseThrow();
    assertThat(alice.groups()).containsExactlyInAnyOrder("dev", "ops");
    assertThat(alice.credential().iterations()).isEqualTo(ScramCredentials.DEFAULT_ITERATIONS);
    assertThat(verifies(alice, "s3cret pass")).as("the line break is not part of it").isTrue();
  }

  @Test
  void acceptsWindowsLineEndings() {
    CliRun.run(dir, "pw\r\n", "users", "add", "bob", "--data-dir", "data");

    assertThat(verifies(stored("bob").orElseThrow(), "pw")).isTrue();
  }

  @Test
  void addingAnExistingUserUpdatesItAndSaysSo() {
    CliRun.run(dir, "first\n", "users", "add", "alice", "--groups", "dev", "--data-dir", "data");
    LocalUser before = stored("alice").orElseThrow();

    CliRun run = CliRun.run(dir, "second\n", "users", "add", "alice", "--data-dir", "data");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Updated the password and groups of user alice (no groups)");
    LocalUser after = stored("alice").orElseThrow();
    assertThat(verifies(after, "second")).isTrue();
    assertThat(verifies(after, "first")).isFalse();
    assertThat(after.groups()).isEmpty();
    assertThat(after.created()).as("keeps its creation time").isEqualTo(before.created());
  }

  @Test
  void aPersonAtATerminalTypesThePasswordTwice() {
    CliRun run =
        CliRun.interactive(
            dir, List.of("typed-pw", "typed-pw"), "users", "add", "carol", "--data-dir", "data");

    assertThat(run.exitCode()).isZero();
    assertThat(verifies(stored("carol").orElseThrow(), "typed-pw")).isTrue();
  }

  @Test
  void differingPasswordsAtATerminalChangeNothing() {
    CliRun run =
        CliRun.interactive(
            dir, List.of("one", "two"), "users", "add", "carol", "--data-dir", "data");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("the two passwords differ; nothing was changed");
    assertThat(stored("carol")).isEmpty();
  }

  @Test
  void anEmptyStandardInputIsAnError() {
    CliRun run = CliRun.run(dir, "", "users", "add", "dave", "--data-dir", "data");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("no password on standard input");
    assertThat(run.err()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void anInvalidUserNameIsAUsageError() {
    CliRun run = CliRun.run(dir, "pw\n", "users", "add", "bad name", "--data-dir", "data");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("invalid user name");
    assertThat(Files.exists(dir.resolve("data"))).isFalse();
  }

  @Test
  void listShowsNamesGroupsAndCreationTimes() {
    CliRun.run(dir, "pw\n", "users", "add", "zoe", "--data-dir", "data");
    CliRun.run(dir, "pw\n", "users", "add", "adam", "--groups", "ops,admins", "--data-dir", "data");

    CliRun run = CliRun.run(dir, "", "users", "list", "--data-dir", "data");

    assertThat(run.exitCode()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines.get(0)).startsWith("NAME").contains("GROUPS", "CREATED");
    assertThat(lines.get(1))
        .startsWith("adam")
        .contains("admins,ops")
        .containsPattern("\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC");
    assertThat(lines.get(2)).startsWith("zoe").contains(" - ");
    assertThat(lines).hasSize(3);
  }

  @Test
  void listWithoutAnyUserSaysHowToAddOne() {
    CliRun run = CliRun.run(dir, "", "users", "list", "--data-dir", "data");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("No users").contains("warden users add NAME");
  }

  @Test
  void removeDeletesTheUser() {
    CliRun.run(dir, "pw\n", "users", "add", "erin", "--data-dir", "data");

    CliRun run = CliRun.run(dir, "", "users", "remove", "erin", "--data-dir", "data");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Removed user erin");
    assertThat(stored("erin")).isEmpty();
  }

  @Test
  void removingAnUnknownUserFailsWithExitCode1() {
    CliRun.run(dir, "pw\n", "users", "add", "erin", "--data-dir", "data");

    CliRun run = CliRun.run(dir, "", "users", "remove", "frank", "--data-dir", "data");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "warden: no user named 'frank' in " + dir.resolve("data") + System.lineSeparator());
  }

  @Test
  void usersWithoutASubcommandIsAUsageError() {
    assertThat(CliRun.run(dir, "", "users").exitCode()).isEqualTo(2);
  }
}

package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.Secret;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialStoreTest {
  private static final ClientRegistration CLIENT =
      new ClientRegistration(
          URI.create("https://login.corp.example/realms/main"),
          "warden-cli",
          Optional.empty(),
          ClientRegistration.DEFAULT_SCOPE);
  private static final Tokens TOKENS =
      new Tokens(
          Secret.of("id-token-canary"),
          Secret.of("access-token-canary"),
          Optional.of(Secret.of("refresh-token-canary")),
          Instant.parse("2026-11-01T12:05:00Z"),
          Optional.of(Instant.parse("2026-11-01T12:04:00Z")));

  @TempDir Path dir;

  @Test
  void theFileIsPrivateInAPrivateDirectoryAndRoundTrips() throws Exception {
    Path file = dir.resolve("config/warden/credentials.json");
    CredentialStore store = new CredentialStore(file);
    LoginProfile profile =
        new LoginProfile(
            "default", CLIENT, Optional.of("warden.corp.example:6432"), Optional.of(TOKENS));
    store.save(profile);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
    assertThat(new CredentialStore(file).load("default")).contains(profile);
    // Only the credentials file is left: the temporary file was renamed over it.
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void otherProfilesAreKeptWhenOneIsSaved() {
    CredentialStore store = new CredentialStore(dir.resolve("credentials.json"));
    LoginProfile first = new LoginProfile("default", CLIENT, Optional.empty(), Optional.of(TOKENS));
    LoginProfile second = new LoginProfile("staging", CLIENT, Optional.of("h:1"), Optional.empty());
    store.save(first);
    store.save(second);
    store.save(first.withTokens(Optional.empty()));
    assertThat(store.load("staging")).contains(second);
    assertThat(store.load("default")).contains(first.withTokens(Optional.empty()));
    assertThat(store.load("other")).isEmpty();
  }

  @Test
  void aFileOthersCanReadIsRefused() throws Exception {
    Path file = dir.resolve("credentials.json");
    new CredentialStore(file)
        .save(new LoginProfile("default", CLIENT, Optional.empty(), Optional.of(TOKENS)));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> new CredentialStore(file).load("default"))
        .isInstanceOf(LoginException.class)
        .hasMessageContaining("can be read or changed by other users")
        .hasMessageContaining("chmod 600");
  }

  @Test
  void aDamagedFileSaysToLogInAgain() throws Exception {
    Path file = dir.resolve("credentials.json");
    Files.writeString(file, "{not json");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThatThrownBy(() -> new CredentialStore(file).load("default"))
        .isInstanceOf(LoginException.class)
        .hasMessage(file + " is not valid JSON; remove it and run warden login");
  }

  @Test
  void theFileIsFoundFromTheEnvironment() {
    assertThat(CredentialStore.defaultFile(Map.of("WARDEN_CONFIG_DIR", "/t/w", "HOME", "/h")))
        .isEqualTo(Path.of("/t/w/credentials.json"));
    assertThat(CredentialStore.defaultFile(Map.of("XDG_CONFIG_HOME", "/x", "HOME", "/h")))
        .isEqualTo(Path.of("/x/warden/credentials.json"));
    assertThat(CredentialStore.defaultFile(Map.of("HOME", "/h")))
        .isEqualTo(Path.of("/h/.config/warden/credentials.json"));
  }

  @Test
  void tokensNeverPrint() {
    assertThat(TOKENS.toString()).doesNotContain("canary");
    assertThat(
            new LoginProfile("default", CLIENT, Optional.empty(), Optional.of(TOKENS)).toString())
        .doesNotContain("canary");
  }
}

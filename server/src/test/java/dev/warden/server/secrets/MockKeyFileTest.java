package dev.warden.server.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.Secret;
import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MockKeyFileTest {
  @TempDir Path dir;

  @Test
  void createsA32ByteKeyOnlyItsOwnerMayRead() throws IOException {
    Path file = dir.resolve("secrets/scram-mock.key");

    Secret key = MockKeyFile.loadOrCreate(file, new SecureRandom());

    assertThat(key.bytes()).hasSize(32).isEqualTo(Files.readAllBytes(file));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
    assertThat(key).hasToString("Secret[redacted]");
  }

  @Test
  void keepsTheSameKeyAcrossRestarts() throws IOException {
    Path file = dir.resolve("secrets/scram-mock.key");

    Secret first = MockKeyFile.loadOrCreate(file, new SecureRandom());
    Secret second = MockKeyFile.loadOrCreate(file, new SecureRandom());

    assertThat(second.matches(first)).isTrue();
  }

  @Test
  void refusesAKeyOfTheWrongSize() throws IOException {
    Path file = Files.createDirectories(dir.resolve("secrets")).resolve("scram-mock.key");
    PrivateFiles.write(file, new byte[16]);

    assertThatThrownBy(() -> MockKeyFile.loadOrCreate(file, new SecureRandom()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("holds 16 bytes, expected 32");
  }

  @Test
  void refusesAKeyOthersMayRead() throws IOException {
    Path file = dir.resolve("secrets/scram-mock.key");
    MockKeyFile.loadOrCreate(file, new SecureRandom());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-r--"));

    assertThatThrownBy(() -> MockKeyFile.loadOrCreate(file, new SecureRandom()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("may be read by other users");
  }
}

package dev.warden.store.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit keys live in private files, survive restarts, and are refused when exposed. */
class AuditKeysTest {
  @TempDir Path temp;

  static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void keysAreCreatedInPrivateFilesAndReadBackTheSame() throws Exception {
    Path secrets = temp.resolve("data/secrets");
    AuditKeys first = AuditKeys.loadOrCreate(secrets);
    assertThat(mode(secrets)).isEqualTo("rwx------");
    assertThat(mode(secrets.resolve(AuditKeys.SIGNING_KEY_FILE))).isEqualTo("rw-------");
    assertThat(mode(secrets.resolve(AuditKeys.TEXT_HMAC_KEY_FILE))).isEqualTo("rw-------");
    assertThat(Files.readString(secrets.resolve(AuditKeys.SIGNING_KEY_FILE)))
        .startsWith("-----BEGIN PRIVATE KEY-----\n")
        .contains("-----BEGIN PUBLIC KEY-----\n");

    AuditKeys again = AuditKeys.loadOrCreate(secrets);
    assertThat(again.publicKey().getEncoded()).isEqualTo(first.publicKey().getEncoded());
    assertThat(again.textHmacKey()).isEqualTo(first.textHmacKey()).hasSize(32);
    Checkpoint cp = Checkpoint.sign(again.signingKey(), "log", 1, new byte[32], 0, new byte[0]);
    assertThat(cp.verifies(first.publicKey())).isTrue();

    String shown = again.toString();
    assertThat(shown).matches("AuditKeys\\[ed25519 [0-9a-f]{16}]");
    assertThat(shown)
        .doesNotContain(Base64.getEncoder().encodeToString(again.signingKey().getEncoded()));
  }

  @Test
  void aKeyFileOthersMayReadOrThatHoldsNoKeyIsRefused() throws Exception {
    Path secrets = temp.resolve("secrets");
    AuditKeys.loadOrCreate(secrets);
    Path signing = secrets.resolve(AuditKeys.SIGNING_KEY_FILE);
    Files.setPosixFilePermissions(signing, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> AuditKeys.loadOrCreate(secrets))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("may be read by other users; run: chmod 600");

    Files.setPosixFilePermissions(signing, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(signing, "not a key");
    assertThatThrownBy(() -> AuditKeys.loadOrCreate(secrets))
        .hasMessageContaining("holds no PRIVATE KEY block");

    Files.delete(signing);
    Path hmac = secrets.resolve(AuditKeys.TEXT_HMAC_KEY_FILE);
    Files.write(hmac, new byte[7]);
    assertThatThrownBy(() -> AuditKeys.loadOrCreate(secrets))
        .hasMessageContaining("holds 7 bytes, expected 32");
  }

  @Test
  void aPublicKeyFileIsWrittenOnceAndAnotherKeyIsRefused() throws Exception {
    Path file = temp.resolve(AuditKeys.PUBLIC_KEY_FILE);
    AuditKeys keys = AuditKeys.generate();
    AuditKeys.writePublicKey(file, keys.publicKey());
    AuditKeys.writePublicKey(file, keys.publicKey());
    assertThat(AuditKeys.readPublicKey(file).getEncoded()).isEqualTo(keys.publicKey().getEncoded());
    assertThatThrownBy(() -> AuditKeys.writePublicKey(file, AuditKeys.generate().publicKey()))
        .hasMessageContaining("the log was signed with another key");
  }
}

package dev.warden.server.secrets;

import dev.warden.core.identity.Secret;
import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The key from which Warden derives the salts of mock SCRAM challenges for users that do not exist
 * (RFC 5802 §5.1 recommends that an unknown user be indistinguishable from a known one). It must
 * stay the same across restarts: a salt that changed on every start would itself reveal that the
 * user is unknown.
 */
public final class MockKeyFile {
  /** Bytes of key material. */
  public static final int KEY_BYTES = 32;

  private MockKeyFile() {}

  /**
   * Reads the key at {@code file}, creating it from {@code random} (mode 0600, its directory 0700)
   * when there is none.
   *
   * @throws IOException when the file cannot be read or written, or has the wrong size
   */
  public static Secret loadOrCreate(Path file, SecureRandom random) throws IOException {
    if (Files.exists(file)) {
      if (PrivateFiles.isExposed(file)) {
        throw new IOException(file + " may be read by other users; run: chmod 600 " + file);
      }
      byte[] key = Files.readAllBytes(file);
      try {
        if (key.length != KEY_BYTES) {
          throw new IOException(
              file
                  + " holds "
                  + key.length
                  + " bytes, expected "
                  + KEY_BYTES
                  + "; delete it to generate a new key");
        }
        return Secret.ofBytes(key);
      } finally {
        Arrays.fill(key, (byte) 0);
      }
    }
    PrivateFiles.createDirectory(file.toAbsolutePath().getParent());
    byte[] key = new byte[KEY_BYTES];
    random.nextBytes(key);
    try {
      PrivateFiles.write(file, key);
      return Secret.ofBytes(key);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }
}

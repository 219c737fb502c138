package dev.warden.store.embedded;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Set;

/** Run as a separate process by {@link EmbeddedStoreTest}: the CLI writing beside a server. */
final class StoreWriterMain {
  private StoreWriterMain() {}

  /**
   * A pause between writes, so that the parent's writes fall between them however fast this machine
   * is: the test is about interleaved writers, and must not pass vacuously.
   */
  private static final long PAUSE_MILLIS = 10;

  public static void main(String[] args) throws InterruptedException {
    Path dataDir = Path.of(args[0]);
    String prefix = args[1];
    int count = Integer.parseInt(args[2]);
    SecureRandom random = new SecureRandom();
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      for (int i = 0; i < count; i++) {
        store
            .users()
            .put(
                new LocalUser(
                    prefix + i,
                    Set.of("from-process"),
                    ScramCredentials.derive(Secret.of("pw"), random, 1),
                    Instant.now()));
        Thread.sleep(PAUSE_MILLIS);
      }
    }
  }
}

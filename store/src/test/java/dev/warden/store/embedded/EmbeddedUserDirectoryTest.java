package dev.warden.store.embedded;

import dev.warden.core.identity.UserDirectory;
import dev.warden.store.UserDirectoryContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The user directory contract, run on the SQLite store. */
class EmbeddedUserDirectoryTest extends UserDirectoryContract {
  @TempDir Path dataDir;

  @Override
  protected Handle openHandle() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);
    return new Handle() {
      @Override
      public UserDirectory users() {
        return store.users();
      }

      @Override
      public void close() {
        store.close();
      }
    };
  }
}

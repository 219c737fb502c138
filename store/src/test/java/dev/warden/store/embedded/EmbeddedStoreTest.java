package dev.warden.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the SQLite store: files, modes, schema versions, processes. */
class EmbeddedStoreTest {
  @TempDir Path temp;

  private final SecureRandom random = new SecureRandom();

  @Test
  void createsAPrivateDirectoryAndFile() throws Exception {
    Path dataDir = temp.resolve("nested/warden-data");

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.users().put(user("alice"));

      assertThat(mode(dataDir)).isEqualTo("rwx------");
      assertThat(mode(dataDir.resolve("warden.db"))).isEqualTo("rw-------");
      assertThat(mode(dataDir.resolve("warden.db-wal"))).isEqualTo("rw-------");
    }
  }

  @Test
  void makesAnEmptyExistingDirectoryPrivate() throws Exception {
    Path dataDir = Files.createDirectory(temp.resolve("made-by-mkdir"));
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));

    EmbeddedStore.open(dataDir).close();

    assertThat(mode(dataDir)).isEqualTo("rwx------");
  }

  @Test
  void leavesTheModeOfADirectoryThatAlreadyHoldsAStore() throws Exception {
    Path dataDir = temp.resolve("data");
    EmbeddedStore.open(dataDir).close();
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-x---"));

    EmbeddedStore.open(dataDir).close();

    assertThat(mode(dataDir)).isEqualTo("rwxr-x---");
  }

  @Test
  void tightensADatabaseFileThatOthersCouldRead() throws Exception {
    Path dataDir = temp.resolve("data");
    EmbeddedStore.open(dataDir).close();
    Files.setPosixFilePermissions(
        dataDir.resolve("warden.db"), PosixFilePermissions.fromString("rw-r--r--"));

    EmbeddedStore.open(dataDir).close();

    assertThat(mode(dataDir.resolve("warden.db"))).isEqualTo("rw-------");
  }

  @Test
  void refusesAPathThatIsAFile() throws Exception {
    Path notADir = Files.writeString(temp.resolve("file"), "x");

    assertThatThrownBy(() -> EmbeddedStore.open(notADir)).isInstanceOf(StoreException.class);
  }

  @Test
  void usesWalAndRecordsTheSchemaVersion() throws Exception {
    Path dataDir = temp.resolve("data");
    EmbeddedStore.open(dataDir).close();

    try (Connection c = jdbc(dataDir);
        Statement s = c.createStatement()) {
      assertThat(single(s, "PRAGMA journal_mode")).isEqualTo("wal");
      assertThat(single(s, "PRAGMA user_version"))
          .isEqualTo(String.valueOf(Schema.CURRENT_VERSION));
      assertThat(single(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'"))
          .isEqualTo("1");
    }
  }

  @Test
  void reopeningDoesNotMigrateAgain() {
    Path dataDir = temp.resolve("data");
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.users().put(user("alice"));
    }

    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      SqliteDatabase db = SqliteDatabase.open(dataDir.resolve(EmbeddedStore.FILE_NAME));
      try {
        assertThat(Schema.migrate(db)).isEqualTo(Schema.CURRENT_VERSION);
      } finally {
        db.close();
      }
      assertThat(store.users().find("alice")).isPresent();
    }
  }

  @Test
  void refusesAStoreWrittenByANewerWarden() throws Exception {
    Path dataDir = temp.resolve("data");
    EmbeddedStore.open(dataDir).close();
    try (Connection c = jdbc(dataDir);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA user_version = " + (Schema.CURRENT_VERSION + 1));
    }

    assertThatThrownBy(() -> EmbeddedStore.open(dataDir))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("newer Warden");
  }

  @Test
  void refusesRowsWardenCouldNotHaveWritten() throws Exception {
    Path dataDir = temp.resolve("data");
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      try (Connection c = jdbc(dataDir);
          Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO users VALUES ('evil name', '', x'00', 1, zeroblob(32), zeroblob(32),"
                + " '2026-01-01T00:00:00Z')");
        s.execute(
            "INSERT INTO users VALUES ('bob', 'ok,bad group', x'00', 1, zeroblob(32),"
                + " zeroblob(32), '2026-01-01T00:00:00Z')");
      }

      assertThatThrownBy(() -> store.users().list()).isInstanceOf(StoreException.class);
      assertThatThrownBy(() -> store.users().find("bob")).isInstanceOf(StoreException.class);
    }
  }

  @Test
  void aClosedStoreRefusesWork() {
    EmbeddedStore store = EmbeddedStore.open(temp.resolve("data"));
    store.close();
    store.close();

    assertThatThrownBy(() -> store.users().list()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anotherProcessWritingAtTheSameTimeLosesNothing() throws Exception {
    Path dataDir = temp.resolve("data");
    int theirs = 60;
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      Process other =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "--enable-native-access=ALL-UNNAMED",
                  "-cp",
                  System.getProperty("java.class.path"),
                  StoreWriterMain.class.getName(),
                  dataDir.toString(),
                  "proc-",
                  String.valueOf(theirs))
              .redirectErrorStream(true)
              .redirectOutput(temp.resolve("writer.log").toFile())
              .start();
      int ours = 0;
      boolean interleaved = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (other.isAlive() && System.nanoTime() < deadline) {
        store.users().put(user("here-" + ours++));
        long seen = store.users().list().stream().filter(u -> u.name().startsWith("proc-")).count();
        interleaved |= seen > 0 && seen < theirs;
      }
      assertThat(other.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(other.exitValue()).as(() -> read(temp.resolve("writer.log"))).isZero();

      assertThat(interleaved).as("the two processes' writes overlapped").isTrue();
      assertThat(store.users().list()).hasSize(theirs + ours);
      assertThat(store.users().find("proc-" + (theirs - 1)).orElseThrow().groups())
          .containsExactly("from-process");
    }
  }

  private LocalUser user(String name) {
    return new LocalUser(
        name, Set.of(), ScramCredentials.derive(Secret.of("pw"), random, 1), Instant.now());
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static Connection jdbc(Path dataDir) throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("warden.db"));
  }

  private static String single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}

package dev.warden.store.embedded;

import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.UserDirectory;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;

/**
 * Warden's zero-configuration store: one directory holding one SQLite file, {@code warden.db}, in
 * WAL mode. It holds password verifiers and approval requests (and later audit), so the directory
 * is created {@code 0700} and the file {@code 0600}; SQLite gives its {@code -wal} and {@code -shm}
 * files the database file's mode.
 *
 * <p>Several processes may open the same directory at once (the CLI while the server runs): each
 * write is one short transaction and waits up to five seconds for the others. Within a process one
 * instance is shared by all threads. Methods of {@link #users()} throw {@link StoreException} when
 * the file cannot be read or written.
 */
public final class EmbeddedStore implements AutoCloseable {
  /** The database file's name inside the data directory. */
  public static final String FILE_NAME = "warden.db";

  private static final Set<PosixFilePermission> DIRECTORY_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");

  private final SqliteDatabase db;
  private final SqliteUserDirectory users;
  private final SqliteServiceTokenStore tokens;
  private final SqliteApprovalStore approvals;
  private final AuditOutbox outbox;

  private EmbeddedStore(SqliteDatabase db, String actor, Clock clock) {
    this.db = db;
    this.users = new SqliteUserDirectory(db, actor, clock);
    this.tokens = new SqliteServiceTokenStore(db, actor, clock);
    this.approvals = new SqliteApprovalStore(db);
    this.outbox = new AuditOutbox(db);
  }

  /**
   * The actor a command-line change is recorded under: the operating-system account that ran it,
   * the only identity a local command has.
   */
  public static String osActor() {
    return "os:" + System.getProperty("user.name", "unknown");
  }

  /** Opens the store for changes made by the operating-system account running this process. */
  public static EmbeddedStore open(Path dataDir) {
    return open(dataDir, osActor(), Clock.systemUTC());
  }

  /**
   * Opens the store in {@code dataDir}, creating the directory and the file if needed and migrating
   * the schema to this version.
   *
   * @throws StoreException if the directory or file cannot be created or opened, or the file was
   *     written by a newer Warden
   */
  public static EmbeddedStore open(Path dataDir, String actor, Clock clock) {
    Objects.requireNonNull(dataDir, "dataDir");
    Path file = dataDir.resolve(FILE_NAME);
    try {
      prepareDirectory(dataDir, file);
      prepareFile(file);
    } catch (IOException e) {
      throw new StoreException("cannot prepare the store in " + dataDir + ": " + e, e);
    }
    SqliteDatabase db = SqliteDatabase.open(file);
    try {
      Schema.migrate(db);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    return new EmbeddedStore(db, actor, clock);
  }

  /** The local users. */
  public UserDirectory users() {
    return users;
  }

  /**
   * The service tokens. Their last use is written by a background thread, which {@link #close()}
   * waits for.
   */
  public ServiceTokenStore serviceTokens() {
    return tokens;
  }

  /**
   * The approval requests. Each change is one short transaction, so the server and the {@code
   * warden approvals} CLI can review and use the same requests at once; the rules live in {@link
   * dev.warden.core.approval.Approvals}, built over this.
   */
  public ApprovalStore approvals() {
    return approvals;
  }

  /** Administrative changes waiting to be moved into the audit trail. */
  public AuditOutbox outbox() {
    return outbox;
  }

  /** Closes the connection; the store cannot be used afterwards. Closing twice is harmless. */
  @Override
  public void close() {
    tokens.close();
    db.close();
  }

  /**
   * Creates the directory private. A directory that exists but holds no store yet (say, made by
   * {@code mkdir} or a launcher moments ago) is made private too; one that already holds a store
   * keeps whatever mode its administrator chose.
   */
  private static void prepareDirectory(Path dataDir, Path file) throws IOException {
    if (!Files.exists(dataDir)) {
      if (posix(dataDir)) {
        Files.createDirectories(dataDir, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
      } else {
        Files.createDirectories(dataDir);
      }
    } else if (!Files.isDirectory(dataDir)) {
      throw new IOException(dataDir + " exists and is not a directory");
    } else if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS) && posix(dataDir)) {
      Files.setPosixFilePermissions(dataDir, DIRECTORY_MODE);
    }
  }

  /** Creates the file 0600 before SQLite does, since SQLite would create it 0644. */
  private static void prepareFile(Path file) throws IOException {
    boolean posix = posix(file);
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      try {
        if (posix) {
          Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE_MODE));
        } else {
          Files.createFile(file);
        }
      } catch (FileAlreadyExistsException raced) {
        // Another process created it first, with the same mode.
      }
    }
    if (posix && !Files.getPosixFilePermissions(file).equals(FILE_MODE)) {
      Files.setPosixFilePermissions(file, FILE_MODE);
    }
  }

  private static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}

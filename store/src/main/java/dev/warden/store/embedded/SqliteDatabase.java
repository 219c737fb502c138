package dev.warden.store.embedded;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One SQLite connection shared by the threads of this process, one at a time. Other processes (the
 * {@code warden users} CLI beside a running server) open their own; SQLite's file locks, WAL and
 * the busy timeout let them take turns, and every write is one short {@code BEGIN IMMEDIATE}
 * transaction so that a writer never has to upgrade a read lock (which in WAL mode fails with
 * SQLITE_BUSY instead of waiting).
 */
final class SqliteDatabase implements AutoCloseable {
  /** How long a statement waits for another process's write lock before failing. */
  static final int BUSY_TIMEOUT_MILLIS = 5_000;

  private final ReentrantLock lock = new ReentrantLock();
  private final Path file;
  private Connection connection;

  /** A unit of work on the connection. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private SqliteDatabase(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
  }

  static SqliteDatabase open(Path file) {
    Connection c;
    try {
      c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    } catch (SQLException e) {
      throw new StoreException("cannot open " + file + ": " + e.getMessage(), e);
    }
    try (Statement s = c.createStatement()) {
      // busy_timeout first, so that the pragmas after it wait for other processes too.
      s.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MILLIS);
      s.execute("PRAGMA journal_mode = WAL");
      // FULL rather than WAL's usual NORMAL: users, approvals and audit must survive a power cut.
      s.execute("PRAGMA synchronous = FULL");
      s.execute("PRAGMA foreign_keys = ON");
      s.execute("PRAGMA trusted_schema = OFF");
      return new SqliteDatabase(file, c);
    } catch (SQLException e) {
      closeQuietly(c);
      throw new StoreException("cannot configure " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code work} outside any explicit transaction: one statement, or reads that may
   * interleave.
   */
  <T> T read(Work<T> work) {
    lock.lock();
    try {
      return work.run(open());
    } catch (SQLException e) {
      throw new StoreException("reading " + file + " failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code work} in one write transaction, committed if it returns and rolled back if not. */
  <T> T write(Work<T> work) {
    lock.lock();
    try {
      Connection c = open();
      try (Statement s = c.createStatement()) {
        s.execute("BEGIN IMMEDIATE");
      }
      boolean committed = false;
      try {
        T result = work.run(c);
        try (Statement s = c.createStatement()) {
          s.execute("COMMIT");
        }
        committed = true;
        return result;
      } finally {
        if (!committed) {
          rollbackQuietly(c);
        }
      }
    } catch (SQLException e) {
      throw new StoreException("writing " + file + " failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException e) {
          throw new StoreException("closing " + file + " failed: " + e.getMessage(), e);
        } finally {
          connection = null;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private Connection open() {
    if (connection == null) {
      throw new IllegalStateException("the store at " + file + " is closed");
    }
    return connection;
  }

  private static void rollbackQuietly(Connection c) {
    try (Statement s = c.createStatement()) {
      s.execute("ROLLBACK");
    } catch (SQLException ignored) {
      // The transaction may already be gone (SQLite rolls back on some errors by itself).
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // Already failing; the first error is the one worth reporting.
    }
  }
}

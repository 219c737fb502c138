package dev.warden.store.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database of its own on a PostgreSQL server (the machine's, 127.0.0.1:5432 with trust for {@code
 * postgres}, unless given), with a unique name, dropped on close.
 */
final class TestDatabase implements AutoCloseable {
  static final int LOCAL_PORT = Integer.getInteger("warden.test.pg.port", 5432);

  private final int port;
  private final String name;

  private TestDatabase(int port, String name) {
    this.port = port;
    this.name = name;
  }

  /** A new database on the machine's PostgreSQL. */
  static TestDatabase create() {
    return create(LOCAL_PORT);
  }

  /** A new database on the server listening on loopback {@code port}. */
  static TestDatabase create(int port) {
    byte[] id = new byte[6];
    ThreadLocalRandom.current().nextBytes(id);
    TestDatabase db = new TestDatabase(port, "warden_audit_test_" + HexFormat.of().formatHex(id));
    db.admin("CREATE DATABASE " + db.name + " ENCODING 'UTF8' TEMPLATE template0");
    return db;
  }

  String name() {
    return name;
  }

  int port() {
    return port;
  }

  /** The URL for the store's settings: no user and no password in it. */
  String url() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + name + "?sslmode=disable";
  }

  /** A data source on this database as the superuser, outside any store's pool. */
  DataSource dataSource() {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url());
    ds.setUser("postgres");
    return ds;
  }

  /** Runs {@code sql} in this database as the superuser. */
  void execute(String sql) {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** The first column of the first row of {@code sql}, run in this database. */
  long queryLong(String sql) {
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** Runs {@code sql} in the {@code postgres} database as the superuser. */
  void admin(String sql) {
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres?sslmode=disable&user=postgres");
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** Ends every session on this database and refuses new ones: the store is down for its users. */
  void refuseConnections() {
    admin("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false");
    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
            + name
            + "' AND pid <> pg_backend_pid()");
  }

  void allowConnections() {
    admin("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true");
  }

  @Override
  public void close() {
    admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }
}

package dev.warden.server.datamap;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.server.UpstreamJdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.postgresql.Driver;

/**
 * Opens the data map's own short-lived pgjdbc connections to an upstream database, with the
 * environment's credentials and TLS mode, and sets the session up so that nothing it runs can
 * write, wait on a lock or run long: a fixed {@code search_path}, read-only transactions, and
 * statement and lock timeouts (a lock wait gives up at half the statement timeout, so that a table
 * a migration holds is reported as locked rather than slow). The connection is Warden's alone and
 * closed after one build or poll, so session settings are as local as {@code SET LOCAL} would be.
 */
final class Connector {
  /** Seconds to open the TCP connection and to log in. */
  private static final int CONNECT_SECONDS = 10;

  private static final Driver DRIVER = new Driver();

  private final Duration statementTimeout;

  Connector(Duration statementTimeout) {
    this.statementTimeout = statementTimeout;
  }

  /**
   * A connection to {@code database} of {@code upstream}.
   *
   * @throws SQLException with pgjdbc's reason (refused, authentication failed, no such database)
   */
  Connection open(Upstream upstream, String database) throws SQLException {
    // A network that stops answering must not hold a build thread forever; statement_timeout
    // bounds the queries themselves, so the socket timeout only catches a dead peer.
    Connection c =
        UpstreamJdbc.open(
            upstream,
            database,
            "warden data map",
            statementTimeout.toSeconds() + 30,
            new Properties());
    try (Statement s = c.createStatement()) {
      long millis = Math.max(1, statementTimeout.toMillis());
      s.execute(
          "SET search_path = pg_catalog, pg_temp;"
              + " SET default_transaction_read_only = on;"
              + " SET statement_timeout = "
              + millis
              + "; SET lock_timeout = "
              + Math.max(1, millis / 2)
              + "; SET idle_in_transaction_session_timeout = "
              + Math.max(millis * 10, 60_000));
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The upstream as people name it: user, host, port and database, never the password. */
  static String describe(Upstream upstream, String database) {
    return upstream.user()
        + "@"
        + upstream.host()
        + ":"
        + upstream.port()
        + "/"
        + database
        + (upstream.tls() == TlsMode.DISABLE ? "" : " (TLS)");
  }
}

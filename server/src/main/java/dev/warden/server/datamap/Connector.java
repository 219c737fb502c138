package dev.warden.server.datamap;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
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
    String host = upstream.host().indexOf(':') >= 0 ? "[" + upstream.host() + "]" : upstream.host();
    String url =
        "jdbc:postgresql://"
            + host
            + ":"
            + upstream.port()
            + "/"
            + java.net.URLEncoder.encode(database, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20");
    Properties p = new Properties();
    p.setProperty("user", upstream.user());
    if (!upstream.password().isEmpty()) {
      p.setProperty("password", upstream.password().reveal());
    }
    p.setProperty("ApplicationName", "warden data map");
    p.setProperty("connectTimeout", String.valueOf(CONNECT_SECONDS));
    p.setProperty("loginTimeout", String.valueOf(CONNECT_SECONDS));
    // A network that stops answering must not hold a build thread forever; statement_timeout
    // bounds the queries themselves, so this only catches a dead peer.
    p.setProperty("socketTimeout", String.valueOf(statementTimeout.toSeconds() + 30));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("gssEncMode", "disable");
    switch (upstream.tls()) {
      case DISABLE -> p.setProperty("sslmode", "disable");
      case REQUIRE -> p.setProperty("sslmode", "require");
      case VERIFY_FULL -> {
        p.setProperty("sslmode", "verify-full");
        if (upstream.caFile().isPresent()) {
          p.setProperty("sslrootcert", upstream.caFile().get().toString());
        } else {
          // As the proxy does: without a CA file, the JDK's trust store (pgjdbc's default would be
          // ~/.postgresql/root.crt). The host name is still checked under verify-full.
          p.setProperty("sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory");
        }
      }
    }
    Connection c = DRIVER.connect(url, p);
    if (c == null) {
      throw new SQLException("pgjdbc refused the URL " + url);
    }
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

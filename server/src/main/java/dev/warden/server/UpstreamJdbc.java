package dev.warden.server;

import dev.warden.core.environment.Upstream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.Driver;

/**
 * Warden's own pgjdbc connections to an environment's database (the data map, approval row counts),
 * opened as the proxy opens its upstream connections: the given credentials and the environment's
 * TLS mode, with a bounded connect and login time.
 */
public final class UpstreamJdbc {
  /** Seconds to open the TCP connection and to log in. */
  private static final int CONNECT_SECONDS = 10;

  private static final Driver DRIVER = new Driver();

  private UpstreamJdbc() {}

  /**
   * A connection to {@code database} of {@code upstream} as its user.
   *
   * @param applicationName what the database shows in {@code pg_stat_activity}
   * @param socketTimeoutSeconds how long a read may wait before the connection is given up (a dead
   *     peer; statement timeouts bound the queries themselves)
   * @param extra further pgjdbc properties (e.g. {@code options})
   * @throws SQLException with pgjdbc's reason (refused, authentication failed, no such database)
   */
  public static Connection open(
      Upstream upstream,
      String database,
      String applicationName,
      long socketTimeoutSeconds,
      Properties extra)
      throws SQLException {
    String host = upstream.host().indexOf(':') >= 0 ? "[" + upstream.host() + "]" : upstream.host();
    String url =
        "jdbc:postgresql://"
            + host
            + ":"
            + upstream.port()
            + "/"
            + URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20");
    Properties p = new Properties();
    p.setProperty("user", upstream.user());
    if (!upstream.password().isEmpty()) {
      p.setProperty("password", upstream.password().reveal());
    }
    p.setProperty("ApplicationName", applicationName);
    p.setProperty("connectTimeout", String.valueOf(CONNECT_SECONDS));
    p.setProperty("loginTimeout", String.valueOf(CONNECT_SECONDS));
    p.setProperty("socketTimeout", String.valueOf(socketTimeoutSeconds));
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
    p.putAll(extra);
    Connection c = DRIVER.connect(url, p);
    if (c == null) {
      throw new SQLException("pgjdbc refused the URL " + url);
    }
    return c;
  }
}

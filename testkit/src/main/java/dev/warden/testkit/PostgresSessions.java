package dev.warden.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

/**
 * What a real PostgreSQL server says about the sessions of one database (THREATS O4), read from the
 * {@code postgres} database so that the reading does not count. {@link #established} is the
 * cumulative {@code pg_stat_database.sessions}, which also counts sessions that came and went
 * between two looks; {@link #connected} counts those in {@code pg_stat_activity} now.
 */
public final class PostgresSessions {
  private final String url;
  private final Properties properties = new Properties();

  public PostgresSessions(String host, int port, String user) {
    this.url = "jdbc:postgresql://" + host + ":" + port + "/postgres?sslmode=disable";
    properties.setProperty("user", user);
  }

  /**
   * Sessions ever established to {@code database}. A backend reports its session when it flushes
   * its statistics, at the latest when it exits.
   */
  public long established(String database) throws SQLException {
    return single(
        "SELECT coalesce(sum(sessions), 0) FROM pg_stat_database WHERE datname = ?", database);
  }

  /** Sessions connected to {@code database} now. */
  public long connected(String database) throws SQLException {
    return single("SELECT count(*) FROM pg_stat_activity WHERE datname = ?", database);
  }

  /** Sessions connected now whose application_name is {@code applicationName}. */
  public long connectedAs(String applicationName) throws SQLException {
    return single(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", applicationName);
  }

  private long single(String sql, String argument) throws SQLException {
    try (Connection c = DriverManager.getConnection(url, properties);
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, argument);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}

package dev.warden.server.evasion;

import dev.warden.server.evasion.Seed.Expect;
import dev.warden.server.evasion.SqlTokens.Kind;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Sends corpus cases through Warden with pgjdbc, one pooled connection per delivery (a fresh one
 * after anything that may have changed session state), and records what the client saw. Each case
 * runs under its own {@code application_name}, which is how the audit log attributes what the
 * server executed to the case.
 */
final class CaseRunner implements AutoCloseable {
  /** Statements the runner itself sends around a case; the oracle ignores them. */
  static final String ALIVE = "SELECT current_user, session_user";

  static final String ROLLBACK = "ROLLBACK";
  static final String PRELUDE = "DELETE FROM orders WHERE id = -42";

  private static final Set<String> SESSION_WORDS =
      Set.of(
          "set",
          "reset",
          "discard",
          "deallocate",
          "prepare",
          "begin",
          "start",
          "declare",
          "savepoint",
          "set_config",
          "listen",
          "lo_import",
          "temp",
          "temporary");

  /** Words of statements that reset application_name: such a case gets its own session. */
  private static final Set<String> RESETS_APPLICATION = Set.of("discard", "reset");

  /**
   * What the client saw for one case.
   *
   * @param errors SQLSTATE and message of every error, in order
   * @param alive {@code postgres/postgres} when the session still answered afterwards as the same
   *     roles, else what went wrong
   * @param before fixture snapshot before (denied cases only)
   * @param after fixture snapshot after (denied cases only)
   */
  record Observation(
      EvasionCase evasionCase,
      String application,
      List<String> errors,
      String alive,
      List<String> before,
      List<String> after) {}

  private final int port;
  private final String database;
  private final String user;
  private final String password;
  private final EvasionFixture fixture;
  private final Map<Delivery, Connection> connections = new EnumMap<>(Delivery.class);

  CaseRunner(int port, String database, String user, String password, EvasionFixture fixture) {
    this.port = port;
    this.database = database;
    this.user = user;
    this.password = password;
    this.fixture = fixture;
  }

  Observation run(EvasionCase c, String application) throws SQLException {
    boolean deny = c.expect() == Expect.DENY;
    List<String> before = deny ? fixture.snapshot() : List.of();
    List<String> errors = new ArrayList<>();
    String alive;
    if (hasWord(c.sql(), RESETS_APPLICATION)) {
      // RESET ALL and DISCARD ALL restore the application name of the startup packet; only a
      // session that started with the case's name keeps the audit log attributing it.
      forget(c.delivery());
      connections.put(c.delivery(), open(c.delivery(), application));
    }
    Connection connection = connection(c.delivery());
    try {
      setApplication(connection, application);
    } catch (SQLException e) {
      forget(c.delivery());
      connection = connection(c.delivery());
      setApplication(connection, application);
    }
    try {
      deliver(connection, c, errors);
    } catch (SQLException e) {
      record(e, errors);
    }
    alive = alive(connection);
    List<String> after = deny ? fixture.snapshot() : List.of();
    boolean suspicious =
        !alive.equals("postgres/postgres")
            || (deny && errors.stream().noneMatch(s -> s.startsWith("42501")))
            || (!deny && !errors.isEmpty());
    if (deny && !before.equals(after)) {
      // Something denied ran: rebuild the fixture so that the cases after it are judged on their
      // own, and drop every session (pgjdbc's cached plans name the old tables).
      fixture.reset();
      close();
    } else if (suspicious || hasWord(c.sql(), SESSION_WORDS)) {
      forget(c.delivery());
    }
    return new Observation(c, application, List.copyOf(errors), alive, before, after);
  }

  static boolean hasWord(String sql, Set<String> words) {
    return SqlTokens.tokenize(sql).stream()
        .anyMatch(t -> t.kind() == Kind.WORD && words.contains(t.text().toLowerCase(Locale.ROOT)));
  }

  private Connection connection(Delivery delivery) throws SQLException {
    Connection c = connections.get(delivery);
    if (c == null || c.isClosed()) {
      c = open(delivery, "evasion-pool-" + delivery.name().toLowerCase(Locale.ROOT));
      connections.put(delivery, c);
    }
    return c;
  }

  private Connection open(Delivery delivery, String application) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "30");
    p.setProperty("ApplicationName", application);
    switch (delivery) {
      case SIMPLE -> p.setProperty("preferQueryMode", "simple");
      case NAMED -> {
        p.setProperty("preferQueryMode", "extendedForPrepared");
        p.setProperty("prepareThreshold", "1");
      }
      case EXTENDED, SQL_PREPARE, BATCH -> p.setProperty("preferQueryMode", "extended");
    }
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, p);
  }

  private void forget(Delivery delivery) {
    Connection c = connections.remove(delivery);
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        // a broken connection is what made us drop it
      }
    }
  }

  private static void setApplication(Connection c, String application) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("SET application_name = '" + application + "'");
    }
  }

  private static void deliver(Connection c, EvasionCase ec, List<String> errors)
      throws SQLException {
    String sql = ec.sql();
    switch (ec.delivery()) {
      case SIMPLE, EXTENDED -> {
        try (Statement s = c.createStatement()) {
          drain(s, s.execute(sql));
        }
      }
      case NAMED -> {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          for (int i = 0; i < 2; i++) {
            try {
              drain(ps, ps.execute());
            } catch (SQLException e) {
              record(e, errors);
            }
          }
        }
      }
      case SQL_PREPARE -> {
        String name = "evasion_s" + ec.id();
        for (String step :
            List.of("PREPARE " + name + " AS " + sql, "EXECUTE " + name, "DEALLOCATE " + name)) {
          try (Statement s = c.createStatement()) {
            drain(s, s.execute(step));
          } catch (SQLException e) {
            record(e, errors);
          }
        }
      }
      case BATCH -> {
        // pgjdbc takes one statement per addBatch; the pieces of a multi-statement text become
        // separate, pipelined Parse/Bind/Execute messages before one Sync.
        try (Statement s = c.createStatement()) {
          s.addBatch(PRELUDE);
          for (String statement : SqlTokens.statements(sql)) {
            s.addBatch(statement);
          }
          s.executeBatch();
        }
      }
    }
  }

  private static void drain(Statement s, boolean isResult) throws SQLException {
    boolean result = isResult;
    while (true) {
      if (result) {
        try (ResultSet r = s.getResultSet()) {
          while (r.next()) {
            // read every row so that errors raised while streaming surface here
          }
        }
      } else if (s.getUpdateCount() == -1) {
        return;
      }
      result = s.getMoreResults();
    }
  }

  private static void record(SQLException e, List<String> errors) {
    // SQLException iterates over its causes and the chain of next exceptions (batch errors).
    for (Throwable t : e) {
      if (t instanceof SQLException sql) {
        errors.add(sql.getSQLState() + " " + sql.getMessage());
      }
    }
  }

  private static String alive(Connection c) {
    try (Statement s = c.createStatement()) {
      s.execute(ROLLBACK);
      try (ResultSet r = s.executeQuery(ALIVE)) {
        r.next();
        return r.getString(1) + "/" + r.getString(2);
      }
    } catch (SQLException e) {
      return "not usable: " + e.getSQLState() + " " + e.getMessage();
    }
  }

  @Override
  public void close() {
    for (Delivery d : List.copyOf(connections.keySet())) {
      forget(d);
    }
  }
}

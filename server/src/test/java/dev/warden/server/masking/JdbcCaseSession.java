package dev.warden.server.masking;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.postgresql.PGConnection;

/** A pgjdbc session in one of its three query modes; COPY TO STDOUT goes through CopyManager. */
final class JdbcCaseSession implements CaseSession {
  /**
   * Types pgjdbc is asked to receive in binary besides its defaults: text, varchar, name, json,
   * jsonb, inet, date, bytea, record, text[], date[], inet[], record[].
   */
  private static final String BINARY_TYPES =
      "25,1043,19,114,3802,869,1082,17,2249,1009,1182,1041,2287";

  private final Client client;
  private Connection connection;
  private Exception openFailure;

  private JdbcCaseSession(Client client) {
    this.client = client;
  }

  static JdbcCaseSession open(Client client, Login login) {
    JdbcCaseSession s = new JdbcCaseSession(client);
    Properties p = new Properties();
    p.setProperty("user", login.user());
    p.setProperty("password", login.password());
    p.setProperty("sslmode", "disable");
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", "20");
    p.setProperty("ApplicationName", "masking-" + client.name().toLowerCase(Locale.ROOT));
    switch (client) {
      case JDBC_SIMPLE -> p.setProperty("preferQueryMode", "simple");
      case JDBC_EXTENDED -> p.setProperty("preferQueryMode", "extended");
      case JDBC_BINARY -> {
        p.setProperty("preferQueryMode", "extended");
        p.setProperty("binaryTransfer", "true");
        p.setProperty("prepareThreshold", "-1");
        p.setProperty("binaryTransferEnable", BINARY_TYPES);
      }
      default -> throw new IllegalArgumentException(client + " is not a pgjdbc mode");
    }
    try {
      s.connection =
          DriverManager.getConnection(
              "jdbc:postgresql://127.0.0.1:" + login.address().getPort() + "/" + login.database(),
              p);
    } catch (SQLException e) {
      s.openFailure = e;
    }
    return s;
  }

  /** The pgjdbc connection, for controls that read values. */
  Connection connection() {
    return connection;
  }

  @Override
  public List<String> run(List<String> statements) {
    List<String> problems = new ArrayList<>();
    if (connection == null) {
      problems.add("not connected: " + openFailure);
      return problems;
    }
    boolean copy = statements.stream().anyMatch(JdbcCaseSession::isCopyOut);
    if (client == Client.JDBC_SIMPLE && !copy) {
      execute(String.join(";\n", statements), problems);
    } else {
      for (String sql : statements) {
        execute(sql, problems);
      }
    }
    execute("ROLLBACK", new ArrayList<>());
    return problems;
  }

  private static boolean isCopyOut(String sql) {
    String s = sql.toUpperCase(Locale.ROOT);
    return s.startsWith("COPY") && s.contains("TO STDOUT");
  }

  private void execute(String sql, List<String> problems) {
    try {
      if (isCopyOut(sql)) {
        connection
            .unwrap(PGConnection.class)
            .getCopyAPI()
            .copyOut(sql, OutputStream.nullOutputStream());
      } else if (client == Client.JDBC_BINARY) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
          drain(ps, ps.execute());
        }
      } else {
        try (Statement s = connection.createStatement()) {
          drain(s, s.execute(sql));
        }
      }
    } catch (Exception e) {
      problems.add(e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static void drain(Statement s, boolean isResult) throws SQLException {
    boolean result = isResult;
    while (true) {
      if (result) {
        try (ResultSet r = s.getResultSet()) {
          while (r.next()) {
            // every row is read, so that errors raised while streaming arrive here
          }
        }
      } else if (s.getUpdateCount() == -1) {
        return;
      }
      result = s.getMoreResults();
    }
  }

  @Override
  public boolean usable() {
    // pgjdbc closes a connection whose socket failed; asking the server would cost a round trip.
    try {
      return connection != null && !connection.isClosed();
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // a broken connection is why it is closed
      }
    }
  }
}

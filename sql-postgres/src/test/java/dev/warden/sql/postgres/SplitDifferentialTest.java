package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The analyser splits a multi-statement string exactly where the real PostgreSQL 15 does: for each
 * tricky string, the number of statements the server runs (one result or update count each, sent as
 * one simple Query) equals the number of statements analysed.
 */
class SplitDifferentialTest {
  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/";
  private static String database;

  @BeforeAll
  static void createDatabase() throws SQLException {
    database = "warden_split_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id int, v text)");
      s.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    }
  }

  @AfterAll
  static void dropDatabase() throws SQLException {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  private static Connection connect(String db) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    // simple protocol: the string reaches the server as one Query message, split by the server
    p.setProperty("preferQueryMode", "simple");
    return DriverManager.getConnection(URL + db, p);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 1; SELECT 2",
        "SELECT ';'; SELECT 2",
        "SELECT $$;$$; SELECT 2; SELECT 3",
        "SELECT $a$ $$ ; $a$; SELECT 2",
        "SELECT 1 /* ; /* ; */ ; */; SELECT 2",
        "SELECT 1 -- ; SELECT 2\n; SELECT 3",
        "SELECT E'\\';'; SELECT 2",
        "SELECT U&'\\0041;' UESCAPE '!'; SELECT 2",
        "SELECT \";\" FROM (SELECT 1 AS \";\") x; SELECT 2",
        "SELECT 1;;; SELECT 2;",
        "BEGIN; UPDATE t SET v = 'x' WHERE id = 1; DELETE FROM t WHERE id = 3; ROLLBACK",
        "SELECT 'a'\n'b'; SELECT 2",
        "SELECT 1 AS \"a;b\"; SELECT 'it''s;'",
        "WITH x AS (SELECT 1) SELECT * FROM x; VALUES (1); TABLE t",
        "SELECT 1 -- comment at end",
        "/* leading */ SELECT 1; /* trailing */"
      })
  void theServerRunsAsManyStatementsAsTheAnalyserSees(String sql) throws SQLException {
    Analysis analysis = new PostgresAnalyzer(0).analyze(sql, LexicalSettings.DEFAULT);
    assertThat(analysis.hasUnknown()).as(analysis.toString()).isFalse();
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      int results = 0;
      boolean isResultSet = s.execute(sql);
      while (true) {
        if (isResultSet) {
          results++;
        } else if (s.getUpdateCount() != -1) {
          results++;
        } else {
          break;
        }
        isResultSet = s.getMoreResults();
      }
      assertThat(results).as(sql).isEqualTo(analysis.statements().size());
    }
  }
}

package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Statements reach the real PostgreSQL through Warden and their results come back intact. */
class RelayTest {
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture();
    fixture.sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    fixture.sql("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void simpleQueryReturnsTheServersRows() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*), max(name) FROM items")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(1000);
      assertThat(rs.getString(2)).isEqualTo("item 999");
    }
  }

  @Test
  void preparedStatementsRunServerSide() throws SQLException {
    Properties p = new Properties();
    p.setProperty("prepareThreshold", "1");
    try (Connection c = fixture.connect(p);
        PreparedStatement ps = c.prepareStatement("SELECT name FROM items WHERE id = ?")) {
      for (int i = 1; i <= 10; i++) {
        ps.setInt(1, i);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("item " + i);
        }
      }
    }
  }

  @Test
  void serverErrorsKeepTheirSqlStateAndTheSessionGoesOn() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("SELECT * FROM no_such_table"))
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
      try (ResultSet rs = s.executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
    }
  }

  @Test
  void theVerifiedIdentityIsVisibleToTheDatabase() throws SQLException {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT current_setting('warden.identity'), current_database()")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo(ProxyFixture.USER);
      assertThat(rs.getString(2)).isEqualTo(fixture.database);
    }
  }

  @Test
  void aWrongPasswordIsRefused() {
    Properties p = new Properties();
    p.setProperty("password", "not-the-password");
    assertThatThrownBy(() -> fixture.connect(p).close())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
  }
}

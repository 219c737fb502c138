package dev.warden.server.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.search.AuditQuery;
import dev.warden.server.config.HostPort;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end: embedded PostgreSQL, seeded shop, Warden in front, pgjdbc as client. */
class DemoTest {
  @TempDir static Path dir;
  private static Demo demo;

  @BeforeAll
  static void start() throws Exception {
    demo =
        Demo.start(
            dir,
            new HostPort("127.0.0.1", 0),
            new HostPort("127.0.0.1", 0),
            false,
            Clock.systemUTC(),
            new SecureRandom());
  }

  @AfterAll
  static void stop() {
    if (demo != null) {
      demo.close();
    }
  }

  private static Connection connect(String user, String password, String database)
      throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("connectTimeout", "10");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + demo.server().address().getPort() + "/" + database,
        properties);
  }

  private static long count(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  @Test
  void theDemoUserSeesTheSeededCustomersThroughWarden() throws SQLException {
    try (Connection connection = connect("demo", "demo", "shop")) {
      assertThat(count(connection, "SELECT count(*) FROM customers")).isEqualTo(ShopSeed.CUSTOMERS);
    }
    try (Connection direct = demo.database().connect("shop")) {
      assertThat(count(direct, "SELECT count(*) FROM customers")).isEqualTo(ShopSeed.CUSTOMERS);
    }
  }

  @Test
  void theAdminUserLogsInWithItsGroups() throws SQLException {
    assertThat(demo.server().users().find("admin").orElseThrow().groups())
        .containsExactlyInAnyOrder("admins", "approvers");
    try (Connection connection = connect("admin", "admin", "shop")) {
      assertThat(count(connection, "SELECT count(*) FROM employees")).isEqualTo(ShopSeed.EMPLOYEES);
    }
  }

  @Test
  void theGuardrailsTheInstructionsPromiseRefuseBeforeTheDatabaseSeesAnything()
      throws SQLException {
    try (Connection connection = connect("demo", "demo", "shop");
        Statement statement = connection.createStatement()) {
      for (String sql : List.of("DELETE FROM order_items", "DROP TABLE orders")) {
        assertThatThrownBy(() -> statement.execute(sql))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("Warden refused this statement")
            .extracting(e -> ((SQLException) e).getSQLState())
            .isEqualTo("42501");
      }
      assertThat(count(connection, "SELECT count(*) FROM order_items")).isPositive();
    }
    assertThat(demo.instructions("127.0.0.1")).contains("DROP TABLE orders;");
  }

  @Test
  void theIndexTheInstructionsPromiseWaitsForApprovalAndRunsOnceTheAdminApproves()
      throws Exception {
    String index = "CREATE INDEX ON orders (ordered_at)";
    assertThat(demo.instructions("127.0.0.1"))
        .contains(index + ";")
        .contains("http://127.0.0.1:" + demo.server().apiAddress().getPort() + "/approvals");
    try (Connection connection = connect("demo", "demo", "shop");
        Statement statement = connection.createStatement()) {
      SQLException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              SQLException.class, () -> statement.execute(index));
      assertThat(refused.getSQLState()).isEqualTo("42501");
      java.util.regex.Matcher id =
          java.util.regex.Pattern.compile("apr_[a-z2-7]{12}").matcher(refused.getMessage());
      assertThat(id.find()).as(refused.getMessage()).isTrue();
      demo.server()
          .approvals()
          .review(
              id.group(),
              new dev.warden.core.identity.Identity(
                  "admin",
                  Set.of("admins", "approvers"),
                  dev.warden.core.identity.AuthMethod.SCRAM_SHA_256),
              true,
              "demo",
              false);
      statement.execute(index);
    }
    try (Connection direct = demo.database().connect("shop")) {
      assertThat(
              count(
                  direct,
                  "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'"
                      + " AND indexdef LIKE '%ordered_at%'"))
          .isEqualTo(1);
    }
  }

  @Test
  void theAuditTrailTheInstructionsPromiseFindsARefusedDrop() throws Exception {
    try (Connection connection = connect("demo", "demo", "shop");
        Statement statement = connection.createStatement()) {
      assertThatThrownBy(() -> statement.execute("DROP TABLE orders /* demo audit */"))
          .isInstanceOf(SQLException.class);
    }
    AuditQuery denied = AuditQuery.parse("user:demo verdict:denied \"demo audit\"");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (demo.server().auditSearch().search(denied, 5).hits().isEmpty()) {
      assertThat(System.nanoTime()).as("the refused DROP is searchable").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(demo.instructions("127.0.0.1"))
        .contains(
            "warden audit search --server http://127.0.0.1:"
                + demo.server().apiAddress().getPort());
  }

  @Test
  void aWrongPasswordIsRefused() {
    assertThatThrownBy(() -> connect("demo", "wrong", "shop"))
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
  }

  @Test
  void otherDatabaseNamesRouteToTheDemoEnvironmentToo() throws SQLException {
    try (Connection connection = connect("demo", "demo", "postgres")) {
      assertThat(count(connection, "SELECT count(*) FROM pg_database WHERE datname = 'shop'"))
          .isEqualTo(1);
    }
  }

  @Test
  void theCustomersPersonalDataComesBackMaskedAndTheInstructionsSayWhy() throws SQLException {
    String sql =
        "SELECT email, card_number FROM customers JOIN payment_methods p"
            + " ON p.customer_id = customers.id WHERE card_number IS NOT NULL ORDER BY customers.id"
            + " LIMIT 5";
    List<String> clear = new ArrayList<>();
    try (Connection direct = demo.database().connect("shop");
        Statement s = direct.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        clear.add(rs.getString(1));
        clear.add(rs.getString(2));
      }
    }
    List<String> seen = new ArrayList<>();
    try (Connection connection = connect("demo", "demo", "shop");
        Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        seen.add(rs.getString(1));
        seen.add(rs.getString(2));
      }
    }
    assertThat(clear).hasSize(10);
    assertThat(seen).hasSize(10).doesNotContainAnyElementsOf(clear);
    assertThat(demo.instructions("127.0.0.1"))
        .contains(
            "./warden datamap --upstream postgresql://postgres@127.0.0.1:"
                + demo.database().port()
                + "/shop");
  }

  @Test
  void theInstructionsShowHowToConnect() {
    int port = demo.server().address().getPort();

    assertThat(demo.instructions("127.0.0.1"))
        .contains("psql \"host=127.0.0.1 port=" + port + " dbname=shop user=demo password=demo\"")
        .contains("SELECT full_name, email, phone, national_id FROM customers LIMIT 5;");
  }
}

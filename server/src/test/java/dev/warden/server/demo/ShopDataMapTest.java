package dev.warden.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.statement.TableRef;
import dev.warden.server.config.DataMapConfig;
import dev.warden.server.datamap.BuildReport;
import dev.warden.server.datamap.PostgresDataMaps;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo's shop database is mapped with zero configuration: every column holding personal data,
 * payment data or credentials is found, and the business columns are not.
 */
class ShopDataMapTest {
  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";
  private static final String DB =
      "warden_dms_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  private static DataMap map;
  private static BuildReport report;

  @BeforeAll
  static void build() throws Exception {
    try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=postgres");
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + DB);
    }
    try (Connection c = DriverManager.getConnection(SERVER + DB + "?user=postgres")) {
      new ShopSeed(ShopSeed.DEFAULT_SEED).load(c);
    }
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            List.of(
                new Environment(
                    "demo",
                    Set.of(),
                    List.of(Environment.ANY_DATABASE),
                    new Upstream(
                        "127.0.0.1",
                        5432,
                        Optional.empty(),
                        "postgres",
                        Secret.of(""),
                        TlsMode.DISABLE,
                        Optional.empty()))),
            DataMapConfig.defaults(),
            Clock.systemUTC())) {
      map = maps.ready("demo", DB).get(60, TimeUnit.SECONDS);
      report = maps.report("demo", DB).orElseThrow();
    }
  }

  @AfterAll
  static void drop() throws SQLException {
    try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=postgres");
        Statement s = admin.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
    }
  }

  private static Optional<DataKind> kind(String table, String column) {
    MappedColumn c =
        map.relationsNamed(new TableRef("public", table))
            .getFirst()
            .column(column)
            .orElseThrow(() -> new AssertionError(table + "." + column));
    return c.kind();
  }

  @Test
  void everySensitiveColumnOfTheShopIsFound() {
    Map<String, DataKind> expected = new TreeMap<>();
    expected.put("customers.full_name", DataKind.PERSON_NAME);
    expected.put("customers.email", DataKind.EMAIL);
    expected.put("customers.phone", DataKind.PHONE);
    expected.put("customers.date_of_birth", DataKind.DATE_OF_BIRTH);
    expected.put("customers.street_address", DataKind.POSTAL_ADDRESS);
    expected.put("customers.national_id", DataKind.NATIONAL_ID);
    expected.put("payment_methods.card_number", DataKind.PAYMENT_CARD);
    expected.put("payment_methods.iban", DataKind.IBAN);
    expected.put("orders.shipping_address", DataKind.POSTAL_ADDRESS);
    expected.put("api_keys.token", DataKind.API_TOKEN);
    expected.put("employees.full_name", DataKind.PERSON_NAME);
    expected.put("employees.email", DataKind.EMAIL);
    // Free text that quotes customers' e-mail addresses, found by sampling.
    expected.put("support_tickets.body", DataKind.EMAIL);
    Map<String, DataKind> found = new TreeMap<>();
    map.sensitiveColumns()
        .forEach(
            e ->
                found.put(
                    e.getKey().name() + "." + e.getValue().name(), e.getValue().kind().get()));
    assertThat(found).containsAllEntriesOf(expected);
    assertThat(report.relations()).isEqualTo(8);
  }

  @Test
  void businessColumnsAreNotMasked() {
    for (String[] c :
        new String[][] {
          {"customers", "id"},
          {"customers", "city"},
          {"customers", "country"},
          {"customers", "created_at"},
          {"products", "name"},
          {"products", "sku"},
          {"products", "category"},
          {"products", "price"},
          {"orders", "status"},
          {"orders", "total"},
          {"order_items", "quantity"},
          {"employees", "department"},
          {"employees", "title"},
          {"api_keys", "provider"},
          {"support_tickets", "status"}
        }) {
      assertThat(kind(c[0], c[1])).as(c[0] + "." + c[1]).isEmpty();
    }
  }
}

package dev.warden.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The seed loaded into the PostgreSQL server on this machine, in throwaway databases. */
class ShopSeedTest {
  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";
  private static final String SUFFIX =
      UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private static final String FIRST = "warden_seed_a_" + SUFFIX;
  private static final String SECOND = "warden_seed_b_" + SUFFIX;

  @BeforeAll
  static void seedTwice() throws SQLException {
    for (String database : List.of(FIRST, SECOND)) {
      try (Connection admin = connect("postgres");
          Statement statement = admin.createStatement()) {
        statement.execute("CREATE DATABASE " + database);
      }
      try (Connection connection = connect(database)) {
        new ShopSeed(ShopSeed.DEFAULT_SEED).load(connection);
      }
    }
  }

  @AfterAll
  static void dropDatabases() throws SQLException {
    try (Connection admin = connect("postgres");
        Statement statement = admin.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS " + FIRST + " WITH (FORCE)");
      statement.execute("DROP DATABASE IF EXISTS " + SECOND + " WITH (FORCE)");
    }
  }

  private static Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(SERVER + database + "?user=postgres");
  }

  private static List<String> column(String database, String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection connection = connect(database);
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }

  private static long count(String table) throws SQLException {
    return Long.parseLong(column(FIRST, "SELECT count(*) FROM " + table).getFirst());
  }

  @Test
  void fillsEveryTable() throws SQLException {
    assertThat(count("customers")).isEqualTo(ShopSeed.CUSTOMERS);
    assertThat(count("orders")).isEqualTo(ShopSeed.ORDERS);
    assertThat(count("employees")).isEqualTo(ShopSeed.EMPLOYEES);
    assertThat(count("support_tickets")).isEqualTo(ShopSeed.SUPPORT_TICKETS);
    assertThat(count("api_keys")).isEqualTo(ShopSeed.API_KEYS);
    assertThat(count("payment_methods")).isGreaterThanOrEqualTo(ShopSeed.CUSTOMERS);
    assertThat(count("products")).isGreaterThan(20);
    assertThat(count("order_items")).isGreaterThan(ShopSeed.ORDERS);
  }

  @Test
  void theSameSeedGivesTheSameRows() throws SQLException {
    for (String table :
        List.of(
            "customers",
            "payment_methods",
            "products",
            "orders",
            "order_items",
            "support_tickets",
            "api_keys",
            "employees")) {
      String digest = "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM " + table + " t";
      assertThat(column(FIRST, digest)).as(table).isEqualTo(column(SECOND, digest));
    }
  }

  @Test
  void everyCardNumberPassesTheLuhnCheck() throws SQLException {
    List<String> cards =
        column(FIRST, "SELECT card_number FROM payment_methods WHERE kind = 'card'");

    assertThat(cards).isNotEmpty().allSatisfy(card -> assertThat(luhn(card)).as(card).isTrue());
    assertThat(cards).allMatch(card -> card.matches("4\\d{15}|5[1-5]\\d{14}|3[47]\\d{13}"));
  }

  @Test
  void everyIbanPassesTheMod97Check() throws SQLException {
    List<String> ibans = column(FIRST, "SELECT iban FROM payment_methods WHERE kind = 'iban'");

    assertThat(ibans)
        .isNotEmpty()
        .allSatisfy(iban -> assertThat(mod97(iban)).as(iban).isEqualTo(1));
    assertThat(ibans).allMatch(iban -> iban.matches("(GB|DE|FR|NL)\\d{2}[A-Z0-9]{12,30}"));
  }

  @Test
  void supportTicketsMentionContactDetails() throws SQLException {
    List<String> bodies = column(FIRST, "SELECT body FROM support_tickets");

    assertThat(bodies).anyMatch(body -> body.matches(".*@example\\.(com|org|net).*"));
    assertThat(bodies).anyMatch(body -> body.matches(".*\\+\\d{1,2} .*\\d{4}.*"));
  }

  @Test
  void apiKeysLookLikeProviderTokens() throws SQLException {
    List<String> tokens = column(FIRST, "SELECT token FROM api_keys");

    assertThat(tokens).anyMatch(t -> t.matches("sk_live_[A-Za-z0-9]{24}"));
    assertThat(tokens).anyMatch(t -> t.matches("ghp_[A-Za-z0-9]{36}"));
    assertThat(tokens).anyMatch(t -> t.matches("AKIA[A-Z2-7]{16}"));
    assertThat(tokens).anyMatch(t -> t.startsWith("xoxb-"));
  }

  @Test
  void usSocialSecurityNumbersAvoidNeverIssuedAreas() throws SQLException {
    List<String> ssns = column(FIRST, "SELECT national_id FROM customers WHERE country = 'US'");

    assertThat(ssns)
        .isNotEmpty()
        .allSatisfy(
            ssn -> {
              assertThat(ssn).matches("\\d{3}-\\d{2}-\\d{4}");
              int area = Integer.parseInt(ssn.substring(0, 3));
              assertThat(area).isBetween(1, 899).isNotEqualTo(666);
            });
  }

  @Test
  void generatedCardNumbersAreLuhnValidForEveryBrandLength() {
    Random random = new Random(1);
    for (int i = 0; i < 1000; i++) {
      assertThat(luhn(ShopSeed.cardNumber(random, "4", 16))).isTrue();
      assertThat(luhn(ShopSeed.cardNumber(random, "37", 15))).isTrue();
    }
    assertThat(ShopSeed.luhnCheckDigit("7992739871")).isEqualTo(3);
  }

  @Test
  void generatedIbansAreValidForEveryCountry() {
    Random random = new Random(1);
    for (String country : List.of("GB", "DE", "FR", "NL", "US")) {
      String iban = ShopSeed.iban(random, country);
      assertThat(mod97(iban)).as(iban).isEqualTo(1);
    }
    assertThat(mod97("GB82WEST12345698765432")).as("the oracle accepts a known IBAN").isEqualTo(1);
    assertThat(mod97("GB83WEST12345698765432")).isNotEqualTo(1);
  }

  /** An independent Luhn check: double every second digit from the right. */
  private static boolean luhn(String number) {
    int sum = 0;
    for (int i = 0; i < number.length(); i++) {
      int digit = number.charAt(number.length() - 1 - i) - '0';
      sum += i % 2 == 1 ? (digit * 2) / 10 + (digit * 2) % 10 : digit;
    }
    return sum % 10 == 0;
  }

  /** ISO 13616 with BigInteger: move the first four characters to the end, letters to 10..35. */
  private static int mod97(String iban) {
    String rearranged = (iban.substring(4) + iban.substring(0, 4)).toUpperCase(Locale.ROOT);
    StringBuilder digits = new StringBuilder();
    for (char c : rearranged.toCharArray()) {
      digits.append(Character.isLetter(c) ? String.valueOf(c - 'A' + 10) : String.valueOf(c));
    }
    return new BigInteger(digits.toString()).mod(BigInteger.valueOf(97)).intValue();
  }
}

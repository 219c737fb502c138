package dev.warden.server.demo;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The demo's {@code shop} database: an online shop's customers, payments, orders, support tickets,
 * API keys and staff, full of the kinds of personal and secret data that Warden governs. Every
 * value is invented and generated from a seeded {@link Random}, so the same seed always gives the
 * same rows; card numbers pass the Luhn check and IBANs the mod-97 check so that
 * checksum-validating detectors recognise them, phone numbers come from ranges reserved for
 * fiction, and e-mail addresses use the reserved {@code example.*} domains.
 */
final class ShopSeed {
  /** The seed the demo uses. */
  public static final long DEFAULT_SEED = 20_251_127L;

  /** How many customers are generated. */
  public static final int CUSTOMERS = 300;

  /** How many orders are generated. */
  public static final int ORDERS = 900;

  /** How many employees are generated. */
  public static final int EMPLOYEES = 40;

  /** How many support tickets are generated. */
  public static final int SUPPORT_TICKETS = 150;

  /** How many API keys are generated. */
  public static final int API_KEYS = 24;

  private static final Instant EPOCH = Instant.parse("2022-01-01T00:00:00Z");
  private static final int SPAN_DAYS = 3 * 365;

  private static final List<String> FIRST_NAMES =
      List.of(
          "Olivia",
          "Liam",
          "Emma",
          "Noah",
          "Amelia",
          "Oliver",
          "Sophia",
          "Elijah",
          "Mia",
          "Lucas",
          "Aisha",
          "Mohammed",
          "Fatima",
          "Omar",
          "Priya",
          "Arjun",
          "Ananya",
          "Rohan",
          "Mei",
          "Wei",
          "Yuki",
          "Haruto",
          "Sakura",
          "Min-jun",
          "Ji-woo",
          "Chloé",
          "Louis",
          "Léa",
          "Hugo",
          "Zoé",
          "Lukas",
          "Mia",
          "Finn",
          "Hannah",
          "Jonas",
          "Sofía",
          "Mateo",
          "Valentina",
          "Santiago",
          "Isabella",
          "Chidi",
          "Amara",
          "Kwame",
          "Zanele",
          "Thabo",
          "Ingrid",
          "Lars",
          "Astrid",
          "Mateusz",
          "Zofia");
  private static final List<String> LAST_NAMES =
      List.of(
          "Smith",
          "Johnson",
          "Williams",
          "Brown",
          "Garcia",
          "Miller",
          "Davis",
          "Rodriguez",
          "Martinez",
          "Hernandez",
          "Lopez",
          "Wilson",
          "Anderson",
          "Thomas",
          "Taylor",
          "Moore",
          "Khan",
          "Patel",
          "Sharma",
          "Singh",
          "Nguyen",
          "Tran",
          "Kim",
          "Park",
          "Chen",
          "Wang",
          "Tanaka",
          "Sato",
          "Müller",
          "Schmidt",
          "Schneider",
          "Fischer",
          "Dubois",
          "Lefèvre",
          "Moreau",
          "Rossi",
          "Russo",
          "Bianchi",
          "Okafor",
          "Mensah",
          "Dlamini",
          "Nilsson",
          "Johansson",
          "Kowalski",
          "Nowak",
          "O'Brien",
          "Murphy",
          "Kelly",
          "Silva",
          "Santos");
  private static final List<String> STREETS =
      List.of(
          "Maple",
          "Oak",
          "Cedar",
          "Elm",
          "Pine",
          "Birch",
          "Willow",
          "Chestnut",
          "Hawthorn",
          "Juniper",
          "Lakeview",
          "Riverside",
          "Hillcrest",
          "Park",
          "Church",
          "Mill",
          "Station",
          "Victoria",
          "King",
          "Queen",
          "Harbour",
          "Meadow",
          "Orchard",
          "Sunset",
          "Highland");
  private static final List<String> STREET_KINDS =
      List.of("Street", "Avenue", "Road", "Lane", "Drive", "Way", "Close", "Terrace");

  /** City, country (ISO 3166 alpha-2). */
  private static final List<String[]> CITIES =
      List.of(
          new String[] {"New York", "US"},
          new String[] {"Chicago", "US"},
          new String[] {"Austin", "US"},
          new String[] {"Seattle", "US"},
          new String[] {"Denver", "US"},
          new String[] {"Boston", "US"},
          new String[] {"London", "GB"},
          new String[] {"Manchester", "GB"},
          new String[] {"Edinburgh", "GB"},
          new String[] {"Berlin", "DE"},
          new String[] {"Munich", "DE"},
          new String[] {"Hamburg", "DE"},
          new String[] {"Paris", "FR"},
          new String[] {"Lyon", "FR"},
          new String[] {"Amsterdam", "NL"},
          new String[] {"Rotterdam", "NL"});

  private static final List<String> ADJECTIVES =
      List.of(
          "Classic",
          "Ergonomic",
          "Organic",
          "Wireless",
          "Compact",
          "Deluxe",
          "Recycled",
          "Handmade",
          "Smart",
          "Vintage",
          "Portable",
          "Waterproof");
  private static final List<String[]> PRODUCT_KINDS =
      List.of(
          new String[] {"Desk Lamp", "home"},
          new String[] {"Coffee Grinder", "kitchen"},
          new String[] {"Backpack", "outdoor"},
          new String[] {"Headphones", "electronics"},
          new String[] {"Yoga Mat", "sports"},
          new String[] {"Water Bottle", "outdoor"},
          new String[] {"Notebook", "office"},
          new String[] {"Keyboard", "electronics"},
          new String[] {"Teapot", "kitchen"},
          new String[] {"Running Shoes", "sports"},
          new String[] {"Blanket", "home"},
          new String[] {"Chef's Knife", "kitchen"});

  private static final List<String> ORDER_STATUSES =
      List.of(
          "placed",
          "paid",
          "shipped",
          "delivered",
          "delivered",
          "delivered",
          "cancelled",
          "refunded");

  private static final List<String[]> DEPARTMENTS =
      List.of(
          new String[] {"Engineering", "Software Engineer", "95000", "165000"},
          new String[] {"Engineering", "Site Reliability Engineer", "105000", "170000"},
          new String[] {"Data", "Data Analyst", "70000", "115000"},
          new String[] {"Support", "Support Specialist", "42000", "62000"},
          new String[] {"Finance", "Accountant", "60000", "90000"},
          new String[] {"Marketing", "Growth Marketer", "58000", "98000"},
          new String[] {"People", "HR Partner", "55000", "85000"},
          new String[] {"Operations", "Warehouse Lead", "45000", "68000"});

  private static final String ALPHANUMERIC =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final String UPPER_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  private static final String SCHEMA =
      """
      CREATE TABLE customers (
        id             integer PRIMARY KEY,
        full_name      text NOT NULL,
        email          text NOT NULL UNIQUE,
        phone          text NOT NULL,
        date_of_birth  date NOT NULL,
        street_address text NOT NULL,
        city           text NOT NULL,
        country        char(2) NOT NULL,
        national_id    text NOT NULL,
        created_at     timestamptz NOT NULL
      );
      COMMENT ON COLUMN customers.national_id IS
        'US Social Security number, UK National Insurance number or German tax id';
      CREATE TABLE payment_methods (
        id           integer PRIMARY KEY,
        customer_id  integer NOT NULL REFERENCES customers,
        kind         text NOT NULL CHECK (kind IN ('card', 'iban')),
        card_brand   text,
        card_number  text,
        card_expiry  text,
        iban         text,
        is_default   boolean NOT NULL,
        created_at   timestamptz NOT NULL,
        CHECK ((kind = 'card') = (card_number IS NOT NULL)),
        CHECK ((kind = 'iban') = (iban IS NOT NULL))
      );
      CREATE TABLE products (
        id          integer PRIMARY KEY,
        sku         text NOT NULL UNIQUE,
        name        text NOT NULL,
        category    text NOT NULL,
        price       numeric(10, 2) NOT NULL CHECK (price > 0)
      );
      CREATE TABLE orders (
        id                integer PRIMARY KEY,
        customer_id       integer NOT NULL REFERENCES customers,
        payment_method_id integer REFERENCES payment_methods,
        status            text NOT NULL,
        shipping_address  text NOT NULL,
        total             numeric(12, 2) NOT NULL,
        ordered_at        timestamptz NOT NULL
      );
      CREATE TABLE order_items (
        order_id    integer NOT NULL REFERENCES orders,
        product_id  integer NOT NULL REFERENCES products,
        quantity    integer NOT NULL CHECK (quantity > 0),
        unit_price  numeric(10, 2) NOT NULL,
        PRIMARY KEY (order_id, product_id)
      );
      CREATE TABLE support_tickets (
        id           integer PRIMARY KEY,
        customer_id  integer NOT NULL REFERENCES customers,
        subject      text NOT NULL,
        body         text NOT NULL,
        status       text NOT NULL,
        opened_at    timestamptz NOT NULL
      );
      CREATE TABLE api_keys (
        id            integer PRIMARY KEY,
        provider      text NOT NULL,
        description   text NOT NULL,
        token         text NOT NULL,
        created_at    timestamptz NOT NULL,
        last_used_at  timestamptz
      );
      COMMENT ON TABLE api_keys IS 'Credentials the shop uses to call other services';
      CREATE TABLE employees (
        id          integer PRIMARY KEY,
        full_name   text NOT NULL,
        email       text NOT NULL UNIQUE,
        department  text NOT NULL,
        title       text NOT NULL,
        salary      numeric(10, 2) NOT NULL,
        hired_on    date NOT NULL,
        manager_id  integer REFERENCES employees
      );
      CREATE INDEX ON orders (customer_id);
      CREATE INDEX ON payment_methods (customer_id);
      CREATE INDEX ON support_tickets (customer_id);
      """;

  private final long seed;

  public ShopSeed(long seed) {
    this.seed = seed;
  }

  /** Creates the tables in the connection's database and fills them, in one transaction. */
  public void load(Connection connection) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      try (Statement statement = connection.createStatement()) {
        statement.execute(SCHEMA);
      }
      Random random = new Random(seed);
      List<Customer> customers = customers(connection, random);
      List<Integer> paymentOwners = paymentMethods(connection, random, customers);
      List<BigDecimal> prices = products(connection, random);
      orders(connection, random, customers, paymentOwners, prices);
      supportTickets(connection, random, customers);
      apiKeys(connection, random);
      employees(connection, random);
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  private record Customer(
      int id, String fullName, String email, String phone, String address, String country) {}

  private static List<Customer> customers(Connection connection, Random random)
      throws SQLException {
    List<Customer> customers = new ArrayList<>();
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= CUSTOMERS; id++) {
        String first = pick(random, FIRST_NAMES);
        String last = pick(random, LAST_NAMES);
        String[] city = pick(random, CITIES);
        String country = city[1];
        String email =
            ascii(first).toLowerCase(Locale.ROOT)
                + "."
                + ascii(last).toLowerCase(Locale.ROOT)
                + id
                + "@"
                + pick(random, List.of("example.com", "example.org", "example.net"));
        String phone = phone(random, country);
        String street = street(random, country);
        LocalDate born = LocalDate.of(1950, 1, 1).plusDays(random.nextInt(55 * 365));
        insert.setInt(1, id);
        insert.setString(2, first + " " + last);
        insert.setString(3, email);
        insert.setString(4, phone);
        insert.setDate(5, Date.valueOf(born));
        insert.setString(6, street);
        insert.setString(7, city[0]);
        insert.setString(8, country);
        insert.setString(9, nationalId(random, country));
        insert.setTimestamp(10, timestamp(random));
        insert.addBatch();
        customers.add(
            new Customer(id, first + " " + last, email, phone, street + ", " + city[0], country));
      }
      insert.executeBatch();
    }
    return customers;
  }

  /** Returns, for each payment method id - 1, the id of the customer who owns it. */
  private static List<Integer> paymentMethods(
      Connection connection, Random random, List<Customer> customers) throws SQLException {
    List<Integer> owners = new ArrayList<>();
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO payment_methods VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      int id = 0;
      for (Customer customer : customers) {
        int count = 1 + (random.nextInt(10) < 3 ? 1 : 0);
        for (int i = 0; i < count; i++) {
          id++;
          boolean card = i == 0 ? random.nextInt(10) < 8 : random.nextBoolean();
          insert.setInt(1, id);
          insert.setInt(2, customer.id());
          insert.setString(3, card ? "card" : "iban");
          if (card) {
            String[] brand =
                pick(
                    random,
                    List.of(
                        new String[] {"visa", "4", "16"},
                        new String[] {"mastercard", "5" + (1 + random.nextInt(5)), "16"},
                        new String[] {"amex", random.nextBoolean() ? "34" : "37", "15"}));
            insert.setString(4, brand[0]);
            insert.setString(5, cardNumber(random, brand[1], Integer.parseInt(brand[2])));
            insert.setString(
                6,
                String.format(
                    Locale.ROOT, "%02d/%02d", 1 + random.nextInt(12), 26 + random.nextInt(6)));
            insert.setString(7, null);
          } else {
            insert.setString(4, null);
            insert.setString(5, null);
            insert.setString(6, null);
            insert.setString(7, iban(random, customer.country()));
          }
          insert.setBoolean(8, i == 0);
          insert.setTimestamp(9, timestamp(random));
          insert.addBatch();
          owners.add(customer.id());
        }
      }
      insert.executeBatch();
    }
    return owners;
  }

  private static List<BigDecimal> products(Connection connection, Random random)
      throws SQLException {
    List<BigDecimal> prices = new ArrayList<>();
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO products VALUES (?, ?, ?, ?, ?)")) {
      int id = 0;
      for (String adjective : ADJECTIVES) {
        for (String[] kind : PRODUCT_KINDS) {
          if (random.nextInt(3) == 0) {
            continue;
          }
          id++;
          BigDecimal price = BigDecimal.valueOf(499 + random.nextInt(25_000), 2);
          insert.setInt(1, id);
          insert.setString(
              2,
              kind[1].substring(0, 3).toUpperCase(Locale.ROOT)
                  + "-"
                  + String.format(Locale.ROOT, "%05d", 10_000 + id * 7));
          insert.setString(3, adjective + " " + kind[0]);
          insert.setString(4, kind[1]);
          insert.setBigDecimal(5, price);
          insert.addBatch();
          prices.add(price);
        }
      }
      insert.executeBatch();
    }
    return prices;
  }

  private static void orders(
      Connection connection,
      Random random,
      List<Customer> customers,
      List<Integer> paymentOwners,
      List<BigDecimal> prices)
      throws SQLException {
    try (PreparedStatement order =
            connection.prepareStatement("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)");
        PreparedStatement item =
            connection.prepareStatement("INSERT INTO order_items VALUES (?, ?, ?, ?)")) {
      for (int id = 1; id <= ORDERS; id++) {
        Customer customer = customers.get(random.nextInt(customers.size()));
        int paymentMethod = paymentOwners.indexOf(customer.id()) + 1;
        int lines = 1 + random.nextInt(4);
        BigDecimal total = BigDecimal.ZERO;
        List<Integer> chosen = new ArrayList<>();
        while (chosen.size() < lines) {
          int product = 1 + random.nextInt(prices.size());
          if (!chosen.contains(product)) {
            chosen.add(product);
          }
        }
        for (int product : chosen) {
          int quantity = 1 + (random.nextInt(5) == 0 ? random.nextInt(4) : 0);
          BigDecimal price = prices.get(product - 1);
          total = total.add(price.multiply(BigDecimal.valueOf(quantity)));
          item.setInt(1, id);
          item.setInt(2, product);
          item.setInt(3, quantity);
          item.setBigDecimal(4, price);
          item.addBatch();
        }
        order.setInt(1, id);
        order.setInt(2, customer.id());
        order.setInt(3, paymentMethod);
        order.setString(4, pick(random, ORDER_STATUSES));
        order.setString(5, customer.address());
        order.setBigDecimal(6, total);
        order.setTimestamp(7, timestamp(random));
        order.addBatch();
      }
      order.executeBatch();
      item.executeBatch();
    }
  }

  private static void supportTickets(Connection connection, Random random, List<Customer> customers)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO support_tickets VALUES (?, ?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= SUPPORT_TICKETS; id++) {
        Customer customer = customers.get(random.nextInt(customers.size()));
        int order = 1 + random.nextInt(ORDERS);
        String first = customer.fullName().substring(0, customer.fullName().indexOf(' '));
        String[] ticket =
            switch (random.nextInt(6)) {
              case 0 ->
                  new String[] {
                    "Where is my order #" + order + "?",
                    "Hi, I ordered two weeks ago and order #"
                        + order
                        + " still shows as shipped. Please call me on "
                        + customer.phone()
                        + " or write to "
                        + customer.email()
                        + ". Thanks, "
                        + first
                  };
              case 1 ->
                  new String[] {
                    "Change of e-mail address",
                    "Please update my account from "
                        + customer.email()
                        + " to "
                        + ascii(first).toLowerCase(Locale.ROOT)
                        + ".new@example.org. My phone for verification is "
                        + customer.phone()
                        + "."
                  };
              case 2 ->
                  new String[] {
                    "Charged twice",
                    "My card "
                        + cardNumber(random, "4", 16)
                        + " was charged twice for order #"
                        + order
                        + ". I would like a refund of the duplicate."
                  };
              case 3 ->
                  new String[] {
                    "Wrong delivery address",
                    "The parcel for #"
                        + order
                        + " should go to "
                        + street(random, customer.country())
                        + " instead. Reach me at "
                        + customer.phone()
                        + "."
                  };
              case 4 ->
                  new String[] {
                    "Refund to bank account",
                    "Please refund order #"
                        + order
                        + " to my account "
                        + iban(random, customer.country())
                        + " (account holder "
                        + customer.fullName()
                        + ")."
                  };
              default ->
                  new String[] {
                    "Delete my data",
                    "I want my account closed and my data erased. Name: "
                        + customer.fullName()
                        + ", e-mail "
                        + customer.email()
                        + "."
                  };
            };
        insert.setInt(1, id);
        insert.setInt(2, customer.id());
        insert.setString(3, ticket[0]);
        insert.setString(4, ticket[1]);
        insert.setString(5, pick(random, List.of("open", "pending", "solved", "solved")));
        insert.setTimestamp(6, timestamp(random));
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  private static void apiKeys(Connection connection, Random random) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= API_KEYS; id++) {
        String[] key =
            switch (id % 6) {
              case 0 ->
                  new String[] {
                    "stripe", "payments, live mode", "sk_live_" + token(random, ALPHANUMERIC, 24)
                  };
              case 1 ->
                  new String[] {
                    "github", "release automation", "ghp_" + token(random, ALPHANUMERIC, 36)
                  };
              case 2 ->
                  new String[] {
                    "aws", "invoice archive uploads", "AKIA" + token(random, UPPER_ALPHANUMERIC, 16)
                  };
              case 3 ->
                  new String[] {
                    "slack",
                    "order notifications bot",
                    "xoxb-"
                        + token(random, "0123456789", 12)
                        + "-"
                        + token(random, "0123456789", 13)
                        + "-"
                        + token(random, ALPHANUMERIC, 24)
                  };
              case 4 ->
                  new String[] {
                    "sendgrid",
                    "transactional e-mail",
                    "SG." + token(random, ALPHANUMERIC, 22) + "." + token(random, ALPHANUMERIC, 43)
                  };
              default ->
                  new String[] {
                    "stripe", "payments, test mode", "sk_test_" + token(random, ALPHANUMERIC, 24)
                  };
            };
        Timestamp created = timestamp(random);
        insert.setInt(1, id);
        insert.setString(2, key[0]);
        insert.setString(3, key[1]);
        insert.setString(4, key[2]);
        insert.setTimestamp(5, created);
        insert.setTimestamp(
            6,
            random.nextInt(5) == 0
                ? null
                : Timestamp.from(
                    created.toInstant().plus(Duration.ofHours(1 + random.nextInt(5000)))));
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  private static void employees(Connection connection, Random random) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO employees VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= EMPLOYEES; id++) {
        String first = pick(random, FIRST_NAMES);
        String last = pick(random, LAST_NAMES);
        String[] role =
            id == 1
                ? new String[] {"Executive", "Chief Executive Officer", "180000", "240000"}
                : pick(random, DEPARTMENTS);
        int low = Integer.parseInt(role[2]);
        int high = Integer.parseInt(role[3]);
        insert.setInt(1, id);
        insert.setString(2, first + " " + last);
        insert.setString(
            3,
            ascii(first).toLowerCase(Locale.ROOT).charAt(0)
                + ascii(last).toLowerCase(Locale.ROOT)
                + id
                + "@shop.example.com");
        insert.setString(4, role[0]);
        insert.setString(5, role[1]);
        insert.setBigDecimal(6, BigDecimal.valueOf(low + random.nextInt(high - low) / 100 * 100L));
        insert.setDate(7, Date.valueOf(LocalDate.of(2015, 1, 1).plusDays(random.nextInt(3650))));
        if (id == 1) {
          insert.setNull(8, java.sql.Types.INTEGER);
        } else {
          insert.setInt(8, id <= 6 ? 1 : 2 + random.nextInt(5));
        }
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }

  // ---- values -----------------------------------------------------------------------------------

  /** A card number of {@code length} digits starting with {@code prefix}, Luhn-valid. */
  static String cardNumber(Random random, String prefix, int length) {
    StringBuilder digits = new StringBuilder(prefix);
    while (digits.length() < length - 1) {
      digits.append(random.nextInt(10));
    }
    digits.append(luhnCheckDigit(digits));
    return digits.toString();
  }

  /** The digit that makes {@code payload} followed by it pass the Luhn check. */
  static int luhnCheckDigit(CharSequence payload) {
    int sum = 0;
    boolean doubled = true;
    for (int i = payload.length() - 1; i >= 0; i--) {
      int digit = payload.charAt(i) - '0';
      if (doubled) {
        digit *= 2;
        if (digit > 9) {
          digit -= 9;
        }
      }
      sum += digit;
      doubled = !doubled;
    }
    return (10 - sum % 10) % 10;
  }

  /** An IBAN of {@code country}'s length and layout with valid check digits (ISO 13616). */
  static String iban(Random random, String country) {
    // Customers outside these countries bank in Germany.
    String bank = List.of("GB", "DE", "FR", "NL").contains(country) ? country : "DE";
    String letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    String bban =
        switch (bank) {
          case "GB" -> token(random, letters, 4) + digits(random, 14);
          case "FR" -> digits(random, 10) + token(random, letters, 1) + digits(random, 12);
          case "NL" -> token(random, letters, 4) + digits(random, 10);
          default -> digits(random, 18);
        };
    int check = 98 - mod97(bban + bank + "00");
    return bank + String.format(Locale.ROOT, "%02d", check) + bban;
  }

  /** The remainder modulo 97 of the number formed by writing letters as 10..35. */
  private static int mod97(String text) {
    int remainder = 0;
    for (int i = 0; i < text.length(); i++) {
      int value = Character.digit(text.charAt(i), 36);
      remainder = value < 10 ? (remainder * 10 + value) % 97 : (remainder * 100 + value) % 97;
    }
    return remainder;
  }

  private static String phone(Random random, String country) {
    // Numbers from ranges set aside for fiction: 555-01xx in North America, Ofcom's 020 7946 0xxx
    // in London; elsewhere made-up numbers in the right shape.
    return switch (country) {
      case "US" ->
          String.format(
              Locale.ROOT, "+1 %03d-555-01%02d", 201 + random.nextInt(700), random.nextInt(100));
      case "GB" -> String.format(Locale.ROOT, "+44 20 7946 0%03d", random.nextInt(1000));
      case "DE" -> "+49 30 " + digits(random, 8);
      case "FR" ->
          "+33 1 "
              + digits(random, 2)
              + " "
              + digits(random, 2)
              + " "
              + digits(random, 2)
              + " "
              + digits(random, 2);
      default -> "+31 20 " + digits(random, 7);
    };
  }

  private static String street(Random random, String country) {
    String name = pick(random, STREETS);
    int number = 1 + random.nextInt(240);
    return switch (country) {
      case "US", "GB" -> number + " " + name + " " + pick(random, STREET_KINDS);
      case "DE" -> name + "straße " + number;
      case "FR" -> number + " rue " + name;
      default -> name + "straat " + number;
    };
  }

  private static String nationalId(Random random, String country) {
    return switch (country) {
      case "US" -> {
        // Area numbers 000, 666 and 900-999 are never issued.
        int area = 1 + random.nextInt(899);
        if (area == 666) {
          area = 667;
        }
        yield String.format(
            Locale.ROOT, "%03d-%02d-%04d", area, 1 + random.nextInt(99), 1 + random.nextInt(9999));
      }
      case "GB" ->
          token(random, "ABCEGHJKLMNPRSTWXYZ", 2)
              + " "
              + digits(random, 2)
              + " "
              + digits(random, 2)
              + " "
              + digits(random, 2)
              + " "
              + token(random, "ABCD", 1);
      default -> String.valueOf(1 + random.nextInt(9)) + digits(random, 10);
    };
  }

  private static Timestamp timestamp(Random random) {
    return Timestamp.from(
        EPOCH.plus(
            Duration.ofSeconds(
                (long) random.nextInt(SPAN_DAYS) * 86_400 + random.nextInt(86_400))));
  }

  private static String digits(Random random, int count) {
    return token(random, "0123456789", count);
  }

  private static String token(Random random, String alphabet, int length) {
    StringBuilder token = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      token.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return token.toString();
  }

  private static <T> T pick(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  /** The name folded to ASCII letters for e-mail addresses. */
  private static String ascii(String name) {
    String folded =
        java.text.Normalizer.normalize(name.replace("ß", "ss"), java.text.Normalizer.Form.NFD)
            .replaceAll("\\p{M}", "");
    return folded.replaceAll("[^A-Za-z]", "");
  }
}

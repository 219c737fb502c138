package dev.warden.server.masking;

import dev.warden.testkit.Canary;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A database of its own on the PostgreSQL server at 127.0.0.1:5432, seeded with realistic columns
 * whose sensitive values are all canaries of this run: {@code users} (every kind the data map
 * detects, a bytea private key, free-text notes and cities that are not sensitive), {@code orders}
 * with a foreign key and a shipping address, {@code documents} with personal data inside a jsonb
 * column and a bytea attachment whose names say nothing (THREATS M17, M19), a view renaming {@code
 * email}, a materialized view and a table with meaningless column names copied from {@code users}
 * before Warden started, functions returning sensitive data (M14), a large object holding a canary,
 * statistics (ANALYZE, for M16) and a superuser session whose last statement quotes a canary (the
 * "other session" of {@code pg_stat_activity}).
 */
final class MaskingFixture implements AutoCloseable {
  static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/";
  static final List<String> CITIES =
      List.of("Lisbon", "Porto", "Braga", "Coimbra", "Faro", "Aveiro");

  private static final String SCHEMA =
      """
      CREATE TABLE users (
        id int PRIMARY KEY,
        email text NOT NULL UNIQUE,
        full_name text NOT NULL,
        phone text,
        ssn text,
        date_of_birth date,
        card_number text,
        iban text,
        ip_address inet,
        password_hash text,
        password text,
        api_token text,
        session_jwt text,
        private_key bytea,
        notes text,
        city text,
        created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00');
      CREATE TABLE orders (
        id int PRIMARY KEY,
        user_id int NOT NULL REFERENCES users (id),
        amount numeric(10, 2) NOT NULL,
        status text NOT NULL,
        shipping_address text);
      CREATE TABLE documents (
        id int PRIMARY KEY,
        user_id int REFERENCES users (id),
        title text,
        data jsonb,
        attachment bytea);
      CREATE VIEW contacts AS SELECT id, email AS contact FROM users;
      CREATE FUNCTION user_email(int) RETURNS text LANGUAGE sql STABLE
        AS 'SELECT email FROM users WHERE id = $1';
      CREATE FUNCTION all_users() RETURNS SETOF users LANGUAGE sql STABLE
        AS 'SELECT * FROM users ORDER BY id';
      CREATE FUNCTION lookup_ssn(int) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
        AS $$ BEGIN RETURN (SELECT ssn FROM users WHERE id = $1); END $$;
      CREATE FUNCTION noisy(text) RETURNS text LANGUAGE plpgsql
        AS $$ BEGIN RAISE NOTICE 'value: %', $1; RETURN 'ok'; END $$;
      CREATE FUNCTION user_row(int) RETURNS users LANGUAGE sql STABLE
        AS 'SELECT * FROM users WHERE id = $1';
      """;

  private final String database;
  private final Connection direct;
  private final List<Canary> canaries;
  private final List<String> notes;
  private final long largeObject;

  private MaskingFixture(
      String database,
      Connection direct,
      List<Canary> canaries,
      List<String> notes,
      long largeObject) {
    this.database = database;
    this.direct = direct;
    this.canaries = canaries;
    this.notes = notes;
    this.largeObject = largeObject;
  }

  /** Creates and seeds {@code database}, with fresh canaries from {@code random}. */
  static MaskingFixture create(String database, SecureRandom random) throws SQLException {
    admin("CREATE DATABASE " + database);
    Connection direct = DriverManager.getConnection(ADMIN_URL + database, "postgres", "");
    SeedValues v = new SeedValues(random);
    List<String> notes = new ArrayList<>();
    try (Statement s = direct.createStatement()) {
      s.execute(SCHEMA);
    }
    try (PreparedStatement ps =
        direct.prepareStatement(
            "INSERT INTO users (id, email, full_name, phone, ssn, date_of_birth, card_number, iban,"
                + " ip_address, password_hash, password, api_token, session_jwt, private_key,"
                + " notes, city) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::inet, ?, ?, ?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= CITIES.size(); id++) {
        String p = "users#" + id + ".";
        ps.setInt(1, id);
        ps.setString(2, v.email(p + "email"));
        ps.setString(3, v.fullName(p + "full_name", id == 1));
        ps.setString(4, v.phone(p + "phone"));
        ps.setString(5, v.ssn(p + "ssn"));
        LocalDate dob = v.dateOfBirth(p + "date_of_birth");
        ps.setObject(6, dob);
        ps.setString(7, v.card(p + "card_number"));
        ps.setString(8, v.iban(p + "iban"));
        ps.setString(9, v.ipv6(p + "ip_address"));
        ps.setString(10, v.bcrypt(p + "password_hash"));
        ps.setString(11, v.password(p + "password"));
        ps.setString(12, v.githubToken(p + "api_token"));
        ps.setString(13, v.jwt(p + "session_jwt"));
        ps.setBytes(14, v.privateKey(p + "private_key").getBytes(StandardCharsets.UTF_8));
        String note = "prefers contact in the morning, ref " + v.token(8);
        notes.add(note);
        ps.setString(15, note);
        ps.setString(16, CITIES.get(id - 1));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    try (PreparedStatement ps =
        direct.prepareStatement(
            "INSERT INTO orders (id, user_id, amount, status, shipping_address)"
                + " VALUES (?, ?, ?, ?, ?)")) {
      for (int id = 1; id <= 8; id++) {
        ps.setInt(1, id);
        ps.setInt(2, 1 + (id - 1) % CITIES.size());
        ps.setBigDecimal(3, java.math.BigDecimal.valueOf(10 * id + 5, 1));
        ps.setString(4, id % 2 == 0 ? "paid" : "new");
        ps.setString(5, v.address("orders#" + id + ".shipping_address"));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    try (PreparedStatement ps =
        direct.prepareStatement(
            "INSERT INTO documents (id, user_id, title, data, attachment)"
                + " VALUES (?, ?, ?, ?::jsonb, ?)")) {
      for (int id = 1; id <= 3; id++) {
        String p = "documents#" + id + ".";
        String email = v.email(p + "data.contact.email");
        String ssn = v.ssn(p + "data.contact.ssn");
        String attached = v.email(p + "attachment.email");
        ps.setInt(1, id);
        ps.setInt(2, id);
        ps.setString(3, "application form " + id);
        ps.setString(
            4,
            "{\"contact\": {\"email\": \""
                + email
                + "\", \"ssn\": \""
                + ssn
                + "\"}, \"tags\": [\"vip\", \"kyc\"]}");
        ps.setBytes(5, ("Scanned form; applicant " + attached).getBytes(StandardCharsets.UTF_8));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    long largeObject;
    String inLargeObject = v.email("large_object.email");
    try (PreparedStatement ps =
        direct.prepareStatement("SELECT lo_from_bytea(0, convert_to(?, 'UTF8'))")) {
      ps.setString(1, "contact: " + inLargeObject);
      try (var r = ps.executeQuery()) {
        r.next();
        largeObject = r.getLong(1);
      }
    }
    try (Statement s = direct.createStatement()) {
      // Copies made before Warden ever saw the database: the data map must find them by lineage
      // (a materialized view) and by content (a table whose column names say nothing).
      s.execute(
          "CREATE MATERIALIZED VIEW mv_contacts AS"
              + " SELECT id, email AS c, upper(full_name) AS n FROM users");
      s.execute("CREATE TABLE legacy_export AS SELECT id, email AS col_a, ssn AS col_b FROM users");
      s.execute("ANALYZE users, orders, documents, legacy_export, mv_contacts");
    }
    List<Canary> canaries = v.canaries();
    // The superuser session's last statement quotes a canary: pg_stat_activity shows it (M16).
    try (PreparedStatement ps =
        direct.prepareStatement(
            "SELECT count(*) FROM users WHERE email = '" + canaries.getFirst().value() + "'")) {
      ps.executeQuery().close();
    }
    return new MaskingFixture(database, direct, canaries, List.copyOf(notes), largeObject);
  }

  static void admin(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(ADMIN_URL + "postgres", "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String suffix(SecureRandom random) {
    byte[] b = new byte[5];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  String database() {
    return database;
  }

  /** Every canary planted, sensitive columns, JSON paths, bytea and the large object. */
  List<Canary> canaries() {
    return canaries;
  }

  /** The canary named {@code name}, e.g. {@code users#1.email}. */
  Canary canary(String name) {
    return canaries.stream()
        .filter(c -> c.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no canary " + name));
  }

  /** The {@code notes} of users 1..n, in order: free text that is not sensitive. */
  List<String> notes() {
    return notes;
  }

  long largeObject() {
    return largeObject;
  }

  @Override
  public void close() {
    try {
      direct.close();
    } catch (SQLException e) {
      // the database is dropped next, which ends the session anyway
    }
    try {
      admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    } catch (SQLException e) {
      throw new IllegalStateException("could not drop " + database, e);
    }
  }
}

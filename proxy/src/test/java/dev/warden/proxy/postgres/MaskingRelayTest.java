package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.masking.ValueType;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.StatementKind;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy applies the masking its decision point hands it to every channel that carries data to
 * the client (THREATS M06–M13, M18–M20): rows of simple and extended queries in text and binary
 * format (Describe-less executions and row-limited portals included), server errors and notices,
 * notifications and parameter changes; and it forwards rows untouched when nothing is masked. The
 * masking here is a test double of the decision point's (masking the column {@code users.email} by
 * its table OID and attribute number); the database is the real one.
 */
class MaskingRelayTest {
  private static final String MARK = "[email]";
  private static final Pattern EMAIL = Pattern.compile("[^\\s\"'(),=]+@[^\\s\"'(),=]+");

  private static ProxyFixture fixture;
  private static final TestMasking masking = new TestMasking();
  private static final TestDataMaps maps = new TestDataMaps();
  private static volatile boolean exempt;
  private static volatile StatementKind kind = StatementKind.READ;

  @BeforeAll
  static void start() throws SQLException {
    Gatekeeper gatekeeper =
        request ->
            new Decision(
                Verdict.ALLOW,
                new Analysis(List.of(TestStatements.of(kind, "TEST")), ""),
                "",
                false,
                OptionalLong.empty(),
                null,
                0,
                false,
                exempt ? ResultMasking.NONE : masking);
    fixture = new ProxyFixture(gatekeeper, s -> s, maps);
    fixture.sql(
        "CREATE TABLE users (id int PRIMARY KEY, email text, born date, score int, contact"
            + " varchar(80), blob bytea, doc jsonb)");
    fixture.sql(
        "INSERT INTO users VALUES (1, 'alice@example.com', '1980-05-01', 7, 'x', 'alice@example.com',"
            + " '{\"e\": \"alice@example.com\"}'), (2, 'bob@example.org', '1990-01-02', 9, 'y',"
            + " null, null), (3, null, null, null, null, null, null)");
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT 'users'::regclass::oid, attnum FROM pg_attribute WHERE attrelid ="
                    + " 'users'::regclass AND attname = 'email'")) {
      rs.next();
      masking.usersOid = rs.getLong(1);
      masking.emailColumn = rs.getInt(2);
    }
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @BeforeEach
  void reset() {
    exempt = false;
    kind = StatementKind.READ;
    masking.computedMasked = false;
    masking.scrubErrors = false;
    fixture.audit.clear();
  }

  private static List<String> emails(Connection c, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  private static Connection connect(String mode, boolean binary) throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", mode);
    p.setProperty("binaryTransfer", Boolean.toString(binary));
    p.setProperty("prepareThreshold", "1");
    return fixture.connect(p);
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended", "extendedForPrepared"})
  void masksTheSourceColumnWhateverTheProtocol(String mode) throws SQLException {
    try (Connection c = connect(mode, false)) {
      assertThat(emails(c, "SELECT email FROM users ORDER BY id"))
          .containsExactly(MARK, MARK, null);
      // Renamed, through a subquery and a CTE: the origin PostgreSQL reports is still users.email.
      assertThat(
              emails(c, "SELECT e AS city FROM (SELECT email AS e, id FROM users) s ORDER BY id"))
          .containsExactly(MARK, MARK, null);
      assertThat(emails(c, "WITH u AS (SELECT * FROM users) SELECT email FROM u ORDER BY id"))
          .containsExactly(MARK, MARK, null);
      // Other columns pass as they are.
      assertThat(emails(c, "SELECT contact FROM users ORDER BY id"))
          .containsExactly("x", "y", null);
    }
  }

  @Test
  void masksRowsOfRepeatedDescribeLessExecutionsInTextAndBinary() throws SQLException {
    for (boolean binary : new boolean[] {false, true}) {
      try (Connection c = connect("extended", binary);
          PreparedStatement ps =
              c.prepareStatement("SELECT id, email, born, score, doc FROM users WHERE id = ?")) {
        for (int round = 0; round < 6; round++) { // past prepareThreshold: Bind/Execute only
          ps.setInt(1, 1);
          try (ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
            assertThat(rs.getString(2)).isEqualTo(MARK);
            assertThat(rs.getDate(3)).isEqualTo(Date.valueOf("1980-05-01"));
            assertThat(rs.getInt(4)).isEqualTo(7);
            assertThat(rs.getString(5)).contains("alice@example.com"); // not the masked column
          }
        }
      }
    }
  }

  @Test
  void masksEveryBatchOfARowLimitedPortal() throws SQLException {
    fixture.sql(
        "CREATE TABLE many AS SELECT g AS id, 'u' || g || '@example.com' AS email FROM"
            + " generate_series(1, 250) g");
    try (Connection c = connect("extended", true)) {
      long oid = oidOf(c, "many");
      long previous = masking.usersOid;
      masking.usersOid = oid;
      masking.emailColumn = 2;
      try {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("SELECT id, email FROM many ORDER BY id")) {
          ps.setFetchSize(7); // Execute with a row limit, PortalSuspended, Execute again
          int n = 0;
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              assertThat(rs.getString(2)).isEqualTo(MARK);
              n++;
            }
          }
          assertThat(n).isEqualTo(250);
        }
        c.commit();
      } finally {
        masking.usersOid = previous;
        masking.emailColumn = 2;
      }
    }
  }

  @Test
  void rowsKeepTheirOrderWhenMaskedAndUntouchedRowsAlternate() throws SQLException {
    fixture.sql(
        "CREATE TABLE mixed AS SELECT g AS id, CASE WHEN g % 3 = 0 THEN NULL ELSE 'm' || g ||"
            + " '@example.com' END AS email FROM generate_series(1, 5000) g");
    long previous = masking.usersOid;
    try (Connection c = connect("simple", false)) {
      masking.usersOid = oidOf(c, "mixed");
      masking.emailColumn = 2;
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT id, email FROM mixed ORDER BY id")) {
        int expected = 1;
        while (rs.next()) {
          assertThat(rs.getInt(1)).isEqualTo(expected);
          assertThat(rs.getString(2)).isEqualTo(expected % 3 == 0 ? null : MARK);
          expected++;
        }
        assertThat(expected).isEqualTo(5001);
      }
    } finally {
      masking.usersOid = previous;
      masking.emailColumn = 2;
    }
  }

  private static long oidOf(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT '" + table + "'::regclass::oid")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void masksWholeRowReferencesAndComputedColumnsTheDecisionSaysAreFed() throws SQLException {
    try (Connection c = connect("simple", false)) {
      // A whole-row reference is reported as the table with attribute number 0.
      assertThat(emails(c, "SELECT u FROM users u WHERE id = 1")).containsExactly((String) null);
      masking.computedMasked = true;
      assertThat(emails(c, "SELECT upper(email) FROM users WHERE id = 1")).containsExactly(MARK);
      assertThat(emails(c, "SELECT min(email) FROM users")).containsExactly(MARK);
    }
  }

  @Test
  void scansComputedValuesOfUnknownOriginForRecognisableData() throws SQLException {
    try (Connection c = connect("extended", false)) {
      assertThat(emails(c, "SELECT 'mail ' || 'carol@example.net' || ' now'"))
          .containsExactly("mail " + MARK + " now");
      assertThat(emails(c, "SELECT 'nothing to see'")).containsExactly("nothing to see");
      // Recognised whole, a value is masked as its type allows: no masked text is a valid array.
      assertThat(emails(c, "SELECT ARRAY['erin@example.com']")).containsExactly((String) null);
    }
  }

  @Test
  void masksByteaInHexAndEscapeOutput() throws SQLException {
    try (Connection c = connect("simple", false)) {
      masking.computedMasked = false;
      long previous = masking.usersOid;
      int column = masking.emailColumn;
      masking.emailColumn = 6; // blob
      try {
        for (String output : new String[] {"hex", "escape"}) {
          try (Statement s = c.createStatement()) {
            s.execute("SET bytea_output = " + output);
          }
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT blob FROM users WHERE id = 1")) {
            rs.next();
            assertThat(new String(rs.getBytes(1), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(MARK);
          }
        }
      } finally {
        masking.usersOid = previous;
        masking.emailColumn = column;
      }
    }
  }

  @Test
  void hidesTheServersTextAboutStatementsThatTouchMaskedData() throws SQLException {
    masking.scrubErrors = true;
    try (Connection c = connect("extended", false);
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.executeQuery("SELECT email::int FROM users WHERE id = 1"))
          .isInstanceOf(SQLException.class)
          .satisfies(
              e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("22P02");
                assertThat(e.getMessage()).doesNotContain("alice").contains("hidden by Warden");
              });
      // The session goes on.
      assertThat(emails(c, "SELECT email FROM users WHERE id = 2")).containsExactly(MARK);
    }
  }

  @Test
  void masksRecognisableWordsInOtherErrorsNoticesNotificationsAndParameters() throws Exception {
    try (Connection listener = connect("simple", false);
        Connection other = connect("simple", false)) {
      try (Statement s = listener.createStatement()) {
        assertThatThrownBy(
                () -> s.execute("SELECT 1/0 FROM users WHERE email = 'dave@example.com'"))
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("dave@"));
        s.execute("DO $$ BEGIN RAISE NOTICE 'see erin@example.com'; END $$");
        assertThat(s.getWarnings().getMessage()).doesNotContain("erin@").contains(MARK);
        s.execute("LISTEN ch");
        s.execute("SET application_name = 'frank@example.com'");
        try (ResultSet rs = s.executeQuery("SHOW application_name")) {
          rs.next(); // SHOW's value is a row of a computed column: scanned too
          assertThat(rs.getString(1)).isEqualTo(MARK);
        }
      }
      try (Statement s = other.createStatement()) {
        s.execute("NOTIFY ch, 'for grace@example.com'");
      }
      try (Statement s = listener.createStatement()) {
        s.execute("SELECT 1");
      }
      org.postgresql.PGNotification[] notes =
          listener.unwrap(org.postgresql.PGConnection.class).getNotifications(5000);
      assertThat(notes).hasSize(1);
      assertThat(notes[0].getParameter()).isEqualTo("for " + MARK);
    }
  }

  @Test
  void recordsWhichColumnsWereMaskedAndHowManyValues() throws Exception {
    try (Connection c = connect("simple", false)) {
      emails(c, "SELECT id, email FROM users ORDER BY id");
    }
    AuditRecord outcome =
        fixture.audit.await(
            r -> r instanceof StatementOutcome o && o.maskedValues() > 0, Duration.ofSeconds(5));
    StatementOutcome o = (StatementOutcome) outcome;
    assertThat(o.maskedColumns()).containsExactly("email");
    assertThat(o.maskedValues()).isEqualTo(2); // the NULL stays NULL and is not counted
  }

  @Test
  void catalogueQueriesOfDriversAndPsqlAreNotMasked() throws SQLException {
    // pg_class, pg_attribute and information_schema are PostgreSQL's own, below OID 16384: a
    // masked identity's \d and a driver's metadata queries get them as they are.
    masking.everything = true; // as the decision point does for relations its map lacks
    try (Connection c = connect("extended", false)) {
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT relname FROM pg_catalog.pg_class WHERE relname = 'users' AND relkind ="
                      + " 'r'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("users");
      }
      try (ResultSet rs = c.getMetaData().getColumns(null, "public", "users", "email")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString("COLUMN_NAME")).isEqualTo("email");
      }
      // ... while a table of the database's own is masked.
      assertThat(emails(c, "SELECT contact FROM users WHERE id = 1")).containsExactly(MARK);
    } finally {
      masking.everything = false;
    }
  }

  @Test
  void anExemptIdentityGetsTheRowsAsTheServerSentThem() throws SQLException {
    exempt = true;
    try (Connection c = connect("extended", true)) {
      assertThat(emails(c, "SELECT email FROM users ORDER BY id"))
          .containsExactly("alice@example.com", "bob@example.org", null);
    }
  }

  @Test
  void theFirstStatementWaitsForTheDataMapAndASchemaChangeRebuildsIt() throws Exception {
    CompletableFuture<DataMap> pending = new CompletableFuture<>();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection c = connect("simple", false)) {
      maps.next = pending; // as if the map were being built
      Future<List<String>> first = pool.submit(() -> emails(c, "SELECT 'first'"));
      Thread.sleep(300);
      assertThat(first.isDone()).as("waits for the data map").isFalse();
      pending.complete(DataMap.of("test", fixture.database, 1, Instant.now(), List.of()));
      assertThat(first.get(5, TimeUnit.SECONDS)).containsExactly("first");

      int before = maps.schemaChanges.get();
      kind = StatementKind.DDL;
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE later (id int)");
      }
      kind = StatementKind.READ;
      assertThat(maps.schemaChanges.get()).isEqualTo(before + 1);
    } finally {
      maps.next = null;
      pool.shutdownNow();
    }
  }

  /** Masks users.email (and whole rows of users); optionally every computed column. */
  static final class TestMasking implements ResultMasking {
    volatile long usersOid;
    volatile int emailColumn;
    volatile boolean computedMasked;
    volatile boolean scrubErrors;
    volatile boolean everything;

    final ColumnMask mask =
        new ColumnMask() {
          @Override
          public Optional<DataKind> kind() {
            return Optional.of(DataKind.EMAIL);
          }

          @Override
          public String strategy() {
            return "redact";
          }

          @Override
          public String mask(String value, ValueType type) {
            return switch (type) {
              case TEXT, BYTES -> MARK;
              case JSON -> "\"" + MARK + "\"";
              default -> null;
            };
          }
        };

    @Override
    public boolean active() {
      return true;
    }

    @Override
    public ColumnMask column(long relationId, int column) {
      return everything || relationId == usersOid && (column == emailColumn || column == 0)
          ? mask
          : null;
    }

    @Override
    public ColumnMask computed() {
      return computedMasked ? mask : null;
    }

    @Override
    public ColumnMask backstop(String value) {
      return EMAIL.matcher(value).matches() ? mask : null;
    }

    @Override
    public boolean scrubErrors() {
      return scrubErrors;
    }

    @Override
    public String scrubText(String text) {
      String out = EMAIL.matcher(text).replaceAll(MARK);
      return out.equals(text) ? text : out;
    }
  }

  /** Data maps that are ready unless a test sets {@link #next}; counts schema changes. */
  static final class TestDataMaps implements DataMaps {
    volatile CompletableFuture<DataMap> next;
    final AtomicInteger schemaChanges = new AtomicInteger();

    @Override
    public CompletableFuture<DataMap> ready(String environment, String database) {
      CompletableFuture<DataMap> n = next;
      return n != null
          ? n
          : CompletableFuture.completedFuture(
              DataMap.of(environment, database, 1, Instant.now(), List.of()));
    }

    @Override
    public Optional<DataMap> current(String environment, String database) {
      return Optional.empty();
    }

    @Override
    public void schemaChanged(String environment, String database) {
      schemaChanges.incrementAndGet();
    }

    @Override
    public void unknownRelation(String environment, String database, long id) {}
  }
}

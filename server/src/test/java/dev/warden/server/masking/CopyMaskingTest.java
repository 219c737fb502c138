package dev.warden.server.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.CanaryScanner;
import dev.warden.testkit.RecordingRelay;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

/**
 * {@code COPY ... TO STDOUT} through Warden, as pgjdbc's CopyManager (and psql's {@code \copy})
 * send it: the sensitive columns of a copied table are masked in every format, by position, while
 * its other columns arrive as the database wrote them; a copied query's columns are all masked
 * (COPY's rows carry no origins); an exempt identity gets the rows unchanged. What the stream looks
 * like is checked against the database's own rows, read directly.
 */
class CopyMaskingTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir static Path dir;

  private static MaskingFixture fixture;
  private static MaskingServer warden;
  private static Connection direct;

  /** id to e-mail, full name and city, as stored. */
  private static final Map<Integer, List<String>> USERS = new TreeMap<>();

  @BeforeAll
  static void start() throws Exception {
    fixture = MaskingFixture.create("warden_copy_" + MaskingFixture.suffix(RANDOM), RANDOM);
    warden = MaskingServer.start(fixture, dir, RANDOM, false);
    direct =
        DriverManager.getConnection(MaskingFixture.ADMIN_URL + fixture.database(), "postgres", "");
    try (ResultSet r =
        direct.createStatement().executeQuery("SELECT id, email, full_name, city FROM users")) {
      while (r.next()) {
        USERS.put(r.getInt(1), List.of(r.getString(2), r.getString(3), r.getString(4)));
      }
    }
    assertThat(USERS).isNotEmpty();
  }

  @AfterAll
  static void stop() throws SQLException {
    if (direct != null) {
      direct.close();
    }
    if (warden != null) {
      warden.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  private static Connection connect(CaseSession.Login login) throws SQLException {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("user", login.user());
    p.setProperty("password", login.password());
    p.setProperty("sslmode", "disable");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + login.address().getPort() + "/" + login.database(), p);
  }

  private static byte[] copy(CaseSession.Login login, String sql) throws Exception {
    try (Connection c = connect(login)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
      return out.toByteArray();
    }
  }

  private static List<String> lines(byte[] stream) {
    return List.of(new String(stream, StandardCharsets.UTF_8).split("\n"));
  }

  @Test
  void textFormatMasksTheSensitiveColumnsOfATableByPositionAndKeepsTheOthers() throws Exception {
    RecordingRelay relay = warden.relay();
    byte[] out =
        copy(warden.restricted(relay), "COPY users (id, email, full_name, city) TO STDOUT");
    List<String> rows = lines(out);
    assertThat(rows).hasSize(USERS.size());
    for (String row : rows) {
      String[] v = row.split("\t", -1);
      assertThat(v).hasSize(4);
      List<String> stored = USERS.get(Integer.parseInt(v[0]));
      assertThat(stored).as(row).isNotNull();
      assertThat(v[1]).as("e-mail").isNotEqualTo(stored.get(0)).doesNotContain(local(stored));
      assertThat(v[2]).as("name").isNotEqualTo(stored.get(1));
      assertThat(v[3]).as("city").isEqualTo(stored.get(2));
    }
    assertNoCanary(relay);
  }

  @Test
  void aWholeTableInTextFormatLinesItsColumnsUpWithTheDataMap() throws Exception {
    RecordingRelay relay = warden.relay();
    List<String> rows = lines(copy(warden.restricted(relay), "COPY users TO STDOUT"));
    assertThat(rows).hasSize(USERS.size());
    for (String row : rows) {
      String[] v = row.split("\t", -1);
      assertThat(v).hasSize(17);
      List<String> stored = USERS.get(Integer.parseInt(v[0]));
      assertThat(v[1]).isNotEqualTo(stored.get(0));
      assertThat(v[15]).as("city").isEqualTo(stored.get(2));
    }
    assertNoCanary(relay);
  }

  @Test
  void csvWithAHeaderKeepsTheHeaderAndQuotesMaskedValues() throws Exception {
    RecordingRelay relay = warden.relay();
    List<String> rows =
        lines(
            copy(
                warden.restricted(relay),
                "COPY users (id, email, city) TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';')"));
    assertThat(rows.get(0)).isEqualTo("id;email;city");
    assertThat(rows).hasSize(USERS.size() + 1);
    for (String row : rows.subList(1, rows.size())) {
      String[] v = row.split(";", -1);
      assertThat(v).as(row).hasSize(3);
      List<String> stored = USERS.get(Integer.parseInt(v[0]));
      assertThat(v[1]).startsWith("\"").endsWith("\"").isNotEqualTo(stored.get(0));
      assertThat(v[2]).isEqualTo(stored.get(2));
    }
    assertNoCanary(relay);
  }

  @Test
  void binaryFormatMasksCharacterValuesAsText() throws Exception {
    RecordingRelay relay = warden.relay();
    byte[] out =
        copy(warden.restricted(relay), "COPY users (id, email, city) TO STDOUT (FORMAT binary)");
    ByteBuffer b = ByteBuffer.wrap(out);
    b.position(11); // the signature
    b.getInt(); // flags
    int extension = b.getInt();
    b.position(b.position() + extension);
    int rows = 0;
    while (true) {
      short fields = b.getShort();
      if (fields == -1) {
        break;
      }
      assertThat(fields).isEqualTo((short) 3);
      assertThat(b.getInt()).isEqualTo(4);
      int id = b.getInt();
      String email = text(b);
      String city = text(b);
      List<String> stored = USERS.get(id);
      assertThat(email).isNotNull().isNotEqualTo(stored.get(0));
      assertThat(city).isEqualTo(stored.get(2));
      rows++;
    }
    assertThat(b.hasRemaining()).isFalse();
    assertThat(rows).isEqualTo(USERS.size());
    assertNoCanary(relay);
  }

  @Test
  void aCopiedQueryHasEveryColumnMaskedSinceItsRowsCarryNoOrigins() throws Exception {
    RecordingRelay relay = warden.relay();
    List<String> rows =
        lines(copy(warden.restricted(relay), "COPY (SELECT id, email FROM users) TO STDOUT"));
    assertThat(rows).hasSize(USERS.size());
    for (String row : rows) {
      String[] v = row.split("\t", -1);
      assertThat(v).hasSize(2);
      assertThat(USERS.values().stream().map(u -> u.get(0))).doesNotContain(v[1]);
    }
    assertNoCanary(relay);
  }

  @Test
  void aQueryOfNothingSensitiveIsCopiedAsItIs() throws Exception {
    List<String> rows =
        lines(
            copy(
                warden.restricted(warden.relay()),
                "COPY (SELECT id, city FROM users ORDER BY id) TO STDOUT"));
    List<String> expected = new ArrayList<>();
    USERS.forEach((id, u) -> expected.add(id + "\t" + u.get(2)));
    assertThat(rows).containsExactlyElementsOf(expected);
  }

  @Test
  void anExemptIdentityGetsTheRowsAsStored() throws Exception {
    List<String> rows =
        lines(
            copy(
                warden.auditor(warden.relay()),
                "COPY (SELECT id, email FROM users ORDER BY id) TO STDOUT (FORMAT csv)"));
    List<String> expected = new ArrayList<>();
    USERS.forEach((id, u) -> expected.add(id + "," + u.get(0)));
    assertThat(rows).containsExactlyElementsOf(expected);
  }

  @Test
  void aCopyWhoseStreamWardenCannotReadIsRefusedWithTheReason() {
    assertThatThrownBy(
            () ->
                copy(
                    warden.restricted(warden.relay()),
                    "COPY users (id, email) TO STDOUT (FORMAT csv, SOME_FUTURE_OPTION 1)"))
        .isInstanceOf(PSQLException.class)
        .hasMessageContaining("COPY option some_future_option")
        .hasMessageContaining("cannot read");
  }

  @Test
  void aCopyToAServerFileOfMaskedDataIsRefused() {
    assertThatThrownBy(
            () -> {
              try (Connection c = connect(warden.restricted(warden.relay()))) {
                c.createStatement().execute("COPY users (email) TO '/tmp/warden-copy-test.csv'");
              }
            })
        .isInstanceOf(PSQLException.class)
        .hasMessageContaining("a file or program");
  }

  /** The local part of a stored e-mail address. */
  private static String local(List<String> user) {
    return user.get(0).substring(0, user.get(0).indexOf('@'));
  }

  private static String text(ByteBuffer b) {
    int length = b.getInt();
    if (length < 0) {
      return null;
    }
    byte[] v = new byte[length];
    b.get(v);
    return new String(v, StandardCharsets.UTF_8);
  }

  /** No canary of the fixture, in any of its forms, reached the client through {@code relay}. */
  private static void assertNoCanary(RecordingRelay relay) {
    CanaryScanner scanner = CanaryScanner.of(fixture.canaries());
    List<CanaryScanner.Hit> hits = new ArrayList<>();
    for (RecordingRelay.Capture capture : relay.all()) {
      hits.addAll(scanner.scan(capture.bytes()));
    }
    assertThat(hits).isEmpty();
  }
}

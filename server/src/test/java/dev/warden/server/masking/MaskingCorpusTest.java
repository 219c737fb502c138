package dev.warden.server.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.warden.testkit.CanaryScanner;
import dev.warden.testkit.RecordingRelay;
import dev.warden.testkit.RecordingRelay.Capture;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * The masking bypass corpus (issue 5, "Proof"; THREATS M01-M20 with oracle O3): every case runs as
 * an identity that is not exempt, through pgjdbc (simple, extended, binary), psql and raw protocol
 * messages, each through a relay that keeps every byte Warden sends; those bytes are scanned for
 * every canary of the fixture in every form the scanner knows. Any hit fails the case, naming the
 * client, the canary, the form and the message it was in. A refusal is not a leak.
 *
 * <p>Controls keep the oracle honest: an exempt identity running the same cases does see canaries
 * (every canary of the fixture at least once), the restricted identity gets columns that are not
 * sensitive in clear, and a plain SELECT of masked columns returns the documented masked forms.
 */
class MaskingCorpusTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final List<Client> CLIENTS = List.of(Client.values());

  @TempDir static Path dir;

  private static MaskingFixture fixture;
  private static MaskingServer warden;
  private static CanaryScanner scanner;

  @BeforeAll
  static void start() throws Exception {
    fixture = MaskingFixture.create("warden_masking_" + MaskingFixture.suffix(RANDOM), RANDOM);
    scanner = CanaryScanner.of(fixture.canaries());
    warden = MaskingServer.start(fixture, dir, RANDOM, false);
  }

  @AfterAll
  static void stop() {
    if (warden != null) {
      warden.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  /** One case's result: what each client of the restricted identity saw, and the auditor. */
  private record Result(
      MaskingCase masking, Map<Client, Observation> restricted, Observation auditor) {
    List<String> leaks() {
      List<String> out = new ArrayList<>();
      restricted.forEach((client, o) -> o.leaks().forEach(l -> out.add(client + ": " + l)));
      return out;
    }

    String outcome() {
      if (!leaks().isEmpty()) {
        return "leaked";
      }
      long refused = restricted.values().stream().filter(Observation::refused).count();
      if (refused == restricted.size()) {
        return "refused";
      }
      if (refused > 0) {
        return "refused by some clients";
      }
      return auditor.canaries().isEmpty() ? "no sensitive data" : "masked";
    }
  }

  @TestFactory
  Stream<DynamicTest> noCanaryReachesARestrictedClient() throws Exception {
    List<MaskingCase> cases = MaskingCase.load();
    long started = System.nanoTime();

    // The exempt identity first, and alone: its notifications must not reach the restricted
    // listener opened below (that channel is tested on its own).
    Map<MaskingCase, Observation> auditor = new LinkedHashMap<>();
    try (Runner runner =
        new Runner(warden.auditor(), warden.auditorRelay(), List.of(Client.JDBC_SIMPLE))) {
      for (MaskingCase c : cases) {
        auditor.put(c, runner.run(c).get(Client.JDBC_SIMPLE));
      }
    }
    long auditorDone = System.nanoTime();

    List<Result> results = new ArrayList<>();
    try (Runner runner = new Runner(warden.restricted(), warden.restrictedRelay(), CLIENTS)) {
      runner.listen();
      for (MaskingCase c : cases) {
        results.add(new Result(c, runner.run(c), auditor.get(c)));
      }
    }
    long restrictedDone = System.nanoTime();
    List<CanaryScanner.Hit> anywhere = new ArrayList<>();
    List<String> anywhereText = new ArrayList<>();
    for (Capture capture : warden.restrictedRelay().all()) {
      for (CanaryScanner.Hit h : scanner.scan(capture.bytes())) {
        anywhere.add(h);
        anywhereText.add(h + " in " + capture.locate(h.offset()));
      }
    }
    summary(
        results, (auditorDone - started) / 1_000_000, (restrictedDone - auditorDone) / 1_000_000);

    Set<String> seenByAuditor = new LinkedHashSet<>();
    auditor.values().forEach(o -> seenByAuditor.addAll(o.canaries()));
    long casesWithCanariesForAuditor =
        auditor.values().stream().filter(o -> !o.canaries().isEmpty()).count();

    Stream<DynamicTest> perCase =
        results.stream()
            .map(
                r ->
                    dynamicTest(
                        r.masking().display(),
                        () ->
                            assertThat(r.leaks())
                                .as(
                                    "canaries Warden sent to the restricted identity for %s",
                                    r.masking().display())
                                .isEmpty()));
    Stream<DynamicTest> overall =
        Stream.of(
            dynamicTest(
                "no canary anywhere in any restricted client's stream (every byte, all sessions)",
                () -> assertThat(anywhereText).isEmpty()),
            dynamicTest(
                "control: the exempt identity sees every canary somewhere in the corpus",
                () ->
                    assertThat(seenByAuditor)
                        .containsExactlyInAnyOrderElementsOf(
                            fixture.canaries().stream().map(c -> c.name()).toList())),
            dynamicTest(
                "control: the exempt identity sees canaries in most cases",
                () -> assertThat(casesWithCanariesForAuditor).isGreaterThan(cases.size() / 2)),
            dynamicTest(
                "control: the restricted clients got rows back in most cases",
                () ->
                    assertThat(
                            results.stream()
                                .filter(
                                    r ->
                                        r.restricted().values().stream()
                                            .anyMatch(Observation::data))
                                .count())
                        .isGreaterThan(cases.size() / 3)));
    return Stream.concat(perCase, overall);
  }

  private static void summary(List<Result> results, long auditorMillis, long restrictedMillis) {
    Map<String, Map<String, Integer>> byRow = new TreeMap<>();
    Map<String, Integer> total = new TreeMap<>();
    for (Result r : results) {
      String outcome = r.outcome();
      byRow
          .computeIfAbsent(r.masking().row(), k -> new TreeMap<>())
          .merge(outcome, 1, Integer::sum);
      total.merge(outcome, 1, Integer::sum);
    }
    List<String> columns =
        List.of("leaked", "refused", "refused by some clients", "masked", "no sensitive data");
    StringBuilder sb = new StringBuilder();
    sb.append("\nMasking corpus: ")
        .append(results.size())
        .append(" cases x ")
        .append(CLIENTS.size())
        .append(" clients (")
        .append(restrictedMillis)
        .append(" ms), exempt identity pass ")
        .append(auditorMillis)
        .append(" ms\n");
    sb.append(
        String.format(
            "%-5s %6s %7s %8s %8s %7s %9s%n",
            "row", "cases", "leaked", "refused", "partly", "masked", "no-data"));
    byRow.forEach((row, counts) -> sb.append(line(row, counts, columns)));
    sb.append(line("all", total, columns));
    for (Result r : results) {
      if (!r.leaks().isEmpty()) {
        sb.append("LEAK ").append(r.masking().display()).append('\n');
        r.leaks().stream().limit(6).forEach(l -> sb.append("    ").append(l).append('\n'));
        if (r.leaks().size() > 6) {
          sb.append("    ... ").append(r.leaks().size() - 6).append(" more\n");
        }
      }
    }
    System.out.println(sb);
  }

  private static String line(String row, Map<String, Integer> counts, List<String> columns) {
    int cases = counts.values().stream().mapToInt(Integer::intValue).sum();
    return String.format(
        "%-5s %6d %7d %8d %8d %7d %9d%n",
        row,
        cases,
        counts.getOrDefault(columns.get(0), 0),
        counts.getOrDefault(columns.get(1), 0),
        counts.getOrDefault(columns.get(2), 0),
        counts.getOrDefault(columns.get(3), 0),
        counts.getOrDefault(columns.get(4), 0));
  }

  /** Cities and notes are not sensitive: the restricted identity reads them as they are. */
  @Test
  void restrictedIdentityReadsColumnsThatAreNotSensitiveInClear() throws Exception {
    try (JdbcCaseSession s = JdbcCaseSession.open(Client.JDBC_EXTENDED, warden.restricted());
        Statement st = s.connection().createStatement();
        ResultSet r = st.executeQuery("SELECT id, city, notes FROM users ORDER BY id")) {
      List<String> cities = new ArrayList<>();
      List<String> notes = new ArrayList<>();
      while (r.next()) {
        cities.add(r.getString(2));
        notes.add(r.getString(3));
      }
      assertThat(cities).isEqualTo(MaskingFixture.CITIES);
      assertThat(notes).isEqualTo(fixture.notes());
    }
  }

  /**
   * A plain read of masked columns returns each strategy's documented form: the e-mail's domain,
   * the card's and the IBAN's last four (and the IBAN's country), the phone's last two digits, the
   * year of birth; redacted and nulled columns show nothing of the value.
   */
  @Test
  void plainSelectReturnsTheDocumentedMaskedForms() throws Exception {
    try (JdbcCaseSession s = JdbcCaseSession.open(Client.JDBC_EXTENDED, warden.restricted());
        Statement st = s.connection().createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT id, email, card_number, iban, phone, date_of_birth::text, ssn, full_name,"
                    + " password FROM users ORDER BY id")) {
      int rows = 0;
      while (r.next()) {
        rows++;
        String p = "users#" + r.getInt(1) + ".";
        String email = r.getString(2);
        assertThat(email)
            .endsWith("@example.com")
            .isNotEqualTo(fixture.canary(p + "email").value());
        assertThat(scanner.scan(email.getBytes())).isEmpty();
        String card = fixture.canary(p + "card_number").value();
        assertThat(r.getString(3)).endsWith(card.substring(12)).isNotEqualTo(card);
        String iban = fixture.canary(p + "iban").value();
        assertThat(r.getString(4))
            .startsWith("DE")
            .endsWith(iban.substring(iban.length() - 4))
            .isNotEqualTo(iban);
        String phone = fixture.canary(p + "phone").value();
        assertThat(r.getString(5))
            .endsWith(phone.substring(phone.length() - 2))
            .isNotEqualTo(phone);
        String dob = fixture.canary(p + "date_of_birth").value();
        assertThat(r.getString(6)).startsWith(dob.substring(0, 4)).isNotEqualTo(dob);
        for (int column : new int[] {3, 4, 5, 6, 7, 8}) {
          String value = r.getString(column);
          if (value != null) {
            assertThat(scanner.scan(value.getBytes())).as("column %d: %s", column, value).isEmpty();
          }
        }
        assertThat(r.getString(9)).as("password").isNull();
      }
      assertThat(rows).isEqualTo(MaskingFixture.CITIES.size());
    }
  }

  /**
   * NOTIFY is broadcast: an exempt identity's notification reaches every session listening on the
   * channel, a restricted identity's too, whose stream must not carry the canary (THREATS M10:
   * NotificationResponse is scrubbed for masked sessions).
   */
  @Test
  void anExemptIdentitysNotificationReachesARestrictedListenerScrubbed() throws Exception {
    RecordingRelay relay = warden.restrictedRelay();
    try (JdbcCaseSession listener = JdbcCaseSession.open(Client.JDBC_SIMPLE, warden.restricted());
        JdbcCaseSession notifier = JdbcCaseSession.open(Client.JDBC_SIMPLE, warden.auditor())) {
      Connection l = listener.connection();
      try (Statement st = l.createStatement()) {
        st.execute("LISTEN exempt_channel");
      }
      RecordingRelay.Mark mark = relay.mark();
      try (Statement st = notifier.connection().createStatement()) {
        st.execute("SELECT pg_notify('exempt_channel', email) FROM users");
      }
      int received = 0;
      long deadline = System.nanoTime() + 2_000_000_000L;
      while (received < MaskingFixture.CITIES.size() && System.nanoTime() < deadline) {
        try (Statement st = l.createStatement()) {
          st.execute("SELECT 1");
        }
        var n = l.unwrap(PGConnection.class).getNotifications(100);
        received += n == null ? 0 : n.length;
      }
      Observation o = Observation.of(Client.JDBC_SIMPLE, relay.since(mark), scanner, List.of());
      assertThat(received).as("notifications delivered").isEqualTo(MaskingFixture.CITIES.size());
      assertThat(o.leaks()).isEmpty();
    }
  }

  /** Runs cases through several clients of one identity, each in a session of its own. */
  private static final class Runner implements AutoCloseable {
    private final CaseSession.Login login;
    private final RecordingRelay relay;
    private final List<Client> clients;
    private final Map<Client, CaseSession> sessions = new EnumMap<>(Client.class);
    private JdbcCaseSession listener;

    Runner(CaseSession.Login login, RecordingRelay relay, List<Client> clients) {
      this.login = login;
      this.relay = relay;
      this.clients = clients;
    }

    /** A second session of the same identity listening on channel {@code leak} (THREATS M10). */
    void listen() throws SQLException {
      listener = JdbcCaseSession.open(Client.JDBC_SIMPLE, login);
      try (Statement st = listener.connection().createStatement()) {
        st.execute("LISTEN leak");
      }
    }

    Map<Client, Observation> run(MaskingCase c) {
      Map<Client, Observation> out = new EnumMap<>(Client.class);
      for (Client client : clients) {
        CaseSession session = sessions.get(client);
        if (session == null || !session.usable()) {
          if (session != null) {
            session.close();
          }
          session = CaseSession.open(client, login);
          sessions.put(client, session);
        }
        RecordingRelay.Mark mark = relay.mark();
        List<String> problems = new ArrayList<>(session.run(c.statements()));
        if (c.notifies() && listener != null) {
          drainNotifications(problems);
        }
        out.put(client, Observation.of(client, relay.since(mark), scanner, problems));
        if (c.changesSession() || !session.usable()) {
          session.close();
          sessions.remove(client);
        }
      }
      return out;
    }

    private void drainNotifications(List<String> problems) {
      try (Statement st = listener.connection().createStatement()) {
        st.execute("SELECT 1");
        listener.connection().unwrap(PGConnection.class).getNotifications(50);
      } catch (SQLException e) {
        problems.add("listener: " + e.getMessage());
      }
    }

    @Override
    public void close() {
      sessions.values().forEach(CaseSession::close);
      if (listener != null) {
        listener.close();
      }
    }
  }
}

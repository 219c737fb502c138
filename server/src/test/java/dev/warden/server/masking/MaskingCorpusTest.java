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

  /** Time spent per client, for the summary. */
  private static final Map<String, Long> LANE_NANOS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Every relay a restricted session went through: all of it is scanned at the end. */
  private static final List<RecordingRelay> restrictedRelays =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    fixture = MaskingFixture.create("warden_masking_" + MaskingFixture.suffix(RANDOM), RANDOM);
    scanner = CanaryScanner.of(fixture.canaries());
    warden = MaskingServer.start(fixture, dir, RANDOM, false);
  }

  /** A restricted login through a relay of its own, whose bytes the final scan covers. */
  private static CaseSession.Login restricted() throws java.io.IOException {
    RecordingRelay relay = warden.relay();
    restrictedRelays.add(relay);
    return warden.restricted(relay);
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
      MaskingCase masking, Map<String, Observation> restricted, Observation auditor) {
    List<String> leaks() {
      List<String> out = new ArrayList<>();
      restricted.forEach((client, o) -> o.leaks().forEach(l -> out.add(client + ": " + l)));
      return out;
    }

    String outcome() {
      if (!leaks().isEmpty()) {
        return "leaked";
      }
      long clients = restricted.keySet().stream().filter(k -> !k.equals(Runner.LISTENER)).count();
      long refused = restricted.values().stream().filter(Observation::refused).count();
      if (refused >= clients) {
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
    try (Runner runner = new Runner(false, List.of(Client.JDBC_SIMPLE))) {
      for (MaskingCase c : cases) {
        auditor.put(c, runner.run(c).get(Client.JDBC_SIMPLE.name()));
      }
    }
    long auditorDone = System.nanoTime();

    List<Result> results = new ArrayList<>();
    try (Runner runner = new Runner(true, CLIENTS)) {
      runner.listen();
      for (MaskingCase c : cases) {
        results.add(new Result(c, runner.run(c), auditor.get(c)));
      }
    }
    long restrictedDone = System.nanoTime();
    List<String> anywhere = new ArrayList<>();
    for (RecordingRelay relay : restrictedRelays) {
      for (Capture capture : relay.all()) {
        for (CanaryScanner.Hit h : scanner.scan(capture.bytes())) {
          anywhere.add(h + " in " + capture.locate(h.offset()));
        }
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
                () -> assertThat(anywhere).isEmpty()),
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
        .append(" ms; time per client (both identities):");
    new TreeMap<>(LANE_NANOS)
        .forEach(
            (k, v) -> sb.append(' ').append(k).append(' ').append(v / 1_000_000).append(" ms"));
    sb.append('\n');
    sb.append(
        String.format(
            "%-5s %6s %7s %8s %8s %7s %9s%n",
            "row", "cases", "leaked", "refused", "partly", "masked", "no-data"));
    byRow.forEach((row, counts) -> sb.append(line(row, counts, columns)));
    sb.append(line("all", total, columns));
    for (Result r : results) {
      if (r.outcome().equals("refused by some clients")) {
        sb.append("PARTLY REFUSED ")
            .append(r.masking().display())
            .append(": refused by ")
            .append(
                r.restricted().values().stream()
                    .filter(Observation::refused)
                    .map(Observation::client)
                    .toList())
            .append('\n');
      }
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
    try (JdbcCaseSession s = JdbcCaseSession.open(Client.JDBC_EXTENDED, restricted());
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
   * A plain read of masked columns returns each default strategy's documented form
   * (docs/masking.md): {@code partial} keeps the e-mail's domain, the card's last four digits, the
   * IBAN's country and last four, the phone's last two digits and the year of birth; {@code redact}
   * gives the kind's marker; {@code null} gives NULL.
   */
  @Test
  void plainSelectReturnsTheDocumentedMaskedForms() throws Exception {
    try (JdbcCaseSession s = JdbcCaseSession.open(Client.JDBC_EXTENDED, restricted());
        Statement st = s.connection().createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT id, email, card_number, iban, phone, date_of_birth, ssn, full_name,"
                    + " password, api_token FROM users ORDER BY id")) {
      int rows = 0;
      while (r.next()) {
        rows++;
        String p = "users#" + r.getInt(1) + ".";
        assertThat(r.getString(2)).as("email").isEqualTo("****@example.com");
        String card = fixture.canary(p + "card_number").value();
        assertThat(r.getString(3)).as("card").isEqualTo("*".repeat(12) + card.substring(12));
        String iban = fixture.canary(p + "iban").value();
        assertThat(r.getString(4))
            .as("iban")
            .isEqualTo("DE" + "*".repeat(iban.length() - 6) + iban.substring(iban.length() - 4));
        String phone = fixture.canary(p + "phone").value();
        assertThat(r.getString(5))
            .as("phone")
            .isEqualTo("+" + "*".repeat(phone.length() - 3) + phone.substring(phone.length() - 2));
        String dob = fixture.canary(p + "date_of_birth").value();
        assertThat(r.getString(6)).as("date of birth").isEqualTo(dob.substring(0, 4) + "-01-01");
        assertThat(r.getString(7)).as("ssn").isEqualTo("[national_id]");
        assertThat(r.getString(8)).as("full name").isEqualTo("[person_name]");
        assertThat(r.getString(9)).as("password").isNull();
        assertThat(r.getString(10)).as("api token").isEqualTo("[api_token]");
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
    RecordingRelay relay = warden.relay();
    restrictedRelays.add(relay);
    try (JdbcCaseSession listener =
            JdbcCaseSession.open(Client.JDBC_SIMPLE, warden.restricted(relay));
        JdbcCaseSession notifier =
            JdbcCaseSession.open(Client.JDBC_SIMPLE, warden.auditor(warden.relay()))) {
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
      Observation o = Observation.of("listener", relay.since(mark), scanner, List.of());
      assertThat(received).as("notifications delivered").isEqualTo(MaskingFixture.CITIES.size());
      assertThat(o.leaks()).isEmpty();
    }
  }

  /**
   * Runs cases through several clients of one identity at once, each client in a session of its own
   * behind a relay of its own (so the bytes each receives stay apart while their statements share
   * Warden's audit group commits), and a second session of the identity listening on channel {@code
   * leak} (THREATS M10).
   */
  private static final class Runner implements AutoCloseable {
    static final String LISTENER = "LISTENER";

    private final List<Lane> lanes = new ArrayList<>();
    private final java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
    private RecordingRelay listenerRelay;
    private JdbcCaseSession listener;

    Runner(boolean restricted, List<Client> clients) throws java.io.IOException {
      for (Client client : clients) {
        RecordingRelay relay = warden.relay();
        lanes.add(
            new Lane(client, relay, restricted ? warden.restricted(relay) : warden.auditor(relay)));
      }
      if (restricted) {
        restrictedRelays.addAll(lanes.stream().map(Lane::relay).toList());
      }
    }

    void listen() throws Exception {
      listenerRelay = warden.relay();
      restrictedRelays.add(listenerRelay);
      listener = JdbcCaseSession.open(Client.JDBC_SIMPLE, warden.restricted(listenerRelay));
      try (Statement st = listener.connection().createStatement()) {
        st.execute("LISTEN leak");
      }
    }

    /** What each client saw, by client name, and the listener's notifications under LISTENER. */
    Map<String, Observation> run(MaskingCase c) throws Exception {
      RecordingRelay.Mark listened = listenerRelay == null ? null : listenerRelay.mark();
      List<java.util.concurrent.Future<Observation>> running = new ArrayList<>();
      for (Lane lane : lanes) {
        running.add(pool.submit(() -> lane.run(c)));
      }
      Map<String, Observation> out = new LinkedHashMap<>();
      for (var f : running) {
        Observation o = f.get();
        out.put(o.client(), o);
      }
      if (listener != null && c.notifies()) {
        List<String> problems = new ArrayList<>();
        try (Statement st = listener.connection().createStatement()) {
          st.execute("SELECT 1");
          listener.connection().unwrap(PGConnection.class).getNotifications(50);
        } catch (SQLException e) {
          problems.add("listener: " + e.getMessage());
        }
        out.put(
            LISTENER, Observation.of(LISTENER, listenerRelay.since(listened), scanner, problems));
      }
      return out;
    }

    @Override
    public void close() {
      pool.shutdown();
      lanes.forEach(Lane::close);
      if (listener != null) {
        listener.close();
      }
    }
  }

  /** One client of one identity: its relay, its login and its current session. */
  private record Lane(
      Client client, RecordingRelay relay, CaseSession.Login login, CaseSession[] session) {
    Lane(Client client, RecordingRelay relay, CaseSession.Login login) {
      this(client, relay, login, new CaseSession[1]);
    }

    Observation run(MaskingCase c) {
      long started = System.nanoTime();
      try {
        return runTimed(c);
      } finally {
        LANE_NANOS.merge(client.name(), System.nanoTime() - started, Long::sum);
      }
    }

    private Observation runTimed(MaskingCase c) {
      CaseSession s = session[0];
      if (s == null || !s.usable()) {
        if (s != null) {
          s.close();
        }
        s = CaseSession.open(client, login);
        session[0] = s;
      }
      RecordingRelay.Mark mark = relay.mark();
      List<String> problems = s.run(c.statements());
      Observation o = Observation.of(client.name(), relay.since(mark), scanner, problems);
      if (!s.usable() || (c.changesSession() && !s.reconnectInPlace())) {
        s.close();
        session[0] = null;
      }
      return o;
    }

    void close() {
      if (session[0] != null) {
        session[0].close();
      }
    }
  }
}

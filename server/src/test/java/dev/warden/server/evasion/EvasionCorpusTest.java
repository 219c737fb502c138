package dev.warden.server.evasion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.evasion.CaseRunner.Observation;
import dev.warden.server.evasion.Seed.Expect;
import dev.warden.server.policy.PolicyFile;
import dev.warden.testkit.AuditedPostgres;
import dev.warden.testkit.AuditedPostgres.AuditEntry;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * The evasion corpus (issue 3, "Proof"; THREATS G01-G20, S01, S03, S04, S06) through the real
 * composition root with the default policy, judged by what the database itself executed: pgaudit on
 * a throwaway cluster ({@link AuditedPostgres}), never Warden's word. In the environment tagged
 * {@code production}, nothing denied may execute (the client gets 42501, the session still works,
 * pgaudit shows nothing of it, the fixture is unchanged) and nothing allowed may be refused (it
 * runs, and pgaudit shows it ran). In an untagged environment the denied seeds run.
 */
class EvasionCorpusTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String USER = "mallory";
  private static final String PASSWORD = "evasion " + HexFormat.of().formatHex(bytes(8));
  private static final Duration T = Duration.ofSeconds(10);

  @TempDir static Path dir;

  private static AuditedPostgres pg;
  private static EvasionFixture production;
  private static EvasionFixture staging;
  private static WardenServer server;
  private static Connection victim;

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  @BeforeAll
  static void start() throws Exception {
    pg = AuditedPostgres.shared();
    String suffix = HexFormat.of().formatHex(bytes(6));
    production = EvasionFixture.create(pg, "evasion_prod_" + suffix);
    staging = EvasionFixture.create(pg, "evasion_staging_" + suffix);
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            new TlsConfig(Optional.empty(), Optional.empty(), false),
            List.of(
                new Environment(
                    "prod", Set.of("production"), List.of("prod"), upstream(production)),
                new Environment("staging", Set.of(), List.of("staging"), upstream(staging))));
    // The default policy, with the test's identity exempt from masking: this corpus is about
    // guardrails, and its canary table's secret column would otherwise be masked and its DO, CALL
    // and lineage cases refused by masking rather than judged by the guardrails.
    String policy;
    try (var in =
        PolicyFile.class.getResourceAsStream("/dev/warden/server/policy/default-policy.yaml")) {
      policy = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String noExemption = "\n  exempt: []";
    assertThat(policy).contains(noExemption);
    Path policyFile = dir.resolve("policy.yaml");
    Files.writeString(policyFile, policy.replace(noExemption, "\n  exempt: [{group: dev}]"));
    config = config.withPolicy(policyFile);
    server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    server
        .users()
        .put(
            new LocalUser(
                USER,
                Set.of("dev"),
                ScramCredentials.derive(Secret.of(PASSWORD), RANDOM, 4096),
                Instant.now()));
    victim = pg.connect(production.database(), "warden-evasion-victim");
  }

  private static Upstream upstream(EvasionFixture fixture) {
    return new Upstream(
        "127.0.0.1",
        pg.port(),
        Optional.of(fixture.database()),
        pg.superuser(),
        Secret.of(""),
        TlsMode.DISABLE,
        Optional.empty());
  }

  @BeforeEach
  void freshFixture() throws SQLException {
    production.reset();
  }

  @AfterAll
  static void stop() throws SQLException {
    if (victim != null) {
      victim.close();
    }
    if (server != null) {
      server.close();
    }
    if (production != null) {
      production.close();
    }
    if (staging != null) {
      staging.close();
    }
  }

  @TestFactory
  Stream<DynamicTest> productionCorpus() throws Exception {
    List<EvasionCase> cases = EvasionCorpus.cases();
    List<Observation> observations = new ArrayList<>();
    long started = System.nanoTime();
    try (CaseRunner runner = new CaseRunner(port(), "prod", USER, PASSWORD, production)) {
      for (EvasionCase c : cases) {
        observations.add(runner.run(c, "evasion-" + c.id()));
      }
    }
    pg.flush();
    List<String> problems =
        observations.stream().map(o -> problems(o, entriesOf(o.application()))).toList();
    report(cases, observations, problems, Duration.ofNanos(System.nanoTime() - started));
    Stream<DynamicTest> corpus =
        IntStream.range(0, cases.size())
            .mapToObj(
                i ->
                    dynamicTest(
                        cases.get(i).displayName(),
                        () -> assertThat(problems.get(i)).as(cases.get(i).displayName()).isNull()));
    return Stream.concat(
        corpus,
        Stream.of(
            dynamicTest(
                "no backend was signalled (the victim session still answers)",
                () -> {
                  try (Statement s = victim.createStatement();
                      ResultSet r = s.executeQuery("SELECT 1")) {
                    assertThat(r.next()).isTrue();
                  }
                })));
  }

  @TestFactory
  Stream<DynamicTest> stagingRunsWhatProductionRefuses() throws Exception {
    List<Seed> sample = EvasionCorpus.stagingSample(Seed.load());
    assertThat(sample).hasSizeGreaterThanOrEqualTo(10);
    List<Observation> observations = new ArrayList<>();
    try (CaseRunner runner = new CaseRunner(port(), "staging", USER, PASSWORD, staging)) {
      for (Seed s : sample) {
        staging.reset();
        Seed allowed = new Seed(s.line(), Expect.ALLOW, s.threat(), s.flags(), 1, s.sql());
        EvasionCase c = new EvasionCase(s.line(), allowed, "staging", s.sql(), Delivery.SIMPLE, 1);
        observations.add(runner.run(c, "evasion-staging-" + s.line()));
      }
    }
    staging.reset();
    pg.flush();
    return observations.stream()
        .map(
            o ->
                dynamicTest(
                    "staging: " + EvasionCase.printable(o.evasionCase().sql()),
                    () -> {
                      assertThat(o.errors()).as("errors").isEmpty();
                      assertThat(o.alive()).doesNotStartWith("not usable");
                      assertThat(
                              executed(
                                  o.evasionCase(), o.application(), entriesOf(o.application())))
                          .as("what pgaudit saw executed")
                          .isNotEmpty();
                    }));
  }

  // ---------------------------------------------------------------- protocol-level cases

  /** THREATS G11: Parse S1 (SELECT) → Close S1 → Parse S1 (DELETE) → Bind/Execute S1. */
  @Test
  void reusingAStatementNameDoesNotSmuggleADelete() throws Exception {
    String app = "evasion-g11-close-reparse";
    List<String> before = production.snapshot();
    try (RawWire wire = login(app)) {
      wire.write(Packets.parse("s1", "SELECT 1"), Packets.sync());
      assertThat(kinds(wire.readThrough('Z', T))).containsExactly('1', 'Z');
      wire.write(
          close('S', "s1"),
          Packets.parse("s1", "DELETE FROM canary"),
          Packets.bind("", "s1"),
          Packets.execute("", 0),
          Packets.sync());
      List<WireMessage> replies = wire.readThrough('Z', T);
      assertThat(sqlStates(replies)).contains("42501");
      assertAlive(wire);
    }
    assertNothingExecuted(app, "DELETE");
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /** THREATS G11: the unnamed statement overwritten within one pipeline. */
  @Test
  void overwritingTheUnnamedStatementInAPipelineIsJudgedAgain() throws Exception {
    String app = "evasion-g11-unnamed";
    List<String> before = production.snapshot();
    try (RawWire wire = login(app)) {
      wire.write(
          Packets.parse("", "SELECT 1"),
          Packets.bind("", ""),
          Packets.execute("", 0),
          Packets.parse("", "DELETE FROM canary"),
          Packets.bind("", ""),
          Packets.execute("", 0),
          Packets.sync());
      assertThat(sqlStates(wire.readThrough('Z', T))).contains("42501");
      assertAlive(wire);
    }
    assertNothingExecuted(app, "DELETE");
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /** THREATS G11: a portal bound from a statement that is re-parsed under the same name. */
  @Test
  void executingAPreparedStatementAgainAfterItsNameWasReusedRunsTheNewOneOnlyIfAllowed()
      throws Exception {
    String app = "evasion-g11-rebind";
    List<String> before = production.snapshot();
    try (RawWire wire = login(app)) {
      wire.write(
          Packets.parse("s2", "SELECT id FROM canary WHERE id = 1"),
          Packets.bind("p", "s2"),
          Packets.execute("p", 0),
          Packets.sync());
      assertThat(sqlStates(wire.readThrough('Z', T))).isEmpty();
      wire.write(
          close('S', "s2"),
          Packets.parse("s2", "TRUNCATE canary"),
          Packets.sync(),
          Packets.bind("p", "s2"),
          Packets.execute("p", 0),
          Packets.sync());
      List<WireMessage> replies = new ArrayList<>(wire.readThrough('Z', T));
      replies.addAll(wire.readThrough('Z', T));
      assertThat(sqlStates(replies)).contains("42501");
      assertAlive(wire);
    }
    assertNothingExecuted(app, "TRUNCATE TABLE");
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /** THREATS G01 with the Query split into one-byte TCP segments. */
  @Test
  void aQuerySplitIntoOneByteSegmentsIsStillJudgedWhole() throws Exception {
    String app = "evasion-split-query";
    List<String> before = production.snapshot();
    try (RawWire wire = login(app)) {
      byte[] query = Packets.query("SELECT 1; DROP TABLE canary");
      wire.writeSplit(query, Duration.ofMillis(1), IntStream.range(1, query.length).toArray());
      assertThat(sqlStates(wire.readThrough('Z', T))).containsExactly("42501");
      byte[] parse =
          Packets.concat(
              Packets.parse("", "DELETE FROM canary"),
              Packets.bind("", ""),
              Packets.execute("", 0),
              Packets.sync());
      wire.writeSplit(parse, Duration.ofMillis(1), IntStream.range(1, parse.length).toArray());
      assertThat(sqlStates(wire.readThrough('Z', T))).contains("42501");
      assertAlive(wire);
    }
    assertNothingExecuted(app, "DROP TABLE", "DELETE");
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /**
   * THREATS G12: a FunctionCall message runs lo_create by OID with no SQL text. pgaudit does not
   * log fast-path calls, so the oracle here is the server's large object catalogue.
   */
  @Test
  void aFunctionCallByOidIsRefused() throws Exception {
    int loCreate;
    try (Statement s = production.direct().createStatement();
        ResultSet r = s.executeQuery("SELECT 'lo_create(oid)'::regprocedure::oid::int")) {
      r.next();
      loCreate = r.getInt(1);
    }
    List<String> before = production.snapshot();
    try (RawWire wire = login("evasion-g12-raw")) {
      wire.write(Packets.functionCall(loCreate, "0"));
      assertThat(sqlStates(wire.readThrough('Z', T))).containsExactly("42501");
      assertAlive(wire);
    }
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /** THREATS G12 through pgjdbc's LargeObjectManager, which calls lo_creat by FunctionCall. */
  @Test
  void pgjdbcsLargeObjectApiIsRefused() throws Exception {
    List<String> before = production.snapshot();
    Properties p = new Properties();
    p.setProperty("user", USER);
    p.setProperty("password", PASSWORD);
    p.setProperty("sslmode", "disable");
    p.setProperty("ApplicationName", "evasion-g12-jdbc");
    List<String> states = new ArrayList<>();
    try (Connection c =
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/prod", p)) {
      c.setAutoCommit(false);
      try {
        c.unwrap(PGConnection.class).getLargeObjectAPI().createLO();
        c.commit();
      } catch (SQLException e) {
        states.add(e.getSQLState());
        c.rollback();
      }
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery(CaseRunner.ALIVE)) {
        assertThat(r.next()).isTrue();
      }
    }
    assertThat(states).containsExactly("42501");
    assertThat(production.snapshot()).isEqualTo(before);
  }

  /**
   * THREATS S03: after {@code SET standard_conforming_strings = off} the server reads {@code \'} as
   * an escaped quote, so a text that PostgreSQL's parser (always standard strings) reads as one
   * SELECT of a string runs a DROP on the server. Warden must follow the setting or refuse.
   */
  @Test
  void nonAsciiTextInAnEncodingWhoseBytesCanHideAQuoteIsRefused() throws Exception {
    // In SJIS the second byte of 表 (0x95 0x5C) is a backslash: whether a quote after it ends the
    // string depends on lexing the bytes as SJIS. Warden does not follow such text (THREATS S03,
    // G20): it is refused in production, and ASCII text still runs.
    String app = "evasion-s03-sjis";
    List<String> before = production.snapshot();
    List<String> states;
    List<String> ascii;
    try (RawWire wire = login(app)) {
      wire.write(Packets.query("SET client_encoding = 'SJIS'"));
      assertThat(sqlStates(wire.readThrough('Z', T))).isEmpty();
      byte[] head = "SELECT '".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      // Harmless as the server reads it: refused only because Warden will not vouch for its lexing.
      byte[] tail = "'".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      byte[] sql = new byte[head.length + 2 + tail.length + 1];
      System.arraycopy(head, 0, sql, 0, head.length);
      sql[head.length] = (byte) 0x95;
      sql[head.length + 1] = (byte) 0x5C;
      System.arraycopy(tail, 0, sql, head.length + 2, tail.length);
      wire.write(Packets.typed('Q', sql));
      states = sqlStates(wire.readThrough('Z', T));
      wire.write(Packets.query("SELECT 1"));
      ascii = sqlStates(wire.readThrough('Z', T));
      assertAlive(wire);
    }
    assertThat(states).containsExactly("42501");
    assertThat(ascii).isEmpty();
    assertThat(production.snapshot()).isEqualTo(before);
  }

  @Test
  void aBackslashAfterTurningOffStandardStringsDoesNotHideADrop() throws Exception {
    String app = "evasion-s03-scs";
    List<String> before = production.snapshot();
    List<String> setStates;
    List<String> states;
    try (RawWire wire = login(app)) {
      wire.write(Packets.query("SET standard_conforming_strings = off"));
      setStates = sqlStates(wire.readThrough('Z', T));
      wire.write(Packets.query("SELECT 'x\\''; DROP TABLE canary; --'"));
      states = sqlStates(wire.readThrough('Z', T));
      assertAlive(wire);
    }
    assertNothingExecuted(app, "DROP TABLE");
    assertThat(production.snapshot()).isEqualTo(before);
    if (setStates.isEmpty()) {
      assertThat(states).as("the refusal after the setting was allowed").containsExactly("42501");
    }
  }

  // ---------------------------------------------------------------- the oracle

  /**
   * What the server executed for a case: every entry of the sessions that ran under the case's
   * application name, from the case's first entry up to the next case's. Entries after a RESET ALL
   * or DISCARD ALL carry the session's original name (the pooled upstream's first client), so the
   * session id, not the name, delimits a case.
   */
  private static List<AuditEntry> entriesOf(String application) {
    List<AuditEntry> result = new ArrayList<>();
    Set<String> sessions = new java.util.LinkedHashSet<>();
    pg.entriesFor(application).forEach(e -> sessions.add(e.sessionId()));
    for (String session : sessions) {
      boolean inside = false;
      for (AuditEntry e : pg.entriesOfSession(session)) {
        String name = e.applicationName();
        if (name.equals(application)) {
          inside = true;
        } else if (inside && !name.isEmpty()) {
          // the session moved on: another case, or the pooled upstream serving another client
          break;
        }
        if (inside) {
          result.add(e);
        }
      }
    }
    return result;
  }

  private static String problems(Observation o, List<AuditEntry> entries) {
    EvasionCase c = o.evasionCase();
    List<AuditEntry> executed = executed(c, o.application(), entries);
    List<String> problems = new ArrayList<>();
    if (!o.alive().equals("postgres/postgres")) {
      problems.add("session afterwards: " + o.alive());
    }
    if (c.expect() == Expect.DENY) {
      if (o.errors().stream().noneMatch(EvasionCorpusTest::refusedByWarden)) {
        problems.add(
            "NOT REFUSED by Warden; client saw "
                + (o.errors().isEmpty() ? "success" : String.join(" | ", o.errors())));
      }
      if (!executed.isEmpty()) {
        problems.add("the server EXECUTED " + describe(executed));
      }
      if (!o.before().equals(o.after())) {
        List<String> changed = new ArrayList<>(o.after());
        changed.removeAll(o.before());
        problems.add("the fixture changed: " + changed);
      }
    } else {
      if (!o.errors().isEmpty()) {
        problems.add("REFUSED or failed: " + String.join(" | ", o.errors()));
      }
      if (executed.isEmpty()) {
        problems.add(
            "pgaudit shows nothing of it executed (the session's entries: "
                + describe(entries)
                + ")"
                + debugSessions(o.application()));
      }
    }
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  /**
   * A refusal by Warden: 42501, or 0A000 for a statement under the default policy's production row
   * limit that shares its query string or pipeline with transaction control, which Warden cannot
   * guard and so refuses before anything of it runs.
   */
  static boolean refusedByWarden(String error) {
    return error.startsWith("42501")
        || (error.startsWith("0A000") && error.contains("Warden refused this statement"));
  }

  /** Warden's own statements around a row-limited change (see the proxy's RowGuard). */
  private static boolean rowGuard(AuditEntry e) {
    return ROW_GUARD.contains(normal(e.statement()));
  }

  private static final Set<String> ROW_GUARD =
      Set.of(
          "BEGIN; SAVEPOINT warden_row_guard",
          "SAVEPOINT warden_row_guard",
          "RELEASE SAVEPOINT warden_row_guard",
          "ROLLBACK TO SAVEPOINT warden_row_guard; SELECT 1/0");

  /** The audit entries of a case that are not the runner's own statements. */
  static List<AuditEntry> executed(EvasionCase c, String application, List<AuditEntry> entries) {
    Set<String> own =
        Set.of(
            normal(CaseRunner.ALIVE),
            normal(CaseRunner.ROLLBACK),
            normal(CaseRunner.PRELUDE),
            normal("SET application_name = '" + application + "'"));
    boolean split =
        c.delivery() == Delivery.EXTENDED
            || c.delivery() == Delivery.NAMED
            || c.delivery() == Delivery.BATCH;
    List<String> allowedBefore =
        split ? c.allowedPrefix().stream().map(EvasionCorpusTest::normal).toList() : List.of();
    // Warden's BEGIN that opens a row guard's transaction is the entry just before its SAVEPOINT.
    Set<AuditEntry> guard = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (int i = 0; i < entries.size(); i++) {
      AuditEntry e = entries.get(i);
      if (rowGuard(e)) {
        guard.add(e);
        if (i > 0 && normal(entries.get(i - 1).statement()).equals("BEGIN")) {
          guard.add(entries.get(i - 1));
        }
      }
    }
    return entries.stream()
        .filter(e -> !guard.contains(e))
        .filter(e -> !own.contains(normal(e.statement())))
        // Warden's own read of the catalogue, at the start of a session when it has none current
        .filter(e -> !e.statement().startsWith("/* warden: catalogue */"))
        .filter(
            e ->
                !e.command().equals("DISCARD ALL")
                    || CaseRunner.hasWord(c.sql(), Set.of("discard")))
        .filter(
            e ->
                c.delivery() != Delivery.SQL_PREPARE
                    || !(e.command().equals("PREPARE") || e.command().equals("DEALLOCATE")))
        .filter(e -> !allowedBefore.contains(normal(e.statement())))
        .toList();
  }

  private static String normal(String sql) {
    String s = SqlTokens.trim(sql.replaceAll("[ \\t\\n\\r\\f]+", " "));
    while (s.endsWith(";")) {
      s = SqlTokens.trim(s.substring(0, s.length() - 1));
    }
    return s;
  }

  private static String debugSessions(String application) {
    StringBuilder sb = new StringBuilder();
    pg.entriesFor(application).stream()
        .map(AuditEntry::sessionId)
        .distinct()
        .forEach(
            id ->
                pg.entriesOfSession(id).stream()
                    .skip(Math.max(0, indexOf(id, application) - 1))
                    .limit(6)
                    .forEach(
                        e ->
                            sb.append(" {")
                                .append(e.applicationName())
                                .append(": ")
                                .append(e.command())
                                .append("}")));
    return sb.toString();
  }

  private static int indexOf(String session, String application) {
    List<AuditEntry> all = pg.entriesOfSession(session);
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).applicationName().equals(application)) {
        return i;
      }
    }
    return 0;
  }

  private static String describe(List<AuditEntry> entries) {
    return entries.stream()
        .map(
            e ->
                e.auditClass()
                    + " "
                    + e.command()
                    + " ["
                    + EvasionCase.printable(e.statement())
                    + "]")
        .distinct()
        .toList()
        .toString();
  }

  private static void report(
      List<EvasionCase> cases,
      List<Observation> observations,
      List<String> problems,
      Duration elapsed)
      throws IOException {
    StringBuilder sb = new StringBuilder();
    long failed = problems.stream().filter(p -> p != null).count();
    sb.append(
        String.format(
            Locale.ROOT,
            "evasion corpus: %d cases (%d deny, %d allow), %d failed, %d s%n",
            cases.size(),
            cases.stream().filter(c -> c.expect() == Expect.DENY).count(),
            cases.stream().filter(c -> c.expect() == Expect.ALLOW).count(),
            failed,
            elapsed.toSeconds()));
    for (int i = 0; i < cases.size(); i++) {
      if (problems.get(i) != null) {
        sb.append("FAIL ")
            .append(cases.get(i).displayName())
            .append("\n     ")
            .append(problems.get(i))
            .append('\n');
      }
    }
    Path out = Path.of("target", "evasion-report.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, sb.toString(), StandardCharsets.UTF_8);
    System.out.print(sb.substring(0, sb.indexOf("\n") + 1));
    System.out.println("evasion corpus: details in " + out.toAbsolutePath());
  }

  // ---------------------------------------------------------------- wire helpers

  private static int port() {
    return server.address().getPort();
  }

  private static RawWire login(String application) throws IOException {
    RawWire wire = RawWire.connect(server.address());
    wire.login(Map.of("user", USER, "database", "prod", "application_name", application), PASSWORD);
    return wire;
  }

  private static byte[] close(char what, String name) {
    return Packets.typed('C', Packets.body().int8(what).cstring(name).toByteArray());
  }

  private static List<Character> kinds(List<WireMessage> messages) {
    return messages.stream().map(WireMessage::kind).toList();
  }

  private static List<String> sqlStates(List<WireMessage> messages) {
    List<String> states = new ArrayList<>();
    for (WireMessage m : messages) {
      if (m.is('E')) {
        states.add(m.fields().getOrDefault('C', "?"));
      }
    }
    return states;
  }

  private static void assertAlive(RawWire wire) throws IOException {
    wire.write(Packets.query(CaseRunner.ROLLBACK + "; " + CaseRunner.ALIVE));
    List<WireMessage> replies = wire.readThrough('Z', T);
    assertThat(sqlStates(replies)).isEmpty();
    assertThat(replies.stream().filter(m -> m.is('D')).count()).isEqualTo(1);
  }

  private static void assertNothingExecuted(String application, String... commands) {
    pg.flush();
    assertThat(pg.entriesFor(application))
        .extracting(AuditEntry::command)
        .doesNotContainAnyElementsOf(List.of(commands));
  }
}

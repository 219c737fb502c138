package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.Secret;
import dev.warden.server.api.ApiDependencies;
import dev.warden.server.api.ApiServer;
import dev.warden.server.api.ChainingTrail;
import dev.warden.server.api.MemorySearch;
import dev.warden.server.api.MemoryUsers;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.audit.AuditLogSettings;
import dev.warden.store.audit.EmbeddedAuditTrail;
import dev.warden.store.postgres.PostgresAuditSettings;
import dev.warden.store.postgres.PostgresAuditTrail;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class AuditCommandTest {
  private static final Instant NOW = Instant.parse("2026-11-01T12:00:00Z");
  private static final String PASSWORD = "auditor password";

  @TempDir Path dir;
  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private final ChainingTrail trail = new ChainingTrail();
  private final MemorySearch search = new MemorySearch(clock, () -> trail.appended().size());
  private final AuditJson json = new AuditJson();
  private ApiServer api;

  @BeforeEach
  void start() throws Exception {
    MemoryUsers users =
        new MemoryUsers().add("audrey", PASSWORD, "auditors").add("dev", "dev password");
    api =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(users, search, trail, trail, new AuthThrottle(clock), clock));
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private String server() {
    return "http://127.0.0.1:" + api.address().getPort();
  }

  private CliRun run(String... args) {
    return runWith(Map.of("WARDEN_PASSWORD", PASSWORD), args);
  }

  private CliRun runWith(Map<String, String> env, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    if (!all.contains("verify")) {
      all.addAll(List.of("--server", server()));
    }
    return CliRun.run(dir, "", env, Optional.empty(), all.toArray(String[]::new));
  }

  private static AuditHit hit(long seq, Instant time, String user, String text, Long rows) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", AuditEncoder.formatTime(time));
    f.put("instance", "test");
    f.put("type", "intent");
    f.put("user", user);
    f.put("env", "production");
    f.put("kinds", List.of("read"));
    f.put("text", text);
    f.put("verdict", "allowed");
    if (rows != null) {
      f.put("status", "ok");
      f.put("rows", rows);
    }
    return new AuditHit(
        ChainingTrail.LOG_ID,
        seq,
        time,
        rows == null ? OptionalLong.empty() : OptionalLong.of(seq + 1),
        f);
  }

  private void someHits() {
    search.add(hit(1, NOW.minusSeconds(300), "alice", "SELECT * FROM orders", 12L));
    search.add(
        hit(
            3,
            NOW.minusSeconds(200),
            "bob",
            "SELECT '\u001b[2J\u001b]0;pwned\u0007'\n  FROM   t",
            1L));
    search.add(hit(5, NOW.minusSeconds(100), "alice", "DELETE FROM carts", null));
  }

  @Test
  void searchPrintsOneEscapedLinePerHitNewestFirst() {
    someHits();
    CliRun run = run("audit", "search", "--as", "audrey");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).startsWith("TIME (UTC)").contains("USER", "RESULT", "ROWS");
    assertThat(lines.get(1))
        .startsWith("2026-11-01 11:58:20.000  alice")
        .contains("production", "allowed", "DELETE FROM carts");
    assertThat(lines.get(2))
        .contains("bob", "allowed/ok", "1 row", "SELECT '\\u001B[2J\\u001B]0;pwned\\u0007' FROM t");
    assertThat(lines.get(3)).contains("12 rows", "SELECT * FROM orders");
    assertThat(run.out().chars().filter(c -> c < 0x20 && c != '\n')).isEmpty();
    assertThat(search.queries).containsExactly("");
    // The search was recorded as audrey's.
    assertThat(trail.appended())
        .singleElement()
        .satisfies(r -> assertThat(((AuditEvent) r).actor()).isEqualTo("audrey"));
  }

  @Test
  void searchJsonGivesEveryFieldOneObjectPerLine() {
    someHits();
    CliRun run = run("audit", "search", "--json", "--limit", "2", "--as", "audrey", "user:alice");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(2);
    @SuppressWarnings("unchecked")
    Map<String, Object> first = (Map<String, Object>) json.read(lines.getFirst());
    assertThat(first)
        .containsEntry("log_id", ChainingTrail.LOG_ID)
        .containsEntry("seq", 5L)
        .containsEntry("text", "DELETE FROM carts");
    assertThat(search.queries).containsExactly("user:alice");
  }

  @Test
  void queryWordsMayBeGivenUnquoted() {
    someHits();
    CliRun run = run("audit", "search", "--as", "audrey", "user:bob", "kind:read");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(search.queries).containsExactly("user:bob kind:read");
    assertThat(run.out().lines().count()).isEqualTo(2);
  }

  @Test
  void aBadQueryIsPointedAtBeforeAnyPasswordIsAsked() {
    CliRun run =
        runWith(Map.of(), "audit", "search", "--as", "audrey", "user:alice", "since:yesterday");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err())
        .contains("audit query, at character ")
        .contains("\n  user:alice since:yesterday\n  ")
        .contains("^");
    assertThat(search.queries).isEmpty();
  }

  @Test
  void loginProblemsAreExplained() {
    CliRun wrong = runWith(Map.of("WARDEN_PASSWORD", "nope"), "audit", "search", "--as", "audrey");
    assertThat(wrong.exitCode()).isEqualTo(Main.FAILED);
    assertThat(wrong.err()).contains("the server refused the login: wrong user name or password");

    CliRun forbidden =
        runWith(Map.of("WARDEN_PASSWORD", "dev password"), "audit", "search", "--as", "dev");
    assertThat(forbidden.exitCode()).isEqualTo(Main.FAILED);
    assertThat(forbidden.err())
        .contains("user dev may not read the audit trail: that needs the group auditors or admins")
        .contains("HTTP 403");

    CliRun nobody = run("audit", "search");
    assertThat(nobody.exitCode()).isEqualTo(Main.USAGE);
    assertThat(nobody.err()).contains("name the Warden user to ask as with --as NAME");

    CliRun remote =
        CliRun.run(
            dir,
            "",
            Map.of("WARDEN_PASSWORD", PASSWORD),
            Optional.empty(),
            "audit",
            "search",
            "--as",
            "audrey",
            "--server",
            "http://warden.example:8080");
    assertThat(remote.exitCode()).isEqualTo(Main.USAGE);
    assertThat(remote.err()).contains("refusing to send a password in clear text");

    api.close();
    CliRun down = run("audit", "search", "--as", "audrey");
    assertThat(down.exitCode()).isEqualTo(Main.FAILED);
    assertThat(down.err()).contains("cannot reach Warden's API at " + server());
  }

  @Test
  void thePasswordMayComeFromStandardInputAndTheUserFromTheEnvironment() {
    someHits();
    CliRun run =
        CliRun.run(
            dir,
            PASSWORD + "\n",
            Map.of("WARDEN_USER", "audrey"),
            Optional.empty(),
            "audit",
            "search",
            "--server",
            server());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out() + run.err()).doesNotContain(PASSWORD);
  }

  @Test
  void theServerAddressMayComeFromTheConfigurationFile() throws IOException {
    someHits();
    Files.writeString(
        dir.resolve("warden.yaml"),
        "console: 127.0.0.1:"
            + api.address().getPort()
            + "\nenvironments:\n  - name: p\n    upstream:\n      host: db\n      user: u\n"
            + "      password: { env: ONLY_THE_SERVER_HAS_IT }\n");
    CliRun run =
        CliRun.run(
            dir,
            "",
            Map.of("WARDEN_PASSWORD", PASSWORD),
            Optional.empty(),
            "audit",
            "search",
            "--as",
            "audrey",
            "--config",
            "warden.yaml");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out().lines().count()).isEqualTo(4);
  }

  @Test
  void tailWithoutFollowShowsTheLatestOldestFirst() {
    someHits();
    CliRun run = run("audit", "tail", "-n", "2", "--as", "audrey");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(1)).contains("bob");
    assertThat(lines.get(2)).contains("DELETE FROM carts");
  }

  @Test
  @Timeout(60)
  void tailFollowShowsNewRecordsAsTheyAreWritten() throws Exception {
    someHits();
    List<CliRun> result = new ArrayList<>();
    Thread cli =
        Thread.ofPlatform()
            .start(
                () ->
                    result.add(
                        run("audit", "tail", "--follow", "--as", "audrey", "event:policy-reload")));
    // Wait until the tail follows: its own audit-tail event is recorded first.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (trail.appended().stream()
            .noneMatch(r -> r instanceof AuditEvent e && e.name().equals("audit-tail"))
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(200);
    trail.append(
        new AuditEvent(
            NOW, "policy-reload", true, "", Optional.empty(), Map.of("file", "policy\u001b.yaml")),
        Durability.BOUNDED);
    trail.append(
        new AuditEvent(NOW, "user-add", true, "root", Optional.empty(), Map.of()),
        Durability.BOUNDED);
    Thread.sleep(500);
    api.close(); // ends the stream; the command reports it
    cli.join(TimeUnit.SECONDS.toMillis(20));
    CliRun run = result.getFirst();
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("ended");
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1))
        .contains("ok", "policy-reload", "file=policy\\u001B.yaml")
        .doesNotContain("\u001b");
  }

  @Test
  void exportWritesEveryRecordOnceOldestFirstAcrossPages() throws Exception {
    // More than a page (10 000), with many records sharing each time stamp at page edges.
    int count = 21_003;
    Instant start = NOW.minusSeconds(86_400);
    for (int i = 0; i < count; i++) {
      search.add(
          hit(i + 1, start.plusSeconds(i / 7), i % 2 == 0 ? "alice" : "bob", "SELECT " + i, null));
    }
    CliRun run = run("audit", "export", "--as", "audrey", "--since", "2026-10-01");
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize(count);
    Set<Object> seqs = new HashSet<>();
    Instant previous = Instant.MIN;
    for (String line : lines) {
      @SuppressWarnings("unchecked")
      Map<String, Object> record = (Map<String, Object>) json.read(line);
      assertThat(seqs.add(record.get("seq"))).as("each record once").isTrue();
      Instant time = Instant.parse((String) record.get("time"));
      assertThat(time).isAfterOrEqualTo(previous);
      previous = time;
    }
    assertThat(search.queries.getFirst()).isEqualTo("since:2026-10-01");
    assertThat(search.queries).hasSizeGreaterThan(2);
    assertThat(search.queries.get(1)).startsWith("since:2026-10-01 until:");
    try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      assertThat(left.filter(p -> p.getFileName().toString().startsWith("warden-export-")))
          .as("its temporary pages are removed")
          .isEmpty();
    }
  }

  @Test
  void exportWantsItsRangeInOptions() {
    CliRun run = run("audit", "export", "--as", "audrey", "since:24h");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("give the time range with --since and --until");
    CliRun csv = run("audit", "export", "--as", "audrey", "--format", "csv");
    assertThat(csv.exitCode()).isEqualTo(Main.USAGE);
    assertThat(csv.err()).contains("--format must be jsonl");
  }

  private Path writeLog(Path data, Path witness) throws Exception {
    Path secrets = data.resolve("secrets");
    AuditKeys keys = AuditKeys.loadOrCreate(secrets);
    AuditLogSettings settings =
        AuditLogSettings.defaults(keys).withMinFreeBytes(0).withWitness(witness);
    Path auditDir = data.resolve("audit");
    try (EmbeddedAuditTrail log =
        EmbeddedAuditTrail.open(
            auditDir, settings, new AuditEncoder("t", Redactor.NONE, keys.textHmacKey()), clock)) {
      for (int i = 0; i < 20; i++) {
        log.append(
                new AuditEvent(
                    NOW, "user-add", true, "root", Optional.empty(), Map.of("n", "" + i)),
                Durability.IMMEDIATE)
            .get(10, TimeUnit.SECONDS);
      }
    }
    return auditDir;
  }

  @Test
  void verifySaysIntactOrNamesTheFirstBadRecord() throws Exception {
    Path witness = Files.createDirectories(dir.resolve("witness"));
    Path auditDir = writeLog(dir.resolve("data"), witness);

    CliRun intact = run("audit", "verify", "--data-dir", "data", "--witness", "witness");
    assertThat(intact.exitCode()).as(intact.err()).isZero();
    assertThat(intact.out()).contains("is intact", "checked against the witness");

    Path segment;
    try (Stream<Path> files = Files.list(auditDir)) {
      segment =
          files
              .filter(p -> p.getFileName().toString().startsWith("segment-"))
              .findFirst()
              .orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      long at = f.length() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x20);
    }
    CliRun bad = run("audit", "verify", "--data-dir", "data", "--witness", "witness");
    assertThat(bad.exitCode()).isEqualTo(Main.FAILED);
    assertThat(bad.err()).contains("is NOT intact").containsPattern("record \\d+ is the first");

    CliRun none = run("audit", "verify", "--data-dir", "elsewhere");
    assertThat(none.exitCode()).isEqualTo(Main.FAILED);
    assertThat(none.err()).contains("no audit log in");
  }

  @Test
  void verifyFindsTheDataDirectoryAndWitnessInTheConfiguration() throws Exception {
    Path witness = Files.createDirectories(dir.resolve("w"));
    writeLog(dir.resolve("d"), witness);
    Files.writeString(dir.resolve("warden.yaml"), "data-dir: d\naudit:\n  witness: w\n");
    CliRun run = run("audit", "verify", "--config", "warden.yaml");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("is intact", "checked against the witness");
  }

  @Test
  void verifyChecksAPostgresStoreNamedByTheConfiguration() throws Exception {
    String database = "warden_cli_verify_" + Long.toHexString(System.nanoTime());
    String admin = "jdbc:postgresql://127.0.0.1:5432/postgres";
    try (Connection c = DriverManager.getConnection(admin, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
    try {
      Path data = dir.resolve("pgdata");
      AuditKeys keys = AuditKeys.loadOrCreate(data.resolve("secrets"));
      String url = "jdbc:postgresql://127.0.0.1:5432/" + database;
      try (PostgresAuditTrail trail =
          PostgresAuditTrail.open(
              PostgresAuditSettings.defaults(url, "postgres", Secret.of(""), "cli-verify"),
              keys.signingKeys(),
              new AuditEncoder("cli-verify", Redactor.NONE, keys.textHmacKey()),
              clock)) {
        for (int i = 0; i < 10; i++) {
          trail
              .append(
                  new AuditEvent(
                      NOW, "user-add", true, "root", Optional.empty(), Map.of("n", "" + i)),
                  Durability.IMMEDIATE)
              .get(10, TimeUnit.SECONDS);
        }
      }
      Files.writeString(
          dir.resolve("pg.yaml"),
          "data-dir: pgdata\naudit:\n  store: postgresql://postgres@127.0.0.1:5432/"
              + database
              + "\n  instance: cli-verify\n");
      CliRun intact = run("audit", "verify", "--config", "pg.yaml");
      assertThat(intact.exitCode()).as(intact.err()).isZero();
      assertThat(intact.out()).contains("audit log cli-verify in PostgreSQL is intact: 1");

      try (Connection c = DriverManager.getConnection(url, "postgres", "");
          Statement s = c.createStatement()) {
        s.execute(
            "UPDATE warden_audit SET payload = convert_to(replace(convert_from(payload, 'UTF8'),"
                + " 'user-add', 'user-del'), 'UTF8') WHERE log_id = 'cli-verify' AND seq = 5");
      }
      CliRun bad = run("audit", "verify", "--config", "pg.yaml");
      assertThat(bad.exitCode()).isEqualTo(Main.FAILED);
      assertThat(bad.err())
          .contains("audit log cli-verify in PostgreSQL is NOT intact: record 5 is the first");

      CliRun noKey = run("audit", "verify", "--config", "pg.yaml", "--data-dir", "elsewhere");
      assertThat(noKey.exitCode()).isEqualTo(Main.FAILED);
      assertThat(noKey.err()).contains("no audit signing key in");
    } finally {
      try (Connection c = DriverManager.getConnection(admin, "postgres", "");
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      }
    }
  }
}

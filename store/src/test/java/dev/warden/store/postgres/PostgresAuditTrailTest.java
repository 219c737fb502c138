package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the PostgreSQL store, beyond the contract both stores pass. */
class PostgresAuditTrailTest {
  private static final AuditEncoder ENCODER =
      new AuditEncoder("pg-test", Redactor.NONE, new byte[32]);

  private TestDatabase db;
  private KeyPair keys;
  private PostgresAuditSettings settings;
  private final List<PostgresAuditTrail> opened = new ArrayList<>();

  @TempDir Path witness;

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    private volatile Instant now = Instant.parse("2026-06-01T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeEach
  void createDatabase() throws Exception {
    db = TestDatabase.create();
    keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    settings =
        PostgresAuditSettings.defaults(db.url(), "postgres", Secret.of(""), "pg-test-log")
            .withProbeInterval(Duration.ofMillis(100))
            .withTimeout(Duration.ofSeconds(2))
            .withCheckpoints(10, Duration.ofSeconds(1));
  }

  @AfterEach
  void dropDatabase() {
    for (PostgresAuditTrail t : opened) {
      t.close();
    }
    db.close();
  }

  private PostgresAuditTrail open(PostgresAuditSettings s) {
    return open(s, Clock.systemUTC());
  }

  private PostgresAuditTrail open(PostgresAuditSettings s, Clock clock) {
    PostgresAuditTrail t = PostgresAuditTrail.open(s, keys, ENCODER, clock);
    opened.add(t);
    return t;
  }

  private static AuditRecord event(int n) {
    return new AuditEvent(
        Instant.parse("2026-06-01T10:00:00.123456789Z").plusSeconds(n),
        "policy-reload",
        true,
        "admin",
        Optional.empty(),
        Map.of("n", Integer.toString(n)));
  }

  private static void appendAll(PostgresAuditTrail t, int from, int to) throws Exception {
    for (int i = from; i < to; i++) {
      t.append(event(i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
  }

  private List<Checkpoint> checkpoints() throws Exception {
    return PostgresAuditReader.checkpoints(db.dataSource(), settings.logId());
  }

  private static void eventually(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 15 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void theRecordsTableHasTheShapeTheSearchReads() throws Exception {
    open(settings);
    List<String> columns = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    + " WHERE table_name = 'warden_audit' ORDER BY ordinal_position")) {
      while (r.next()) {
        columns.add(r.getString(1) + " " + r.getString(2) + " " + r.getString(3));
      }
    }
    assertThat(columns)
        .containsExactly(
            "log_id text NO",
            "seq bigint NO",
            "time timestamp with time zone NO",
            "payload bytea NO",
            "doc jsonb NO",
            "hash bytea NO");
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                    + " WHERE c.relname = 'warden_audit' AND i.indisprimary"
                    + " AND pg_get_indexdef(i.indexrelid) LIKE '%(log_id, seq)'"))
        .isEqualTo(1);
  }

  @Test
  void aRecordIsStoredAsItsChainedBytesWithItsTimeAndItsParsedDoc() throws Exception {
    PostgresAuditTrail t = open(settings);
    AuditRecord r = event(1);
    t.append(r, Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT payload, doc->>'event', doc->'details'->>'n', time FROM warden_audit")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBytes(1)).isEqualTo(ENCODER.encode(r));
      assertThat(rs.getString(2)).isEqualTo("policy-reload");
      assertThat(rs.getString(3)).isEqualTo("1");
      assertThat(rs.getObject(4, OffsetDateTime.class).toInstant())
          .isEqualTo(Instant.parse("2026-06-01T10:00:01.123456Z"));
    }
  }

  @Test
  void checkpointsAreSignedEveryNRecordsAndAfterAnIntervalAndReachTheWitness() throws Exception {
    MovableClock clock = new MovableClock();
    PostgresAuditTrail t = open(settings.withWitness(witness), clock);
    appendAll(t, 0, 25);
    assertThat(checkpoints()).extracting(Checkpoint::seq).containsExactly(10L, 20L);
    clock.advance(Duration.ofMillis(1500));
    eventually(
        "a checkpoint for the last record after the interval",
        () -> {
          try {
            return checkpoints().size() == 3;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    List<Checkpoint> cps = checkpoints();
    assertThat(cps.get(2).seq()).isEqualTo(25);
    assertThat(cps.get(2).wallTimeMillis()).isEqualTo(clock.millis());
    for (int i = 0; i < cps.size(); i++) {
      assertThat(cps.get(i).verifies(keys.getPublic())).isTrue();
      assertThat(cps.get(i).previousSignature())
          .isEqualTo(i == 0 ? new byte[0] : cps.get(i - 1).signature());
    }
    assertThat(Witness.read(witness, settings.logId())).isEqualTo(cps);
    PostgresAuditVerifier.Report report =
        PostgresAuditVerifier.verify(
            db.dataSource(), settings.logId(), keys.getPublic(), Optional.of(witness));
    assertThat(report.intact()).as(report.reason()).isTrue();
  }

  @Test
  void closingLeavesASignedCheckpointAtTheLastRecord() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 7);
    t.close();
    opened.remove(t);
    assertThat(checkpoints()).extracting(Checkpoint::seq).containsExactly(7L);
  }

  @Test
  void aSecondWriterWithTheSameLogIdIsRefusedForGoodAndTheChainStaysWhole() throws Exception {
    PostgresAuditTrail first = open(settings);
    appendAll(first, 0, 3);
    PostgresAuditTrail second = open(settings);
    appendAll(first, 3, 4);
    CompletableFuture<Void> clash = second.append(event(100), Durability.IMMEDIATE);
    assertThatThrownBy(() -> clash.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("pg-test-log")
        .hasMessageContaining("same log id");
    Thread.sleep(500);
    assertThat(second.unavailable()).get().asString().contains("same log id");
    assertThat(second.append(event(101), Durability.BOUNDED)).isCompletedExceptionally();
    appendAll(first, 4, 8);
    List<ChainedRecord> stored =
        PostgresAuditReader.readAfter(db.dataSource(), settings.logId(), 0, 100);
    assertThat(stored).hasSize(8);
    for (int i = 0; i < 8; i++) {
      assertThat(stored.get(i).payload()).isEqualTo(ENCODER.encode(event(i)));
    }
    assertThat(
            PostgresAuditVerifier.verify(db.dataSource(), settings.logId(), keys.getPublic())
                .intact())
        .isTrue();
  }

  @Test
  void openRefusesToContinueALogWhoseCheckpointedTailWasAltered() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 15);
    t.close();
    opened.remove(t);
    db.execute("UPDATE warden_audit SET payload = payload || '\\x20'::bytea WHERE seq = 15");
    assertThatThrownBy(() -> open(settings))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("pg-test-log")
        .hasMessageContaining("cannot be continued")
        .hasMessageContaining("record 15 was altered");
  }

  @Test
  void openRefusesALogWhoseCheckpointedRecordWasRewrittenWithItsHash() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 15);
    t.close();
    opened.remove(t);
    List<ChainedRecord> stored =
        PostgresAuditReader.readAfter(db.dataSource(), settings.logId(), 13, 2);
    byte[] forged = ENCODER.encode(event(99));
    byte[] hash = AuditChain.next(stored.get(0).hash(), 15, forged);
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("UPDATE warden_audit SET payload = ?, hash = ? WHERE seq = 15")) {
      s.setBytes(1, forged);
      s.setBytes(2, hash);
      s.executeUpdate();
    }
    assertThatThrownBy(() -> open(settings))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("record 15 differs from what its signed checkpoint says");
  }

  @Test
  void openRefusesToContinueALogAlteredAfterItsLastCheckpoint() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 15);
    t.close();
    opened.remove(t);
    db.execute("DELETE FROM warden_audit_checkpoint WHERE seq = 15");
    db.execute("UPDATE warden_audit SET payload = payload || '\\x20'::bytea WHERE seq = 13");
    assertThatThrownBy(() -> open(settings))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("record 13 was altered");
  }

  @Test
  void openRefusesAKeyThatDidNotSignTheLog() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 3);
    t.close();
    opened.remove(t);
    KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    assertThatThrownBy(() -> PostgresAuditTrail.open(settings, other, ENCODER, Clock.systemUTC()))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("not signed with this instance's checkpoint key");
  }

  @Test
  void openRefusesATableRolledBackBehindItsWitness() throws Exception {
    PostgresAuditSettings withWitness = settings.withWitness(witness);
    PostgresAuditTrail t = open(withWitness);
    appendAll(t, 0, 25);
    t.close();
    opened.remove(t);
    db.execute("DELETE FROM warden_audit WHERE seq > 10");
    db.execute("DELETE FROM warden_audit_checkpoint WHERE seq > 10");
    assertThatThrownBy(() -> open(withWitness))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("holds a checkpoint at record 20 that the table does not");
  }

  @Test
  void aRoleThatMaySelectAndInsertOnlyRecordsAndCommitsSynchronously() throws Exception {
    open(settings).close();
    opened.clear();
    String role =
        "warden_audit_writer_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    db.admin("CREATE ROLE " + role + " LOGIN PASSWORD 'only-for-this-test'");
    try {
      db.execute("GRANT SELECT, INSERT ON warden_audit, warden_audit_checkpoint TO " + role);
      db.admin("ALTER ROLE " + role + " SET synchronous_commit = off");
      PostgresAuditTrail t =
          open(
              new PostgresAuditSettings(
                  settings.jdbcUrl(),
                  role,
                  Secret.of("only-for-this-test"),
                  settings.poolSize(),
                  "insert-only-log",
                  settings.boundedWindow(),
                  settings.maxQueued(),
                  settings.checkpointEvery(),
                  settings.checkpointInterval(),
                  settings.probeInterval(),
                  settings.timeout(),
                  Optional.empty()));
      appendAll(t, 0, 12);
      try (Connection c = t.dataSource().getConnection();
          Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SHOW synchronous_commit")) {
        r.next();
        assertThat(r.getString(1)).isEqualTo("on");
      }
      t.close();
      opened.clear();
      assertThat(db.queryLong("SELECT count(*) FROM warden_audit WHERE log_id = 'insert-only-log'"))
          .isEqualTo(12);
    } finally {
      for (PostgresAuditTrail t : opened) {
        t.close();
      }
      opened.clear();
      db.execute("DROP OWNED BY " + role);
      db.admin("DROP ROLE IF EXISTS " + role);
    }
  }

  @Test
  void theQueueIsBoundedWhilePostgresIsSlow() throws Exception {
    PostgresAuditTrail t = open(settings.withMaxQueued(20).withTimeout(Duration.ofSeconds(20)));
    appendAll(t, 0, 1);
    try (Connection lock = db.dataSource().getConnection();
        Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      s.execute("LOCK TABLE warden_audit IN ACCESS EXCLUSIVE MODE");
      for (int i = 1; i <= 20; i++) {
        assertThat(t.append(event(i), Durability.BOUNDED).isCompletedExceptionally())
            .as("record %d of 20", i)
            .isFalse();
      }
      CompletableFuture<Void> beyond = t.append(event(21), Durability.BOUNDED);
      assertThat(beyond).isCompletedExceptionally();
      assertThatThrownBy(beyond::join)
          .hasCauseInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("already holds 20 records");
      assertThat(t.unavailable()).as("a full queue is not an outage").isEmpty();
      lock.rollback();
    }
    eventually(
        "the 20 queued records committed",
        () -> db.queryLong("SELECT count(*) FROM warden_audit") == 21);
    t.append(event(22), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
  }

  @Test
  void aStalledCommitFailsClosedAfterTheTimeoutAndTheTrailRecovers() throws Exception {
    PostgresAuditTrail t = open(settings.withTimeout(Duration.ofSeconds(1)));
    appendAll(t, 0, 2);
    try (Connection lock = db.dataSource().getConnection();
        Statement s = lock.createStatement()) {
      lock.setAutoCommit(false);
      s.execute("LOCK TABLE warden_audit IN ACCESS EXCLUSIVE MODE");
      long start = System.nanoTime();
      CompletableFuture<Void> stalled = t.append(event(2), Durability.IMMEDIATE);
      assertThatThrownBy(() -> stalled.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(AuditUnavailableException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(t.unavailable()).isPresent();
      lock.rollback();
    }
    eventually("the trail records again", () -> t.unavailable().isEmpty());
    t.append(event(3), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    assertThat(
            PostgresAuditVerifier.verify(db.dataSource(), settings.logId(), keys.getPublic())
                .intact())
        .isTrue();
  }

  @Test
  void aListenerThatThrowsDoesNotStopTheTrailOrTheOtherListeners() throws Exception {
    PostgresAuditTrail t = open(settings);
    AtomicInteger heard = new AtomicInteger();
    t.addListener(
        (logId, batch) -> {
          throw new IllegalStateException("a broken listener");
        });
    t.addListener((logId, batch) -> heard.addAndGet(batch.size()));
    appendAll(t, 0, 5);
    eventually("the second listener heard 5 records", () -> heard.get() == 5);
    assertThat(t.unavailable()).isEmpty();
  }

  @Test
  void aRecordTheEncoderCannotEncodeIsRecordedAsAnEventAndAnImmediateOneIsRefused()
      throws Exception {
    Redactor failing =
        (sql, lexical) -> {
          throw new IllegalStateException("cannot redact " + sql);
        };
    PostgresAuditTrail t =
        PostgresAuditTrail.open(
            settings, keys, new AuditEncoder("pg-test", failing, new byte[32]), Clock.systemUTC());
    opened.add(t);
    CompletableFuture<Void> refused = t.append(intent("SELECT 'boom'"), Durability.IMMEDIATE);
    assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("cannot encode this record (java.lang.IllegalStateException)")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("boom"));
    assertThat(t.append(intent("SELECT 'bang'"), Durability.BOUNDED)).isCompleted();
    t.append(event(1), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    List<ChainedRecord> stored =
        PostgresAuditReader.readAfter(db.dataSource(), settings.logId(), 0, 100);
    assertThat(stored).hasSize(3);
    for (ChainedRecord r : stored.subList(0, 2)) {
      assertThat(new String(r.payload(), StandardCharsets.UTF_8))
          .contains("\"event\":\"audit-record-unencodable\"")
          .contains("\"record\":\"StatementIntent\"")
          .doesNotContain("boom")
          .doesNotContain("bang");
    }
    assertThat(t.unavailable()).isEmpty();
    assertThat(
            PostgresAuditVerifier.verify(db.dataSource(), settings.logId(), keys.getPublic())
                .intact())
        .isTrue();
  }

  private static StatementIntent intent(String text) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("not-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    SessionContext session =
        new SessionContext(
            "s-1",
            new Identity("alice", Set.of(), AuthMethod.SCRAM_SHA_256),
            new Environment("dev", Set.of(), List.of("shop"), upstream),
            "127.0.0.1:50000",
            "shop",
            "psql");
    Decision allow =
        new Decision(
            Verdict.ALLOW,
            new Analysis(List.of(), "fp"),
            "",
            false,
            OptionalLong.empty(),
            null,
            1,
            true);
    return new StatementIntent(
        Instant.parse("2026-06-01T10:00:00Z"),
        session,
        1,
        StatementPath.SIMPLE,
        text,
        LexicalSettings.DEFAULT,
        "",
        allow,
        Durability.IMMEDIATE);
  }

  @Test
  void anUnreachableStoreIsNamedWithoutItsPassword() {
    PostgresAuditSettings unreachable =
        PostgresAuditSettings.defaults(
                "jdbc:postgresql://127.0.0.1:1/nowhere", "warden", Secret.of("canary-pw-42"), "x")
            .withTimeout(Duration.ofMillis(500));
    assertThatThrownBy(() -> open(unreachable))
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("cannot connect to the PostgreSQL audit store at")
        .hasMessageContaining("127.0.0.1:1/nowhere")
        .satisfies(e -> assertThat(e.toString()).doesNotContain("canary-pw-42"));
  }

  @Test
  void afterCloseEveryAppendIsRefused() throws Exception {
    PostgresAuditTrail t = open(settings);
    appendAll(t, 0, 1);
    t.close();
    opened.remove(t);
    assertThat(t.unavailable()).get().asString().contains("closed");
    assertThat(t.append(event(1), Durability.BOUNDED)).isCompletedExceptionally();
  }
}

package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Redactor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The verifier against logs forged with SQL, as someone with write access to the database would
 * forge them (THREATS AD05): each forgery is found, at the first record that cannot be trusted.
 * Logs are built directly in the table (60 records, a checkpoint every 10), one log id per case.
 */
class PostgresAuditVerifierTest {
  private static final int RECORDS = 60;
  private static final int EVERY = 10;
  private static final AuditEncoder ENCODER =
      new AuditEncoder("verifier-test", Redactor.NONE, new byte[32]);
  private static final AtomicInteger LOGS = new AtomicInteger();

  private static TestDatabase db;
  private static KeyPair keys;

  @TempDir Path witness;

  @BeforeAll
  static void createDatabase() throws Exception {
    db = TestDatabase.create();
    keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    try (Connection c = db.dataSource().getConnection()) {
      AuditTables.create(c);
    }
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
  }

  /** Writes an honest log of {@code RECORDS} records as the store would, and its witness copy. */
  private String honestLog(Optional<Path> witnessDir) throws Exception {
    String logId = "verify-" + LOGS.incrementAndGet();
    List<byte[]> payloads = new ArrayList<>();
    List<String> times = new ArrayList<>();
    for (int i = 1; i <= RECORDS; i++) {
      AuditEvent e =
          new AuditEvent(
              Instant.parse("2026-05-01T08:00:00Z").plusSeconds(i),
              "connect",
              true,
              "alice",
              Optional.empty(),
              Map.of("n", Integer.toString(i), "note", i == 7 ? "nul \0 here" : "plain"));
      payloads.add(ENCODER.encode(e));
      times.add(AuditEncoder.formatTime(e.time()));
    }
    List<ChainedRecord> chained = AuditChain.chain(logId, payloads);
    List<AuditTables.Row> rows = new ArrayList<>();
    List<Checkpoint> checkpoints = new ArrayList<>();
    byte[] previous = new byte[0];
    for (ChainedRecord r : chained) {
      rows.add(new AuditTables.Row(r, times.get((int) r.seq() - 1), Json.docText(r.payload())));
      if (r.seq() % EVERY == 0) {
        Checkpoint cp =
            Checkpoint.sign(keys.getPrivate(), logId, r.seq(), r.hash(), 1000 * r.seq(), previous);
        checkpoints.add(cp);
        previous = cp.signature();
      }
    }
    try (Connection c = db.dataSource().getConnection()) {
      AuditTables.insert(c, logId, rows);
      for (Checkpoint cp : checkpoints) {
        AuditTables.insert(c, cp);
      }
    }
    if (witnessDir.isPresent()) {
      Witness.append(witnessDir.get(), checkpoints);
    }
    return logId;
  }

  private static PostgresAuditVerifier.Report verify(String logId, Optional<Path> witnessDir)
      throws Exception {
    return PostgresAuditVerifier.verify(db.dataSource(), logId, keys.getPublic(), witnessDir);
  }

  /** Runs {@code sql} with {@code ?} bound to the log id (every one). */
  private static void tamper(String logId, String sql) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      for (int i = 1; i <= s.getParameterMetaData().getParameterCount(); i++) {
        s.setString(i, logId);
      }
      s.execute();
    }
  }

  @Test
  void anHonestLogVerifiesWithAndWithoutItsWitness() throws Exception {
    String logId = honestLog(Optional.of(witness));
    PostgresAuditVerifier.Report r = verify(logId, Optional.of(witness));
    assertThat(r.intact()).as(r.reason()).isTrue();
    assertThat(r.records()).isEqualTo(RECORDS);
    assertThat(r.checkpoints()).isEqualTo(RECORDS / EVERY);
    assertThat(verify(logId, Optional.empty()).intact()).isTrue();
  }

  @Test
  void aNulCharacterStaysInThePayloadAndBecomesAReplacementCharacterInTheDoc() throws Exception {
    String logId = honestLog(Optional.empty());
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT convert_from(payload, 'UTF8'), doc->'details'->>'note' FROM warden_audit"
                    + " WHERE log_id = ? AND seq = 7")) {
      s.setString(1, logId);
      try (var r = s.executeQuery()) {
        r.next();
        assertThat(r.getString(1)).contains("nul \\u0000 here");
        assertThat(r.getString(2)).isEqualTo("nul \ufffd here");
      }
    }
    assertThat(verify(logId, Optional.empty()).intact()).isTrue();
  }

  /**
   * Swaps records {@code at} and {@code at + 1} (through negative numbers: the key is checked per
   * row).
   */
  private static String swap(int at) {
    return "UPDATE warden_audit SET seq = -seq WHERE log_id = ? AND seq IN ("
        + at
        + ", "
        + (at + 1)
        + "); UPDATE warden_audit SET seq = CASE seq WHEN "
        + -at
        + " THEN "
        + (at + 1)
        + " ELSE "
        + at
        + " END WHERE log_id = ? AND seq < 0";
  }

  static Stream<Arguments> forgeries() {
    return Stream.of(
        Arguments.of(
            "a payload altered in place",
            "UPDATE warden_audit SET payload = convert_to(replace(convert_from(payload, 'UTF8'),"
                + " 'alice', 'mallory'), 'UTF8') WHERE log_id = ? AND seq = 23",
            23L,
            "record 23 was altered"),
        Arguments.of(
            "what searches show altered, the payload left alone",
            "UPDATE warden_audit SET doc = doc || '{\"user\":\"mallory\"}' WHERE log_id = ?"
                + " AND seq = 31",
            31L,
            "record 31's doc differs from its payload"),
        Arguments.of(
            "a record's searchable time moved",
            "UPDATE warden_audit SET time = time - interval '3 days' WHERE log_id = ? AND seq = 44",
            44L,
            "record 44's time column"),
        Arguments.of(
            "a record deleted",
            "DELETE FROM warden_audit WHERE log_id = ? AND seq = 17",
            17L,
            "record 17 is missing"),
        Arguments.of(
            "a record moved to another log",
            "UPDATE warden_audit SET log_id = log_id || '-elsewhere' WHERE log_id = ? AND seq = 5",
            5L,
            "record 5 is missing"),
        Arguments.of(
            "a forged record inserted, the later ones moved up",
            "UPDATE warden_audit SET seq = -seq WHERE log_id = ? AND seq >= 12;"
                + " UPDATE warden_audit SET seq = 1 - seq WHERE log_id = ? AND seq < 0;"
                + " INSERT INTO warden_audit SELECT log_id, 12, time, payload, doc, hash"
                + " FROM warden_audit WHERE log_id = ? AND seq = 11",
            12L,
            "record 12 was altered"),
        Arguments.of("two records swapped", swap(33), 33L, "record 33 was altered"),
        Arguments.of(
            "a record duplicated over the next",
            "UPDATE warden_audit t SET payload = s.payload, doc = s.doc, hash = s.hash"
                + " FROM warden_audit s WHERE t.log_id = ? AND t.seq = 50 AND s.log_id = t.log_id"
                + " AND s.seq = 49",
            50L,
            "record 50 was altered"),
        Arguments.of(
            "the tail cut off below its last checkpoint",
            "DELETE FROM warden_audit WHERE log_id = ? AND seq > 55",
            56L,
            "its tail was cut off"),
        Arguments.of(
            "a checkpoint removed",
            "DELETE FROM warden_audit_checkpoint WHERE log_id = ? AND seq = 30",
            21L,
            "does not follow the one before it"),
        Arguments.of(
            "a checkpoint's signature forged",
            "UPDATE warden_audit_checkpoint SET signature = set_byte(signature, 0,"
                + " get_byte(signature, 0) # 1) WHERE log_id = ? AND seq = 40",
            31L,
            "invalid signature"),
        Arguments.of(
            "a checkpoint moved to cover a different hash",
            "UPDATE warden_audit_checkpoint SET hash = (SELECT hash FROM warden_audit WHERE"
                + " log_id = ? AND seq = 19) WHERE log_id = ? AND seq = 20",
            11L,
            "invalid signature"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("forgeries")
  void aForgeryIsFoundAtTheFirstUntrustworthyRecord(
      String what, String sql, long firstBad, String reason) throws Exception {
    String logId = honestLog(Optional.empty());
    tamper(logId, sql);
    PostgresAuditVerifier.Report r = verify(logId, Optional.empty());
    assertThat(r.intact()).as(what).isFalse();
    assertThat(r.reason()).as(what).contains(reason);
    assertThat(r.firstBadSeq()).as(what + ": " + r.reason()).isEqualTo(firstBad);
  }

  @Test
  void aChainRecomputedWithoutTheKeyDiffersFromTheSignedCheckpoints() throws Exception {
    String logId = honestLog(Optional.empty());
    List<ChainedRecord> records =
        PostgresAuditReader.readAfter(db.dataSource(), logId, 0, Integer.MAX_VALUE);
    byte[] h = records.get(24).hash();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE warden_audit SET payload = ?, doc = convert_from(?, 'UTF8')::jsonb,"
                    + " hash = ? WHERE log_id = ? AND seq = ?")) {
      for (ChainedRecord r : records.subList(25, RECORDS)) {
        byte[] payload = r.payload();
        if (r.seq() == 26) {
          payload =
              new String(payload, StandardCharsets.UTF_8)
                  .replace("alice", "mallory")
                  .getBytes(StandardCharsets.UTF_8);
        }
        h = AuditChain.next(h, r.seq(), payload);
        s.setBytes(1, payload);
        s.setBytes(2, Json.docSource(payload).getBytes(StandardCharsets.UTF_8));
        s.setBytes(3, h);
        s.setString(4, logId);
        s.setLong(5, r.seq());
        s.addBatch();
      }
      s.executeBatch();
    }
    PostgresAuditVerifier.Report r = verify(logId, Optional.empty());
    assertThat(r.intact()).isFalse();
    assertThat(r.reason()).contains("differs from its signed checkpoint");
    assertThat(r.firstBadSeq()).isEqualTo(21);
  }

  @Test
  void aRollbackOfRecordsAndCheckpointsTogetherIsFoundOnlyThroughTheWitness() throws Exception {
    String logId = honestLog(Optional.of(witness));
    tamper(
        logId,
        "DELETE FROM warden_audit WHERE log_id = ? AND seq > 35;"
            + " DELETE FROM warden_audit_checkpoint WHERE log_id = ? AND seq > 35");
    assertThat(verify(logId, Optional.empty()).intact())
        .as("without a witness, a consistent older state cannot be told from the truth")
        .isTrue();
    PostgresAuditVerifier.Report r = verify(logId, Optional.of(witness));
    assertThat(r.intact()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(36);
    assertThat(r.reason()).contains("tail was cut off");
  }

  @Test
  void checkpointsDeletedFromTheTableAloneAreFoundThroughTheWitness() throws Exception {
    String logId = honestLog(Optional.of(witness));
    tamper(logId, "DELETE FROM warden_audit_checkpoint WHERE log_id = ? AND seq >= 40");
    PostgresAuditVerifier.Report r = verify(logId, Optional.of(witness));
    assertThat(r.intact()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(31);
    assertThat(r.reason()).contains("checkpoint at record 40 held by the witness is missing");
  }

  @Test
  void aLogResignedWithAnotherKeyDoesNotVerify() throws Exception {
    String logId = honestLog(Optional.empty());
    KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    PostgresAuditVerifier.Report r =
        PostgresAuditVerifier.verify(db.dataSource(), logId, other.getPublic());
    assertThat(r.intact()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(1);
    assertThat(r.reason()).contains("invalid signature");
  }

  /** Kinds of damage at a position, each with the first record it makes untrustworthy. */
  private enum Damage {
    PAYLOAD,
    DOC,
    TIME,
    DELETE,
    SWAP,
    TRUNCATE
  }

  @Test
  void randomDamageAtRandomPlacesIsAlwaysFoundAtOrBeforeIt() throws Exception {
    Random random = new Random(20261127);
    for (int round = 0; round < 24; round++) {
      String logId = honestLog(Optional.empty());
      Damage damage = Damage.values()[random.nextInt(Damage.values().length)];
      int at = 1 + random.nextInt(RECORDS - 1);
      String sql =
          switch (damage) {
            case PAYLOAD -> {
              int offset = random.nextInt(40);
              yield "UPDATE warden_audit SET payload = set_byte(payload, "
                  + offset
                  + ", get_byte(payload, "
                  + offset
                  + ") # 8) WHERE log_id = ? AND seq = "
                  + at;
            }
            case DOC ->
                "UPDATE warden_audit SET doc = doc || '{\"success\":false}' WHERE log_id = ?"
                    + " AND seq = "
                    + at;
            case TIME ->
                "UPDATE warden_audit SET time = time + interval '1 microsecond' WHERE log_id = ?"
                    + " AND seq = "
                    + at;
            case DELETE -> "DELETE FROM warden_audit WHERE log_id = ? AND seq = " + at;
            case SWAP -> swap(at);
            case TRUNCATE -> "DELETE FROM warden_audit WHERE log_id = ? AND seq >= " + at;
          };
      tamper(logId, sql);
      PostgresAuditVerifier.Report r = verify(logId, Optional.empty());
      String what = damage + " at record " + at;
      assertThat(r.intact()).as(what).isFalse();
      assertThat(r.firstBadSeq()).as(what + ": " + r.reason()).isBetween(1L, (long) at);
    }
  }
}

package dev.warden.store.postgres;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Checks one log of the PostgreSQL audit store and names the first record that cannot be trusted
 * (THREATS AD05): a record altered, removed, inserted, duplicated or moved (the hash chain); a
 * chain rewritten with the hashes recomputed, or a tail cut off (the signed checkpoints, and the
 * witness's copy of them when given); a searchable {@code doc} or {@code time} that no longer says
 * what the chained payload says (someone editing what searches show while leaving the evidence
 * alone).
 *
 * <p>The records and checkpoints are read in one snapshot (a repeatable-read transaction), row by
 * row, so a log of any length verifies in constant memory while its writer keeps appending. The
 * witness is read first: whatever it holds was committed to the table before.
 */
public final class PostgresAuditVerifier {
  private PostgresAuditVerifier() {}

  /**
   * What the verifier found.
   *
   * @param logId the log
   * @param intact true if nothing is wrong
   * @param firstBadSeq the first record that cannot be trusted (0 when intact)
   * @param reason what is wrong, for a person ({@code intact} when nothing is)
   * @param records the records read
   * @param checkpoints the signed checkpoints checked
   */
  public record Report(
      String logId,
      boolean intact,
      long firstBadSeq,
      String reason,
      long records,
      long checkpoints) {}

  /** Verifies log {@code logId} against its checkpoints in the table, signed by {@code key}. */
  public static Report verify(DataSource dataSource, String logId, PublicKey key)
      throws SQLException, IOException {
    return verify(dataSource, logId, key, Optional.empty());
  }

  /**
   * Verifies log {@code logId} against its checkpoints, signed by {@code key}, in the table and,
   * when given, in the witness directory (which the table's must extend).
   */
  public static Report verify(
      DataSource dataSource, String logId, PublicKey key, Optional<Path> witness)
      throws SQLException, IOException {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(logId, "logId");
    Objects.requireNonNull(key, "key");
    Optional<List<Checkpoint>> witnessed =
        witness.isPresent() ? Optional.of(Witness.read(witness.get(), logId)) : Optional.empty();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setReadOnly(true);
      try {
        return verify(c, logId, key, witnessed);
      } finally {
        c.rollback();
      }
    }
  }

  private static Report verify(
      Connection c, String logId, PublicKey key, Optional<List<Checkpoint>> witnessed)
      throws SQLException {
    Verification v = new Verification(logId);
    List<Checkpoint> table = AuditTables.checkpoints(c, logId);
    Problem checkpoints = v.checkpointChain(table, key, "table");
    List<Checkpoint> trusted = table;
    Problem tableDiffers = null;
    if (witnessed.isPresent()) {
      List<Checkpoint> w = witnessed.get();
      Problem witnessProblem = v.checkpointChain(w, key, "witness");
      if (witnessProblem != null) {
        return v.report(witnessProblem, table.size());
      }
      for (int i = 0; i < w.size() && tableDiffers == null; i++) {
        if (i >= table.size() || !w.get(i).equals(table.get(i))) {
          long previous = i == 0 ? 0 : w.get(i - 1).seq();
          tableDiffers =
              new Problem(
                  previous + 1,
                  "the checkpoint at record "
                      + w.get(i).seq()
                      + " held by the witness is "
                      + (i >= table.size() ? "missing from" : "different in")
                      + " the checkpoint table: the table was rolled back or rewritten");
        }
      }
      if (tableDiffers != null) {
        // The witness is the one the writer could not rewrite: judge the records by it.
        trusted = w;
        checkpoints = null;
      }
    }
    if (checkpoints != null) {
      return v.report(checkpoints, table.size());
    }
    Problem records = v.records(c, trusted);
    if (records != null) {
      return v.report(records, trusted.size());
    }
    if (tableDiffers != null) {
      return v.report(tableDiffers, trusted.size());
    }
    return v.report(null, trusted.size());
  }

  private record Problem(long seq, String reason) {}

  private static final class Verification {
    private final String logId;
    private long records;

    Verification(String logId) {
      this.logId = logId;
    }

    Report report(Problem p, long checkpoints) {
      return p == null
          ? new Report(logId, true, 0, "intact", records, checkpoints)
          : new Report(logId, false, p.seq(), p.reason(), records, checkpoints);
    }

    /** The checkpoints' own chain: each signed, in order, naming the one before it. */
    Problem checkpointChain(List<Checkpoint> checkpoints, PublicKey key, String where) {
      byte[] previousSignature = new byte[0];
      long previousSeq = 0;
      for (Checkpoint cp : checkpoints) {
        if (!cp.logId().equals(logId)) {
          return new Problem(
              previousSeq + 1, "a checkpoint in the " + where + " belongs to log " + cp.logId());
        }
        if (!cp.verifies(key)) {
          return new Problem(
              previousSeq + 1,
              "the checkpoint at record "
                  + cp.seq()
                  + " in the "
                  + where
                  + " has an invalid signature");
        }
        if (!MessageDigest.isEqual(cp.previousSignature(), previousSignature)) {
          return new Problem(
              previousSeq + 1,
              "the checkpoint at record "
                  + cp.seq()
                  + " in the "
                  + where
                  + " does not follow the one before it: a checkpoint was removed or reordered");
        }
        if (cp.seq() <= previousSeq) {
          return new Problem(
              cp.seq(), "checkpoints in the " + where + " go back from record " + previousSeq);
        }
        previousSignature = cp.signature();
        previousSeq = cp.seq();
      }
      return null;
    }

    Problem records(Connection c, List<Checkpoint> checkpoints) throws SQLException {
      Map<Long, Checkpoint> bySeq = new HashMap<>();
      for (Checkpoint cp : checkpoints) {
        bySeq.put(cp.seq(), cp);
      }
      long lastCheckpointed = checkpoints.isEmpty() ? 0 : checkpoints.getLast().seq();
      byte[] h = AuditChain.genesis(logId);
      long expected = 1;
      long lastGoodCheckpoint = 0;
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT seq, time, payload, doc::text, hash FROM warden_audit WHERE log_id = ?"
                  + " ORDER BY seq")) {
        s.setFetchSize(1000);
        s.setString(1, logId);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            long seq = r.getLong(1);
            byte[] payload = r.getBytes(3);
            records++;
            if (seq != expected) {
              return new Problem(
                  expected,
                  seq > expected
                      ? "record " + expected + " is missing (the next one is " + seq + ")"
                      : "record "
                          + seq
                          + " appears again or out of order where record "
                          + expected
                          + " should be");
            }
            h = AuditChain.next(h, seq, payload);
            if (!MessageDigest.isEqual(h, r.getBytes(5))) {
              return new Problem(seq, "record " + seq + " was altered: its hash does not match");
            }
            Checkpoint cp = bySeq.get(seq);
            if (cp != null) {
              if (!MessageDigest.isEqual(h, cp.hash())) {
                return new Problem(
                    lastGoodCheckpoint + 1,
                    "the log up to record "
                        + seq
                        + " differs from its signed checkpoint: a record after "
                        + (lastGoodCheckpoint == 0
                            ? "the start"
                            : "record " + lastGoodCheckpoint + " (the last one that matches)")
                        + " was rewritten, with the chain recomputed");
              }
              lastGoodCheckpoint = seq;
            }
            String copy = copies(payload, r.getObject(2, OffsetDateTime.class), r.getString(4));
            if (copy != null) {
              return new Problem(seq, "record " + seq + "'s " + copy);
            }
            expected++;
          }
        }
      }
      long last = expected - 1;
      if (lastCheckpointed > last) {
        return new Problem(
            last + 1,
            "the log ends at record "
                + last
                + " but a signed checkpoint covers record "
                + lastCheckpointed
                + ": its tail was cut off");
      }
      return null;
    }

    /** What is wrong with the searchable copies of a record whose payload is genuine, or null. */
    private static String copies(byte[] payload, OffsetDateTime time, String doc) {
      Object fromPayload;
      try {
        fromPayload = Json.parse(Json.docSource(payload));
      } catch (Json.MalformedException e) {
        return "payload is not JSON (" + e.getMessage() + ")";
      }
      try {
        if (!Objects.equals(fromPayload, Json.parse(doc))) {
          return "doc differs from its payload: what searches show was altered";
        }
      } catch (Json.MalformedException e) {
        return "doc differs from its payload: what searches show was altered";
      }
      Object field = fromPayload instanceof Map<?, ?> m ? m.get("time") : null;
      try {
        if (!(field instanceof String text) || !Instant.parse(text).equals(time.toInstant())) {
          return "time column ("
              + time.toInstant()
              + ") differs from its payload's time: what searches show was altered";
        }
      } catch (DateTimeParseException e) {
        return "payload has an unreadable time";
      }
      return null;
    }
  }
}

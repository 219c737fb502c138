package dev.warden.store.postgres;

import dev.warden.core.audit.ChainVerifier;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
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
    List<Checkpoint> table = AuditTables.checkpoints(c, logId);
    List<Checkpoint> trusted = table;
    ChainVerifier.Result tableDiffers = null;
    if (witnessed.isPresent()) {
      List<Checkpoint> w = witnessed.get();
      ChainVerifier witnessChain = ChainVerifier.start(logId, w, key);
      if (!witnessChain.ok()) {
        return report(logId, witnessChain.finish(), 0, w.size(), "in the witness: ");
      }
      for (int i = 0; i < w.size() && tableDiffers == null; i++) {
        if (i >= table.size() || !w.get(i).equals(table.get(i))) {
          long previous = i == 0 ? 0 : w.get(i - 1).seq();
          tableDiffers =
              ChainVerifier.Result.bad(
                  previous + 1,
                  "the checkpoint at record "
                      + w.get(i).seq()
                      + " held by the witness is "
                      + (i >= table.size() ? "missing from" : "different in")
                      + " the checkpoint table: the table was rolled back or rewritten");
        }
      }
      if (tableDiffers != null) {
        // The witness is the copy the writer could not rewrite: judge the records by it.
        trusted = w;
      }
    }
    ChainVerifier chain = ChainVerifier.start(logId, trusted, key);
    long records = 0;
    if (chain.ok()) {
      try (PreparedStatement s =
          c.prepareStatement(
              "SELECT seq, time, payload, doc::text, hash FROM warden_audit WHERE log_id = ?"
                  + " ORDER BY seq")) {
        s.setFetchSize(1000);
        s.setString(1, logId);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            records++;
            long seq = r.getLong(1);
            byte[] payload = r.getBytes(3);
            if (!chain.accept(new ChainedRecord(seq, payload, r.getBytes(5)))) {
              break;
            }
            String copy = copies(payload, r.getObject(2, OffsetDateTime.class), r.getString(4));
            if (copy != null) {
              chain.fail(seq, "record " + seq + "'s " + copy);
              break;
            }
          }
        }
      }
    }
    ChainVerifier.Result result = chain.finish();
    if (result.intact() && tableDiffers != null) {
      result = tableDiffers;
    }
    return report(logId, result, records, trusted.size(), "");
  }

  private static Report report(
      String logId, ChainVerifier.Result r, long records, long checkpoints, String where) {
    return new Report(
        logId,
        r.intact(),
        r.firstBadSeq(),
        r.intact() ? r.reason() : where + r.reason(),
        records,
        checkpoints);
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

package dev.warden.store.postgres;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The SQL of the PostgreSQL audit store, in one place: the two tables, the batch insert and the
 * reads the writer and the verifier make.
 *
 * <p>{@code warden_audit} holds every instance's records, one hash chain per {@code log_id}; its
 * shape is what the search ({@code store.postgres.search}) reads. {@code warden_audit_checkpoint}
 * holds each log's signed checkpoints ({@link Checkpoint}), each naming the one before it.
 */
final class AuditTables {
  static final String RECORDS = "warden_audit";
  static final String CHECKPOINTS = "warden_audit_checkpoint";

  static final String CREATE_RECORDS =
      """
      CREATE TABLE IF NOT EXISTS warden_audit (
        log_id text NOT NULL, seq bigint NOT NULL, time timestamptz NOT NULL,
        payload bytea NOT NULL,
        doc jsonb NOT NULL,
        hash bytea NOT NULL, PRIMARY KEY (log_id, seq))""";

  static final String CREATE_CHECKPOINTS =
      """
      CREATE TABLE IF NOT EXISTS warden_audit_checkpoint (
        log_id text NOT NULL, seq bigint NOT NULL, hash bytea NOT NULL,
        wall_time_millis bigint NOT NULL,
        previous_signature bytea NOT NULL, signature bytea NOT NULL,
        PRIMARY KEY (log_id, seq))""";

  /** Serialises table creation between instances starting at once (a race of two CREATEs fails). */
  private static final long DDL_LOCK = 0x77617264656e4155L;

  // The doc is parsed by the server from the payload itself; the client sends a text only for the
  // rare payload jsonb cannot read as it is (see Json.docText).
  private static final String INSERT =
      """
      INSERT INTO warden_audit (log_id, seq, time, payload, doc, hash)
      SELECT ?, u.seq, u.time::timestamptz, u.payload,
             coalesce(u.doc::jsonb, convert_from(u.payload, 'UTF8')::jsonb), u.hash
      FROM unnest(?::bigint[], ?::text[], ?::bytea[], ?::text[], ?::bytea[])
           AS u(seq, time, payload, doc, hash)""";

  private static final String INSERT_CHECKPOINT =
      "INSERT INTO warden_audit_checkpoint"
          + " (log_id, seq, hash, wall_time_millis, previous_signature, signature)"
          + " VALUES (?, ?, ?, ?, ?, ?)";

  private AuditTables() {}

  /**
   * Creates the tables that do not exist. A role without CREATE on the schema can use tables an
   * administrator created ({@code CREATE TABLE IF NOT EXISTS} itself would need CREATE).
   */
  static void create(Connection c) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      try (ResultSet r =
          s.executeQuery(
              "SELECT to_regclass('"
                  + RECORDS
                  + "') IS NULL, to_regclass('"
                  + CHECKPOINTS
                  + "')"
                  + " IS NULL")) {
        r.next();
        if (r.getBoolean(1) || r.getBoolean(2)) {
          s.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
          s.execute(CREATE_RECORDS);
          s.execute(CREATE_CHECKPOINTS);
        }
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /** The database's encoding, which must be UTF8 for the payloads' text to be read as written. */
  static String serverEncoding(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SHOW server_encoding")) {
      r.next();
      return r.getString(1);
    }
  }

  /** One record to insert: its chained form, its time as the payload says it, its doc text. */
  record Row(ChainedRecord record, String time, String doc) {}

  /** Inserts {@code rows} of log {@code logId} with one statement, in the caller's transaction. */
  static void insert(Connection c, String logId, List<Row> rows) throws SQLException {
    int n = rows.size();
    Long[] seqs = new Long[n];
    String[] times = new String[n];
    byte[][] payloads = new byte[n][];
    String[] docs = new String[n];
    byte[][] hashes = new byte[n][];
    for (int i = 0; i < n; i++) {
      Row row = rows.get(i);
      seqs[i] = row.record().seq();
      times[i] = row.time();
      payloads[i] = row.record().payload();
      docs[i] = row.doc();
      hashes[i] = row.record().hash();
    }
    try (PreparedStatement s = c.prepareStatement(INSERT)) {
      s.setString(1, logId);
      s.setArray(2, c.createArrayOf("bigint", seqs));
      s.setArray(3, c.createArrayOf("text", times));
      s.setArray(4, c.createArrayOf("bytea", payloads));
      s.setArray(5, c.createArrayOf("text", docs));
      s.setArray(6, c.createArrayOf("bytea", hashes));
      s.executeUpdate();
    }
  }

  static void insert(Connection c, Checkpoint cp) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(INSERT_CHECKPOINT)) {
      s.setString(1, cp.logId());
      s.setLong(2, cp.seq());
      s.setBytes(3, cp.hash());
      s.setLong(4, cp.wallTimeMillis());
      s.setBytes(5, cp.previousSignature());
      s.setBytes(6, cp.signature());
      s.executeUpdate();
    }
  }

  /** The last record of {@code logId}, if it has any. */
  static Optional<ChainedRecord> last(Connection c, String logId) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT seq, payload, hash FROM warden_audit WHERE log_id = ?"
                + " ORDER BY seq DESC LIMIT 1")) {
      s.setString(1, logId);
      try (ResultSet r = s.executeQuery()) {
        return r.next()
            ? Optional.of(new ChainedRecord(r.getLong(1), r.getBytes(2), r.getBytes(3)))
            : Optional.empty();
      }
    }
  }

  /** The record {@code seq} of {@code logId}, if it is there. */
  static Optional<ChainedRecord> at(Connection c, String logId, long seq) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT seq, payload, hash FROM warden_audit WHERE log_id = ? AND seq = ?")) {
      s.setString(1, logId);
      s.setLong(2, seq);
      try (ResultSet r = s.executeQuery()) {
        return r.next()
            ? Optional.of(new ChainedRecord(r.getLong(1), r.getBytes(2), r.getBytes(3)))
            : Optional.empty();
      }
    }
  }

  /**
   * Streams the records of {@code logId} after {@code afterSeq}, in order, at most {@code limit}.
   * Runs in a transaction of its own so that the driver fetches in pages.
   */
  static void forEachAfter(
      Connection c, String logId, long afterSeq, long limit, Consumer<ChainedRecord> each)
      throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT seq, payload, hash FROM warden_audit WHERE log_id = ? AND seq > ?"
                + " ORDER BY seq LIMIT ?")) {
      s.setFetchSize(1000);
      s.setString(1, logId);
      s.setLong(2, afterSeq);
      s.setLong(3, limit);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          each.accept(new ChainedRecord(r.getLong(1), r.getBytes(2), r.getBytes(3)));
        }
      }
      c.commit();
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /** Every checkpoint of {@code logId}, in order of sequence number. */
  static List<Checkpoint> checkpoints(Connection c, String logId) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT log_id, seq, hash, wall_time_millis, previous_signature, signature"
                + " FROM warden_audit_checkpoint WHERE log_id = ? ORDER BY seq")) {
      s.setString(1, logId);
      List<Checkpoint> out = new ArrayList<>();
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out.add(checkpoint(r));
        }
      }
      return out;
    }
  }

  /** The last checkpoint of {@code logId}, if it has one. */
  static Optional<Checkpoint> lastCheckpoint(Connection c, String logId) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT log_id, seq, hash, wall_time_millis, previous_signature, signature"
                + " FROM warden_audit_checkpoint WHERE log_id = ? ORDER BY seq DESC LIMIT 1")) {
      s.setString(1, logId);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? Optional.of(checkpoint(r)) : Optional.empty();
      }
    }
  }

  private static Checkpoint checkpoint(ResultSet r) throws SQLException {
    return new Checkpoint(
        r.getString(1), r.getLong(2), r.getBytes(3), r.getLong(4), r.getBytes(5), r.getBytes(6));
  }

  /** The log ids that have records, in order. */
  static List<String> logIds(Connection c) throws SQLException {
    // A loose index scan: one probe of the primary key per log, however many records each holds.
    String sql =
        """
        WITH RECURSIVE ids(id) AS (
          (SELECT log_id FROM warden_audit ORDER BY log_id LIMIT 1)
          UNION ALL
          SELECT (SELECT log_id FROM warden_audit WHERE log_id > ids.id ORDER BY log_id LIMIT 1)
          FROM ids WHERE ids.id IS NOT NULL)
        SELECT id FROM ids WHERE id IS NOT NULL""";
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}

package dev.warden.store.postgres;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Reads the PostgreSQL audit store's logs as chained records, for whatever must catch up with a
 * log: an exporter after a restart, a live tail before it starts listening, tests. The searchable
 * view is {@code store.postgres.search}.
 */
public final class PostgresAuditReader {
  private PostgresAuditReader() {}

  /** The ids of the logs that have records, in order. */
  public static List<String> logIds(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return AuditTables.logIds(c);
    }
  }

  /** At most {@code limit} records of {@code logId} after {@code afterSeq}, in order. */
  public static List<ChainedRecord> readAfter(
      DataSource dataSource, String logId, long afterSeq, int limit) throws SQLException {
    Objects.requireNonNull(logId, "logId");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    List<ChainedRecord> out = new ArrayList<>(Math.min(limit, 1024));
    try (Connection c = dataSource.getConnection()) {
      AuditTables.forEachAfter(c, logId, afterSeq, limit, out::add);
    }
    return out;
  }

  /** The signed checkpoints of {@code logId}, in order. */
  public static List<Checkpoint> checkpoints(DataSource dataSource, String logId)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return AuditTables.checkpoints(c, logId);
    }
  }
}

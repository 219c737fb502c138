package dev.warden.server.audit;

import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.util.List;

/**
 * The trail read back in order from a sequence number on, so that an exporter that was down, or
 * behind, catches up from its cursor instead of losing what was written meanwhile. The embedded log
 * reads its segments; the PostgreSQL store reads its table.
 */
public interface RecordSource {
  /** The id of the log this source reads (the records' {@code log_id}). */
  String logId();

  /**
   * Up to {@code max} durable records with a sequence number greater than {@code after}, in order
   * and without gaps; empty when there are none yet.
   *
   * @throws IOException when the log cannot be read now (the exporter retries later)
   */
  List<ChainedRecord> readAfter(long after, int max) throws IOException;
}

package dev.warden.server.audit;

import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.util.List;

/** One destination of the export. Called from its worker thread only. */
interface Sink {
  /** The sink's name, as configured (for cursor files and messages; holds no secret). */
  String name();

  /** The most records {@link #deliver} takes at once. */
  int batchSize();

  /**
   * Delivers {@code batch} completely or throws; after a throw the same batch is offered again, so
   * a receiver may see records twice but never misses one.
   *
   * @throws IOException with a message fit to log (no secret, no webhook token)
   * @throws InterruptedException when the export is stopping
   */
  void deliver(String logId, List<ChainedRecord> batch) throws IOException, InterruptedException;
}

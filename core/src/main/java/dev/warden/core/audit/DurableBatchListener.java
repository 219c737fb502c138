package dev.warden.core.audit;

import java.util.List;

/**
 * Told of records once a store has made them durable, for live tails, exporters and search indexes:
 * every store calls its listeners the same way. Called on the store's writer thread, in chain
 * order, each record once: a listener must only hand the batch over (enqueue it, signal) and
 * return, never block or do I/O, since the writer waits; what it throws is logged and otherwise
 * ignored.
 */
@FunctionalInterface
public interface DurableBatchListener {
  /** Records {@code batch} of log {@code logId}, consecutive and in order, are durable. */
  void written(String logId, List<ChainedRecord> batch);
}

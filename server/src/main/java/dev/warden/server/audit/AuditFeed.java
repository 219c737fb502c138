package dev.warden.server.audit;

import dev.warden.core.audit.DurableBatchListener;

/**
 * The trail's batches as they become durable, for the live tail and to wake the exporters. Both
 * stores offer such a hook (the embedded log and the PostgreSQL store call their listeners after
 * each durable batch); the composition root passes {@code trail::addListener}.
 *
 * <p>Listeners run on the store's writer thread: they must only hand the batch over (enqueue,
 * signal) and return, never block or do I/O.
 */
@FunctionalInterface
public interface AuditFeed {
  /** Calls {@code listener} after each durable batch from now on, for as long as Warden runs. */
  void subscribe(DurableBatchListener listener);

  /** A feed that never delivers anything, for tools and tests that run without a live trail. */
  static AuditFeed none() {
    return listener -> {};
  }
}

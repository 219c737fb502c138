package dev.warden.core.audit;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The port every part of Warden records through: the proxy for sessions and statements, the server
 * for administrative acts. Implementations (the embedded log, the PostgreSQL store) chain and
 * persist records in the order they are appended.
 *
 * <p>{@link #append} never blocks: it is called on event loops. The future completes when the
 * record is as durable as asked, and fails with {@link AuditUnavailableException} when it cannot be
 * made so; from the first such failure on, {@link #unavailable()} says why and every later append
 * fails at once, until the trail is healthy again.
 */
public interface AuditTrail {
  /** Accepts {@code record}; completes when it is durable as {@code durability} asks. */
  CompletableFuture<Void> append(AuditRecord record, Durability durability);

  /** Why the trail refuses records now, or empty when it accepts them. */
  Optional<String> unavailable();
}

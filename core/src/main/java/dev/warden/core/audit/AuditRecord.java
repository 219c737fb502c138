package dev.warden.core.audit;

import java.time.Instant;

/**
 * One entry of the audit trail before it is encoded and chained: a statement's intent, its outcome,
 * or an event (a session starting or ending, an authentication, an administrative act).
 *
 * <p>Records are built on the hot path from references the proxy already holds; turning them into
 * bytes ({@link AuditEncoder}) happens on the audit writer, off the event loop.
 */
public sealed interface AuditRecord permits StatementIntent, StatementOutcome, AuditEvent {
  /** When it happened. */
  Instant time();
}

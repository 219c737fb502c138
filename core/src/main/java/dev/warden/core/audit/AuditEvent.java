package dev.warden.core.audit;

import dev.warden.core.gate.SessionContext;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Something other than a statement: a connection, an authentication, a disconnection, a policy
 * load, a change to users or tokens, an approval, a search of the audit trail itself, a recovery.
 *
 * @param time when it happened
 * @param name what happened, as a short kebab-case name ({@code connect}, {@code authenticate},
 *     {@code disconnect}, {@code policy-reload}, {@code user-add}, {@code audit-search}, ...)
 * @param success whether it succeeded
 * @param actor the identity that acted, or empty when none is known (a failed authentication names
 *     the user it claimed in {@code details})
 * @param session the session it belongs to, for session events
 * @param details further facts, never a password, token or other secret
 */
public record AuditEvent(
    Instant time,
    String name,
    boolean success,
    String actor,
    Optional<SessionContext> session,
    Map<String, String> details)
    implements AuditRecord {
  public AuditEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(session, "session");
    details = Map.copyOf(details);
  }
}

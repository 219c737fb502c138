package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the proxy records sessions and statements, and how.
 *
 * @param trail the audit trail
 * @param strict when true every statement waits for its intent record to be fsynced, not only the
 *     ones that change something
 * @param clock the time stamped on records
 * @param recordParameters when true the values of bind parameters are recorded with the statement
 *     (shortened); otherwise they are left out, as they may hold personal data or secrets
 */
public record ProxyAudit(AuditTrail trail, boolean strict, Clock clock, boolean recordParameters) {
  public ProxyAudit {
    Objects.requireNonNull(trail, "trail");
    Objects.requireNonNull(clock, "clock");
  }

  /** Records without bind parameter values. */
  public ProxyAudit(AuditTrail trail, boolean strict, Clock clock) {
    this(trail, strict, clock, false);
  }

  private static final Logger log = LoggerFactory.getLogger(ProxyAudit.class);

  /**
   * Appends {@code record} to the trail and logs it when the trail cannot take it; the caller
   * decides what else that failure means (a refusal, or nothing for a record of what already
   * happened).
   */
  CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    CompletableFuture<Void> done = trail.append(record, durability);
    done.whenComplete(
        (ok, failed) -> {
          if (failed != null) {
            log.error("{} could not be recorded: {}", describe(record), failed.getMessage());
          }
        });
    return done;
  }

  private static String describe(AuditRecord record) {
    return switch (record) {
      case StatementIntent i -> "session " + i.session().id() + ": statement " + i.number();
      case StatementOutcome o ->
          "session " + o.sessionId() + ": the outcome of statement " + o.number();
      case AuditEvent e -> "the " + e.name() + " event";
    };
  }
}

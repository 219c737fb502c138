package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditTrail;
import java.time.Clock;
import java.util.Objects;

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
}

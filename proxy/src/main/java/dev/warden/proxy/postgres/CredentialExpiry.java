package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import io.netty.channel.ChannelFutureListener;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a session when the credential it was opened with expires (THREATS AU07: a session must not
 * outlive its token). PostgreSQL's protocol has no way to authenticate a session again, so ending
 * it is the only way; clients and pools then reconnect with a fresh token. With {@link
 * LoginSettings.AtExpiry#WHEN_IDLE} the session is ended at the first moment after expiry when no
 * statement is running and no transaction is open, so work in progress is not cut off, and at the
 * latest after the grace period.
 */
final class CredentialExpiry {
  private static final Logger log = LoggerFactory.getLogger(CredentialExpiry.class);

  /** How often an expired session in a transaction is looked at again. */
  private static final Duration IDLE_POLL = Duration.ofMillis(500);

  private final ProxySession session;
  private final LoginSettings settings;
  private final ProxyAudit audit;
  private final Instant expiry;

  private CredentialExpiry(
      ProxySession session, LoginSettings settings, ProxyAudit audit, Instant expiry) {
    this.session = session;
    this.settings = settings;
    this.audit = audit;
    this.expiry = expiry;
  }

  /** Arranges for {@code session} to end when its identity's credential expires, if it does. */
  static void watch(ProxySession session, LoginSettings settings, ProxyAudit audit) {
    Optional<Instant> expiresAt = session.context.identity().expiresAt();
    if (expiresAt.isEmpty()) {
      return;
    }
    new CredentialExpiry(session, settings, audit, expiresAt.get()).schedule(expiresAt.get());
  }

  private void schedule(Instant at) {
    long delay = Math.max(0, Duration.between(audit.clock().instant(), at).toMillis());
    session.client.eventLoop().schedule(this::check, delay, TimeUnit.MILLISECONDS);
  }

  private void check() {
    if (!session.client.isActive()) {
      return;
    }
    Instant now = audit.clock().instant();
    if (now.isBefore(expiry)) {
      schedule(expiry); // the clock was behind the timer
      return;
    }
    boolean idle = session.transactionStatus == 'I' && session.exchanges.isEmpty();
    boolean graceOver = !now.isBefore(expiry.plus(settings.expiryGrace()));
    if (settings.atExpiry() == LoginSettings.AtExpiry.TERMINATE || idle || graceOver) {
      end(idle);
      return;
    }
    session.client.eventLoop().schedule(this::check, IDLE_POLL.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void end(boolean idle) {
    String who = session.context.identity().name();
    log.info(
        "session {}: {}'s credential expired at {}; ending the session{}",
        session.context.id(),
        who,
        expiry,
        idle ? "" : " (it was busy)");
    audit.append(
        new AuditEvent(
            audit.clock().instant(),
            "expire",
            true,
            who,
            Optional.of(session.context),
            Map.of(
                "credential_expired",
                expiry.toString(),
                "method",
                session.context.identity().methodName(),
                "idle",
                Boolean.toString(idle))),
        Durability.BOUNDED);
    // Closing the client leg lets the relay end (or, when idle, park) the upstream leg as for any
    // client that goes away.
    session
        .client
        .writeAndFlush(
            ClientErrors.fatal(
                session.client.alloc(),
                ClientErrors.INVALID_AUTHORIZATION,
                "Warden ended this session: the credential it was opened with ("
                    + session.context.identity().methodName()
                    + ") expired at "
                    + expiry
                    + "; connect again with a fresh one"))
        .addListener(ChannelFutureListener.CLOSE);
  }
}

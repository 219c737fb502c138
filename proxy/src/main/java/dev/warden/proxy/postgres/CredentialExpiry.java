package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.environment.AccessWindow;
import dev.warden.core.environment.AccessWindows;
import io.netty.channel.ChannelFutureListener;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a session when what it was opened with runs out: the credential (THREATS AU07: a session
 * must not outlive its token), or the access window that let it log in as an elevated role.
 * PostgreSQL's protocol has no way to authenticate a session again, nor to change the role a
 * session logged in as without losing its prepared statements, settings and temporary tables, so
 * ending it is the only way; clients and pools then reconnect, with a fresh token, or as the normal
 * role. With {@link LoginSettings.AtExpiry#WHEN_IDLE} the session is ended at the first moment
 * after expiry when no statement is running and no transaction is open, so work in progress is not
 * cut off, and at the latest after the grace period.
 */
final class CredentialExpiry {
  private static final Logger log = LoggerFactory.getLogger(CredentialExpiry.class);

  /** How often an expired session in a transaction is looked at again. */
  private static final Duration IDLE_POLL = Duration.ofMillis(500);

  /**
   * How often an elevated session asks whether its window is still open: a window may be ended
   * early (withdrawn), and the server's clock is the one that decides, not this loop's timers.
   */
  static final Duration WINDOW_POLL = Duration.ofSeconds(1);

  private final ProxySession session;
  private final LoginSettings settings;
  private final ProxyAudit audit;

  /**
   * When the session's credential expires; for a window, its end, or when it was noticed to have
   * been withdrawn before then.
   */
  private Instant expiry;

  private final Optional<AccessWindow> window;
  private final AccessWindows windows;

  /** Whether the window was seen to have ended. */
  private boolean ended;

  private CredentialExpiry(
      ProxySession session,
      LoginSettings settings,
      ProxyAudit audit,
      Instant expiry,
      Optional<AccessWindow> window,
      AccessWindows windows) {
    this.session = session;
    this.settings = settings;
    this.audit = audit;
    this.expiry = expiry;
    this.window = window;
    this.windows = windows;
  }

  /** Arranges for {@code session} to end when its identity's credential expires, if it does. */
  static void watch(ProxySession session, LoginSettings settings, ProxyAudit audit) {
    Optional<Instant> expiresAt = session.context.identity().expiresAt();
    if (expiresAt.isEmpty()) {
      return;
    }
    new CredentialExpiry(
            session, settings, audit, expiresAt.get(), Optional.empty(), AccessWindows.NONE)
        .schedule(expiresAt.get());
  }

  /**
   * Arranges for {@code session}, which logged in as {@code window}'s role, to end once {@code
   * windows} says the window is no longer open (its end, or withdrawn earlier), as an expired
   * credential's session ends.
   */
  static void watchWindow(
      ProxySession session,
      LoginSettings settings,
      ProxyAudit audit,
      AccessWindows windows,
      AccessWindow window) {
    CredentialExpiry watch =
        new CredentialExpiry(session, settings, audit, window.end(), Optional.of(window), windows);
    watch.schedule(window.end());
  }

  private void schedule(Instant at) {
    long delay = Math.max(0, Duration.between(audit.clock().instant(), at).toMillis());
    if (window.isPresent()) {
      delay = Math.min(delay, WINDOW_POLL.toMillis());
    }
    session.client.eventLoop().schedule(this::check, delay, TimeUnit.MILLISECONDS);
  }

  private void check() {
    if (!session.client.isActive()) {
      return;
    }
    Instant now = audit.clock().instant();
    if (window.isPresent() && !ended) {
      if (windows.isOpen(window.get().id(), now)) {
        schedule(window.get().end());
        return;
      }
      ended = true;
      // Withdrawn early: the grace period counts from when that was first noticed.
      if (now.isBefore(expiry)) {
        expiry = now;
      }
    } else if (now.isBefore(expiry)) {
      schedule(expiry); // the clock was behind the timer
      return;
    }
    boolean idle = session.transactionStatus == 'I' && session.exchanges.idle();
    boolean graceOver = !now.isBefore(expiry.plus(settings.expiryGrace()));
    if (settings.atExpiry() == LoginSettings.AtExpiry.TERMINATE || idle || graceOver) {
      end(idle);
      return;
    }
    session.client.eventLoop().schedule(this::check, IDLE_POLL.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void end(boolean idle) {
    String who = session.context.identity().name();
    Map<String, String> details = new LinkedHashMap<>();
    String message;
    if (window.isPresent()) {
      AccessWindow w = window.get();
      log.info(
          "session {}: {}'s access window {} for role {} ended; ending the session{}",
          session.context.id(),
          who,
          w.id(),
          w.role(),
          idle ? "" : " (it was busy)");
      details.put("access_window", w.id());
      details.put("role", w.role());
      details.put("window_ended", expiry.toString());
      message =
          "Warden ended this session: the access window for role "
              + w.role()
              + " ("
              + w.id()
              + ") ended; connect again to continue as your normal role";
    } else {
      log.info(
          "session {}: {}'s credential expired at {}; ending the session{}",
          session.context.id(),
          who,
          expiry,
          idle ? "" : " (it was busy)");
      details.put("credential_expired", expiry.toString());
      details.put("method", session.context.identity().methodName());
      message =
          "Warden ended this session: the credential it was opened with ("
              + session.context.identity().methodName()
              + ") expired at "
              + expiry
              + "; connect again with a fresh one";
    }
    details.put("idle", Boolean.toString(idle));
    audit.append(
        new AuditEvent(
            audit.clock().instant(),
            "expire",
            true,
            who,
            Optional.of(session.context),
            Map.copyOf(details)),
        Durability.BOUNDED);
    // Closing the client leg lets the relay end (or, when idle, park) the upstream leg as for any
    // client that goes away.
    session
        .client
        .writeAndFlush(
            ClientErrors.fatal(session.client.alloc(), ClientErrors.INVALID_AUTHORIZATION, message))
        .addListener(ChannelFutureListener.CLOSE);
  }
}

package dev.warden.proxy.postgres;

import dev.warden.core.audit.StatementIntent;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.session.LiveSession;
import dev.warden.core.session.SessionState;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A PostgreSQL session as the registry of live sessions shows it. It reads the fields the session
 * keeps anyway (statement count, transaction status) and the two the relays write for it (the last
 * intent, whether a statement is running), from whichever thread asks; ending the session is handed
 * to the session's own event loop.
 */
final class LiveProxySession implements LiveSession {
  private final ProxySession session;
  private final ProxyContext context;
  private final CancelRegistry.Target cancelTarget;
  private final String upstreamRole;
  private final Instant started;

  /**
   * @param cancelTarget where to cancel the session's running statement, or null when the server
   *     gave no cancel key
   */
  LiveProxySession(
      ProxySession session,
      ProxyContext context,
      CancelRegistry.Target cancelTarget,
      String upstreamRole,
      Instant started) {
    this.session = session;
    this.context = context;
    this.cancelTarget = cancelTarget;
    this.upstreamRole = upstreamRole;
    this.started = started;
  }

  @Override
  public SessionContext context() {
    return session.context;
  }

  @Override
  public String upstreamRole() {
    return upstreamRole;
  }

  @Override
  public Instant started() {
    return started;
  }

  @Override
  public SessionState state() {
    if (session.running) {
      return SessionState.ACTIVE;
    }
    return switch (session.transactionStatus) {
      case 'T' -> SessionState.IN_TRANSACTION;
      case 'E' -> SessionState.FAILED_TRANSACTION;
      default -> SessionState.IDLE;
    };
  }

  @Override
  public long statements() {
    return session.statements;
  }

  @Override
  public Optional<LastStatement> lastStatement() {
    StatementIntent last = session.lastIntent;
    return last == null
        ? Optional.empty()
        : Optional.of(new LastStatement(last.text(), last.lexical(), last.time()));
  }

  @Override
  public CompletableFuture<Void> terminate(String administrator, String reason) {
    CompletableFuture<Void> ended = new CompletableFuture<>();
    session.client.closeFuture().addListener(f -> ended.complete(null));
    session
        .client
        .eventLoop()
        .execute(
            () -> SessionTermination.begin(session, context, cancelTarget, administrator, reason));
    return ended;
  }

  @Override
  public String toString() {
    return "LiveProxySession[" + session.context.id() + "]";
  }
}

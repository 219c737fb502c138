package dev.warden.proxy.postgres;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a session because a Warden administrator said so, on the session's event loop. The client
 * gets what PostgreSQL sends for {@code pg_terminate_backend}: a FATAL ErrorResponse with SQLSTATE
 * 57P01 (admin_shutdown), here naming the administrator and the reason, and then the connection
 * closes. A statement still running upstream is cancelled, and the upstream connection is ended
 * with Terminate and closed, never parked for reuse (it may be inside a transaction, which the
 * server rolls back as the connection ends).
 *
 * <p>The error must not land inside a message the client is half-way through receiving: while the
 * upstream relay is mid-message, it is told to stop after that message, and the end waits for it
 * (checked every few milliseconds, at most {@link #BOUNDARY_WAIT}); nothing more is read from the
 * client meanwhile. If the message does not finish (a client that stopped reading), the connection
 * is closed without the error.
 */
final class SessionTermination {
  private static final Logger log = LoggerFactory.getLogger(SessionTermination.class);

  static final Duration BOUNDARY_WAIT = Duration.ofSeconds(10);
  private static final long POLL_MILLIS = 5;

  /** How long the client is given to take the error before its connection is closed anyway. */
  static final Duration FLUSH_WAIT = Duration.ofSeconds(5);

  private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

  private final ProxySession session;
  private final ProxyContext context;
  private final CancelRegistry.Target cancelTarget;
  private final String administrator;
  private final String reason;
  private final long deadline;

  private SessionTermination(
      ProxySession session,
      ProxyContext context,
      CancelRegistry.Target cancelTarget,
      String administrator,
      String reason) {
    this.session = session;
    this.context = context;
    this.cancelTarget = cancelTarget;
    this.administrator = administrator;
    this.reason = reason;
    this.deadline = System.nanoTime() + BOUNDARY_WAIT.toNanos();
  }

  /** Starts ending {@code session}; call on its event loop. A second call does nothing. */
  static void begin(
      ProxySession session,
      ProxyContext context,
      CancelRegistry.Target cancelTarget,
      String administrator,
      String reason) {
    if (!session.client.isActive() || session.terminating) {
      return;
    }
    session.terminating = true; // the client relay discards whatever the client sends from now
    session.client.config().setAutoRead(false);
    if (session.backend != null && session.backend.midMessage()) {
      // Nothing after the message being relayed: the end comes at its last byte, not the result's.
      session.backend.pauseAfterThisMessage();
    }
    new SessionTermination(session, context, cancelTarget, administrator, reason).attempt();
  }

  /** The message the client gets. */
  static String message(String administrator, String reason) {
    return "terminating connection: this session was ended by Warden administrator "
        + administrator
        + ": "
        + reason;
  }

  private void attempt() {
    Channel client = session.client;
    if (!client.isActive()) {
      return;
    }
    boolean midMessage = session.backend != null && session.backend.midMessage();
    if (midMessage && System.nanoTime() - deadline < 0) {
      client.eventLoop().schedule(this::attempt, POLL_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    end(!midMessage);
  }

  private void end(boolean tell) {
    Channel client = session.client;
    log.info(
        "session {}: {} ended by Warden administrator {}{}",
        session.context.id(),
        session.context.identity().name(),
        administrator,
        tell ? "" : " (closed without the error: a message to the client was half-sent)");
    if (session.running && cancelTarget != null) {
      CancelForwarder.send(context, client.eventLoop(), cancelTarget);
    }
    // Closed first, so that nothing the server still sends reaches the client after the error.
    Channel upstream = session.upstream;
    if (upstream.isActive()) {
      upstream.writeAndFlush(upstream.alloc().buffer(5).writeBytes(TERMINATE));
    }
    upstream.close();
    if (!tell) {
      client.close();
      return;
    }
    client
        .writeAndFlush(
            ClientErrors.fatal(
                client.alloc(), ClientErrors.ADMIN_SHUTDOWN, message(administrator, reason)))
        .addListener(ChannelFutureListener.CLOSE);
    client.eventLoop().schedule(() -> client.close(), FLUSH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}

package dev.warden.proxy.postgres;

import dev.warden.core.gate.SessionContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/**
 * The state of one proxied session once both legs are up. It lives on the session's event loop
 * (both channels share it), so nothing here is synchronised.
 *
 * <p>Refusals must reach the client in the order the server would have produced them, after the
 * answers to everything sent before them. Every Query, FunctionCall and Sync produces exactly one
 * ReadyForQuery upstream (Frontend/Backend Protocol, "Message Flow"), so ReadyForQuery messages are
 * counted both ways: a refusal is queued against the ordinal of the ReadyForQuery that the Sync
 * sent in place of the refused message will produce, and written just before it.
 */
final class ProxySession {
  final SessionContext context;
  final Channel client;
  final Channel upstream;
  private final CancelRegistry.Entry cancelKey;
  private final ArrayDeque<Injection> injections = new ArrayDeque<>();
  private long readyExpected;
  private long readySeen;

  /** The upstream-to-client relay, once installed; tells whether a message is half-sent. */
  RelayHandler backend;

  /** True once the client sent Terminate: the upstream closing next is expected. */
  boolean clientTerminated;

  /** True after a refused extended-protocol message, until the client's next Sync. */
  boolean discardUntilSync;

  /** The transaction status of the last ReadyForQuery relayed: 'I', 'T' or 'E'. */
  byte transactionStatus = 'I';

  ProxySession(
      SessionContext context, Channel client, Channel upstream, CancelRegistry.Entry cancelKey) {
    this.context = context;
    this.client = client;
    this.upstream = upstream;
    this.cancelKey = cancelKey;
  }

  /** A refusal waiting for its place in the response stream. */
  record Injection(long readyOrdinal, ByteBuf error, boolean relayReadyForQuery) {}

  /** Counts a message sent upstream that will be answered by one ReadyForQuery. */
  long expectReadyForQuery() {
    return ++readyExpected;
  }

  /** Queues {@code error} to go to the client just before ReadyForQuery number {@code ordinal}. */
  void injectBefore(long ordinal, ByteBuf error, boolean relayReadyForQuery) {
    injections.addLast(new Injection(ordinal, error, relayReadyForQuery));
  }

  /**
   * Counts a ReadyForQuery from upstream and returns the refusal that belongs before it, if any.
   */
  Injection readyForQueryArrived() {
    long ordinal = ++readySeen;
    Injection head = injections.peekFirst();
    if (head != null && head.readyOrdinal() == ordinal) {
      return injections.pollFirst();
    }
    return null;
  }

  /** Frees what the session holds; called once when either leg closes. */
  void release() {
    if (cancelKey != null) {
      cancelKey.close();
    }
    Injection i;
    while ((i = injections.pollFirst()) != null) {
      i.error().release();
    }
  }
}

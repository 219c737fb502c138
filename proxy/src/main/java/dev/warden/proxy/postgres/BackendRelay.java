package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream-to-client leg of a ready session. Result rows, copy data and notices are streamed
 * unread; only ReadyForQuery is inspected, to place refusals (see {@link ProxySession}) and to
 * follow the transaction status.
 */
final class BackendRelay extends RelayHandler {
  private static final Logger log = LoggerFactory.getLogger(BackendRelay.class);

  private final ProxySession session;
  private byte lastType;
  private boolean clientTold;

  BackendRelay(ProxySession session, Limits limits) {
    super(limits.maxMessageBytes());
    this.session = session;
  }

  @Override
  Channel peer() {
    return session.client;
  }

  @Override
  Route route(byte type, long length) {
    Frames.checkBackend(type, length, STREAMED);
    lastType = type;
    return type == 'Z' ? Route.INSPECT : Route.STREAM;
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    byte status = body.getByte(body.readerIndex());
    ProxySession.Injection injection = session.readyForQueryArrived();
    if (injection == null) {
      session.transactionStatus = status;
      return Outcome.FORWARD;
    }
    forwardUpTo(currentMessageStart());
    peer().write(injection.error(), peer().voidPromise());
    if (injection.relayReadyForQuery()) {
      session.transactionStatus = status;
      return Outcome.FORWARD;
    }
    return Outcome.DROP;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Channel client = session.client;
    if (client.isActive()
        && !midMessage()
        && lastType != 'E'
        && !session.clientTerminated
        && !clientTold) {
      // The server normally says why it ends a session (an ErrorResponse, already relayed); when
      // the connection simply drops, say so rather than leave the client guessing.
      client
          .writeAndFlush(
              ClientErrors.fatal(
                  client.alloc(),
                  ClientErrors.CONNECTION_FAILURE,
                  "the connection to the upstream database was lost"))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      client.close();
    }
    session.release();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof ProtocolException pe) {
      log.warn(
          "session {}: upstream sent an invalid message, closing: {}",
          session.context.id(),
          pe.getMessage());
      Channel client = session.client;
      if (client.isActive() && !midMessage()) {
        clientTold = true;
        client
            .writeAndFlush(
                ClientErrors.fatal(
                    client.alloc(),
                    ClientErrors.PROTOCOL_VIOLATION,
                    "Warden closed the session: the upstream database sent a message it refuses ("
                        + pe.getMessage()
                        + ")"))
            .addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      log.debug("session {}: upstream connection error", session.context.id(), cause);
    }
    ctx.close();
  }
}

package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.BackendMessages;
import dev.warden.protocol.postgres.ErrorResponse;
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
 * unread. ErrorResponse is read only while a refusal is on its way back, to swap the server's
 * syntax error for the refusal (see {@link FrontendRelay} and {@link ProxySession}).
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
    return type == ErrorResponse.TYPE && session.hasPendingRefusals()
        ? Route.INSPECT
        : Route.STREAM;
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    ErrorResponse error = (ErrorResponse) BackendMessages.decode(type, body);
    ByteBuf refusal = session.refusalFor(error.message());
    if (refusal == null) {
      return Outcome.FORWARD;
    }
    forwardUpTo(currentMessageStart());
    peer().write(refusal, peer().voidPromise());
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

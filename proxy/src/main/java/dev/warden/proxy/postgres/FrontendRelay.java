package dev.warden.proxy.postgres;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.FrontendMessages;
import dev.warden.protocol.postgres.FunctionCall;
import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.Parse;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-to-upstream leg of a ready session. Every statement-bearing message (Query, Parse,
 * FunctionCall) is decoded and put to the decision point before its bytes go upstream; everything
 * else is streamed. A refused message is replaced by a Sync, whose ReadyForQuery marks where the
 * refusal belongs in the response stream (see {@link ProxySession}); in the extended protocol the
 * rest of the batch up to the client's Sync is dropped, as the server itself does after an error.
 */
final class FrontendRelay extends RelayHandler {
  private static final Logger log = LoggerFactory.getLogger(FrontendRelay.class);
  private static final byte[] SYNC = {'S', 0, 0, 0, 4};

  private final ProxySession session;
  private final Gatekeeper gatekeeper;

  FrontendRelay(ProxySession session, Gatekeeper gatekeeper, Limits limits) {
    super(limits.maxMessageBytes());
    this.session = session;
    this.gatekeeper = gatekeeper;
  }

  @Override
  Channel peer() {
    return session.upstream;
  }

  @Override
  Route route(byte type, long length) {
    Frames.checkFrontend(type, length, STREAMED);
    if (type == 'X') {
      session.clientTerminated = true;
    }
    if (session.discardUntilSync && type != 'S') {
      return Route.DISCARD;
    }
    return switch (type) {
      case 'Q', 'P', 'F', 'S' -> Route.INSPECT;
      default -> Route.STREAM;
    };
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    return switch (type) {
      case 'Q' -> {
        Query query = (Query) FrontendMessages.decode(type, body);
        yield decide(
            ctx,
            new StatementRequest(
                session.context, query.sql(), Optional.empty(), StatementPath.SIMPLE),
            true);
      }
      case 'P' -> {
        Parse parse = (Parse) FrontendMessages.decode(type, body);
        yield decide(
            ctx,
            new StatementRequest(
                session.context,
                parse.sql(),
                Optional.of(parse.statementName()),
                StatementPath.PREPARED),
            false);
      }
      case 'F' -> {
        FunctionCall call = (FunctionCall) FrontendMessages.decode(type, body);
        yield decide(
            ctx,
            StatementRequest.functionCall(
                session.context, Integer.toUnsignedLong(call.functionOid())),
            true);
      }
      case 'S' -> {
        session.discardUntilSync = false;
        session.expectReadyForQuery();
        yield Outcome.FORWARD;
      }
      default -> throw new ProtocolException("unexpected message type " + (char) type);
    };
  }

  private Outcome decide(
      ChannelHandlerContext ctx, StatementRequest request, boolean answersWithReadyForQuery) {
    Verdict verdict = gatekeeper.decide(request);
    switch (verdict) {
      case Verdict.Allow allow -> {
        if (answersWithReadyForQuery) {
          session.expectReadyForQuery();
        }
        return Outcome.FORWARD;
      }
      case Verdict.Deny deny -> {
        log.debug("session {} statement refused: {}", session.context.id(), deny.message());
        forwardUpTo(currentMessageStart());
        peer().write(peer().alloc().buffer(5).writeBytes(SYNC), peer().voidPromise());
        long ordinal = session.expectReadyForQuery();
        session.injectBefore(
            ordinal, ClientErrors.denial(ctx.alloc(), deny), answersWithReadyForQuery);
        if (!answersWithReadyForQuery) {
          session.discardUntilSync = true;
        }
        return Outcome.DROP;
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeAfterFlush(session.upstream);
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof ProtocolException pe) {
      log.info(
          "session {}: protocol violation from client: {}", session.context.id(), pe.getMessage());
      if (session.backend != null && session.backend.midMessage()) {
        ctx.close(); // an error now would land inside a half-sent message
      } else {
        ctx.writeAndFlush(ClientErrors.fatal(ctx.alloc(), pe.sqlState(), pe.getMessage()))
            .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
      }
    } else {
      log.debug("session {}: client connection error", session.context.id(), cause);
      ctx.close();
    }
    session.upstream.close();
  }
}

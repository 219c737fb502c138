package dev.warden.proxy.postgres;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.FrontendMessage;
import dev.warden.protocol.postgres.FrontendMessages;
import dev.warden.protocol.postgres.FunctionCall;
import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.Parse;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import dev.warden.protocol.postgres.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-to-upstream leg of a ready session. Every statement-bearing message (Query, Parse,
 * FunctionCall) is decoded and put to the decision point before its bytes go upstream; everything
 * else is streamed.
 *
 * <p>A refused message is not simply dropped: it is replaced by a message of the same kind whose
 * text is a per-session marker that PostgreSQL rejects as a syntax error before executing anything
 * (a Query for Query and FunctionCall, a Parse of the same statement name for Parse). The server
 * then does exactly what it does after any error at that point, in any pipeline, COPY or
 * transaction state: it aborts the transaction block, discards the rest of an extended batch up to
 * Sync, and answers with ReadyForQuery where it would have. {@link BackendRelay} swaps the server's
 * syntax error for the refusal. Warden therefore never has to predict the server's response stream
 * (THREATS S06: "same error semantics as the server").
 */
final class FrontendRelay extends RelayHandler {
  private static final Logger log = LoggerFactory.getLogger(FrontendRelay.class);

  private final ProxySession session;

  private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

  private final Gatekeeper gatekeeper;
  private final UpstreamPool upstreamPool;

  FrontendRelay(
      ProxySession session, Gatekeeper gatekeeper, Limits limits, UpstreamPool upstreamPool) {
    super(limits.maxMessageBytes());
    this.session = session;
    this.gatekeeper = gatekeeper;
    this.upstreamPool = upstreamPool;
  }

  @Override
  Channel peer() {
    return session.upstream;
  }

  @Override
  Route route(byte type, long length) {
    Frames.checkFrontend(type, length, STREAMED);
    if (session.clientTerminated) {
      return Route.DISCARD; // nothing after Terminate is read, as the server reads nothing
    }
    return switch (type) {
      case Query.TYPE, Parse.TYPE, FunctionCall.TYPE -> Route.INSPECT;
      case Terminate.TYPE -> {
        // Not forwarded: whether the upstream connection ends too is decided when the client
        // leaves (it may be reset and reused).
        session.clientTerminated = true;
        yield Route.DISCARD;
      }
      default -> Route.STREAM;
    };
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    return switch (type) {
      case Query.TYPE -> {
        Query query = (Query) FrontendMessages.decode(type, body);
        StatementRequest request =
            StatementRequest.sql(
                session.context,
                query.sql(),
                Optional.empty(),
                StatementPath.SIMPLE,
                session.lexical,
                session.sqlPrepared);
        yield decide(ctx, request, Query::new);
      }
      case Parse.TYPE -> {
        Parse parse = (Parse) FrontendMessages.decode(type, body);
        StatementRequest request =
            StatementRequest.sql(
                session.context,
                parse.sql(),
                Optional.of(parse.statementName()),
                StatementPath.PREPARED,
                session.lexical,
                session.sqlPrepared);
        yield decide(ctx, request, marker -> new Parse(parse.statementName(), marker, List.of()));
      }
      case FunctionCall.TYPE -> {
        FunctionCall call = (FunctionCall) FrontendMessages.decode(type, body);
        StatementRequest request =
            StatementRequest.functionCall(
                session.context, Integer.toUnsignedLong(call.functionOid()), session.sqlPrepared);
        yield decide(ctx, request, Query::new);
      }
      default -> throw new ProtocolException("unexpected message type " + (char) type);
    };
  }

  private Outcome decide(
      ChannelHandlerContext ctx,
      StatementRequest request,
      Function<String, FrontendMessage> substitute) {
    switch (gatekeeper.decide(request).verdict()) {
      case Verdict.Allow allow -> {
        return Outcome.FORWARD;
      }
      case Verdict.Deny deny -> {
        log.debug("session {} statement refused: {}", session.context.id(), deny.message());
        String marker = session.refuse(ClientErrors.denial(ctx.alloc(), deny));
        forwardUpTo(currentMessageStart());
        ByteBuf out = peer().alloc().buffer(64);
        substitute.apply(marker).encode(out);
        peer().write(out, peer().voidPromise());
        return Outcome.DROP;
      }
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    super.channelReadComplete(ctx);
    if (session.clientTerminated) {
      closeAfterFlush(ctx.channel()); // the server closes after Terminate; so does Warden
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (upstreamReusable()) {
      session.upstream.pipeline().remove(session.backend);
      session.release();
      upstreamPool.resetAndPark(session.poolKey, session.login);
    } else if (session.upstream.isActive()) {
      session
          .upstream
          .writeAndFlush(session.upstream.alloc().buffer(5).writeBytes(TERMINATE))
          .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }
    ctx.fireChannelInactive();
  }

  /**
   * The upstream connection can be reset and kept when it is open and no message is half-way in
   * either direction (the stream can be read from a message boundary).
   */
  private boolean upstreamReusable() {
    return upstreamPool != null
        && session.login != null
        && session.upstream.isActive()
        && !hasPartialMessage()
        && session.backend != null
        && !session.backend.hasPartialMessage()
        && !session.hasPendingRefusals();
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

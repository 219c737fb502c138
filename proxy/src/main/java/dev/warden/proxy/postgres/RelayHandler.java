package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Relays typed PostgreSQL messages from one leg of a session to the other, forwarding the original
 * bytes.
 *
 * <p>Only the five-byte header of each message is read on the hot path. A message the subclass does
 * not need to see is streamed: its bytes are forwarded as they arrive, as slices of the read
 * buffer, however large it is and however it is split across reads, so nothing is buffered beyond
 * one socket read. A message the subclass inspects is gathered whole (bounded by the limits checked
 * on its header) and handed to {@link #onMessage}. Contiguous forwarded bytes go out as one slice;
 * writes are flushed once per read batch. When the other leg's socket buffer fills, this leg stops
 * reading, so a slow reader slows its own peer and nothing else.
 */
abstract class RelayHandler extends ChannelInboundHandlerAdapter {
  /** What to do with a message whose header has been read. */
  enum Route {
    /** Forward it as it arrives, unread. */
    STREAM,
    /** Drop it as it arrives, unread. */
    DISCARD,
    /** Gather it and call {@link #onMessage}. */
    INSPECT,
    /**
     * Gather its first {@link #PEEK_BYTES} bytes (or all of it, if shorter), call {@link #onPeek},
     * then forward it as it arrives: for a large message of which only a short head matters.
     */
    PEEK
  }

  /** What {@link #onMessage} decided. */
  enum Outcome {
    FORWARD,
    DROP,
    /** Forward it, then read nothing more from this leg until {@link #resume}. */
    FORWARD_THEN_PAUSE,
    /**
     * Neither forward nor drop it yet: keep it, and read nothing more from this leg, until the
     * future given to {@link #hold} completes; then the continuation decides (see {@link #hold}).
     */
    HOLD
  }

  /**
   * PostgreSQL's own bound on the messages that may be large (Bind, CopyData, ...): it drops a
   * connection that announces more ({@code PQ_LARGE_MESSAGE_LIMIT}). A peeked message is held to
   * it, so that a lying length ends the session at once rather than after a wait for bytes that
   * never come.
   */
  static final long LARGE_MESSAGE_LIMIT = 0x3FFF_FFFFL;

  /** How much of a {@link Route#PEEK} message is gathered before {@link #onPeek}. */
  static final int PEEK_BYTES = 1024;

  /**
   * The protocol's own bound for a message that is streamed: its length field is a signed Int32.
   * Streamed messages cost no memory, so only {@link #maxInspectedBytes} (what Warden would have to
   * gather) is held to the configured, smaller limit.
   */
  static final Limits STREAMED = new Limits(Integer.MAX_VALUE, Limits.defaults().maxStartupBytes());

  private final int maxInspectedBytes;
  private ByteBuf pending;
  private long streamRemaining;
  private boolean streamDiscard;
  private int forwardFrom;
  private ByteBuf current;
  private boolean paused;
  private boolean pauseAfterMessage;
  private Function<ByteBuf, Outcome> continuation;

  /**
   * Messages of this relay's own that replace inspected ones (masked rows), not yet written: they
   * are gathered and written as one buffer, before any later byte, rather than one write each.
   */
  private ByteBuf emitted;

  /** Emitted bytes are written once this many have gathered. */
  private static final int EMIT_CHUNK = 64 * 1024;

  RelayHandler(int maxInspectedBytes) {
    this.maxInspectedBytes = maxInspectedBytes;
  }

  /** The largest message this relay gathers whole. */
  final int maxInspectedBytes() {
    return maxInspectedBytes;
  }

  /** The channel this leg's bytes go to. */
  abstract Channel peer();

  /**
   * Checks a header against the protocol (with {@link #STREAMED} limits) and chooses a route;
   * throws ProtocolException for an invalid header.
   */
  abstract Route route(byte type, long length);

  /** Handles an inspected message; {@code body} is valid only during the call. */
  abstract Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body);

  /**
   * Handles the head of a peeked message: {@code head} holds the first bytes of its body (all of it
   * when {@code head.readableBytes() == length - 4}); valid only during the call.
   */
  void onPeek(ChannelHandlerContext ctx, byte type, ByteBuf head, long length) {
    throw new IllegalStateException("no peek handler for message type " + (char) type);
  }

  /**
   * Stops reading from this leg once the message being streamed has been forwarded, until {@link
   * #resume}. Called from {@link #route} for a message whose bytes must reach the peer but after
   * which nothing may follow for now.
   */
  final void pauseAfterThisMessage() {
    pauseAfterMessage = true;
  }

  /**
   * Holds the message being inspected until {@code ready} completes, for {@link #onMessage} to
   * return: the bytes before it are forwarded, it and everything after it wait, and when {@code
   * ready} completes (either way) the same message is handed to {@code then} instead of {@link
   * #onMessage}, with the relay in the same state as for the first call, and {@code then}'s outcome
   * applies. So a statement can wait for its audit record to become durable without blocking the
   * event loop, and without the relay buffering more than what the client already sent.
   */
  final Outcome hold(
      ChannelHandlerContext ctx,
      ByteBuf body,
      CompletableFuture<?> ready,
      Function<ByteBuf, Outcome> then) {
    if (ready.isDone()) {
      return then.apply(body);
    }
    continuation = then;
    ready.whenComplete(
        (ok, failed) ->
            ctx.executor()
                .execute(
                    () -> {
                      if (ctx.channel().isActive()) {
                        resume(ctx);
                        peer().flush();
                      }
                    }));
    return Outcome.HOLD;
  }

  /** True while the relay reading from {@link #peer} is paused and must stay so. */
  boolean peerPaused() {
    return false;
  }

  final boolean paused() {
    return paused;
  }

  /** Reads again after a pause, starting with the bytes that arrived meanwhile. */
  final void resume(ChannelHandlerContext ctx) {
    if (!paused) {
      return;
    }
    paused = false;
    if (pending != null && pending.isReadable()) {
      ByteBuf rest = pending;
      pending = null;
      channelRead(ctx, rest);
      peer().flush();
    }
    if (!paused && peer().isWritable()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  @Override
  public abstract void exceptionCaught(ChannelHandlerContext ctx, Throwable cause);

  /** True if part of a message has been read but not all of it, forwarded or not. */
  final boolean hasPartialMessage() {
    return streamRemaining > 0 || (pending != null && pending.isReadable());
  }

  /** True while a message to the peer has been partly forwarded. */
  final boolean midMessage() {
    return streamRemaining > 0;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf data = (ByteBuf) msg;
    if (paused) {
      // Bytes read before the pause took effect: keep them for resume().
      if (pending == null) {
        pending = ctx.alloc().buffer(Math.max(data.readableBytes(), 256));
      }
      pending.writeBytes(data);
      data.release();
      return;
    }
    ByteBuf in;
    if (pending == null) {
      in = data;
    } else {
      pending.writeBytes(data);
      data.release();
      in = pending;
    }
    current = in;
    forwardFrom = in.readerIndex();
    try {
      relay(ctx, in);
      forwardUpTo(in.readerIndex());
    } finally {
      current = null;
      keepRemainder(ctx, in);
    }
    if (paused || !peer().isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  private void relay(ChannelHandlerContext ctx, ByteBuf in) {
    while (in.isReadable()) {
      if (streamRemaining == 0 && pauseAfterMessage) {
        pauseAfterMessage = false;
        paused = true;
      }
      if (paused) {
        return;
      }
      if (streamRemaining > 0) {
        int n = (int) Math.min(streamRemaining, in.readableBytes());
        if (streamDiscard) {
          forwardUpTo(in.readerIndex());
          in.skipBytes(n);
          forwardFrom = in.readerIndex();
        } else {
          in.skipBytes(n);
        }
        streamRemaining -= n;
        if (streamRemaining == 0 && pauseAfterMessage) {
          pauseAfterMessage = false;
          paused = true;
        }
        continue;
      }
      if (in.readableBytes() < 5) {
        return;
      }
      int at = in.readerIndex();
      byte type = in.getByte(at);
      long length = in.getUnsignedInt(at + 1);
      switch (route(type, length)) {
        case STREAM -> {
          streamDiscard = false;
          streamRemaining = length + 1;
        }
        case DISCARD -> {
          streamDiscard = true;
          streamRemaining = length + 1;
        }
        case INSPECT -> {
          if (length > maxInspectedBytes) {
            throw new ProtocolException(
                "message of type "
                    + (char) type
                    + " is larger than the configured limit of "
                    + maxInspectedBytes
                    + " bytes");
          }
          if (in.readableBytes() < length + 1) {
            return;
          }
          ByteBuf body = in.slice(at + 5, (int) length - 4);
          Function<ByteBuf, Outcome> then = continuation;
          continuation = null;
          Outcome outcome = then != null ? then.apply(body) : onMessage(ctx, type, body);
          switch (outcome) {
            case HOLD -> {
              forwardUpTo(at);
              paused = true;
              return;
            }
            case FORWARD -> in.skipBytes((int) length + 1);
            case FORWARD_THEN_PAUSE -> {
              in.skipBytes((int) length + 1);
              paused = true;
            }
            case DROP -> {
              forwardSlice(at); // what the relay emitted in its place waits in order
              in.skipBytes((int) length + 1);
              forwardFrom = in.readerIndex();
            }
          }
        }
        case PEEK -> {
          if (length > LARGE_MESSAGE_LIMIT) {
            throw new ProtocolException(
                "message of type "
                    + (char) type
                    + " is longer than PostgreSQL accepts ("
                    + LARGE_MESSAGE_LIMIT
                    + " bytes)");
          }
          int headBytes = (int) Math.min(length - 4, PEEK_BYTES);
          if (in.readableBytes() < 5 + headBytes) {
            return;
          }
          onPeek(ctx, type, in.slice(at + 5, headBytes), length);
          streamDiscard = false;
          streamRemaining = length + 1;
        }
      }
    }
  }

  /**
   * Forwards the not yet forwarded bytes of the current read up to {@code index}. Subclasses call
   * it before writing a message of their own, so that order is kept.
   */
  final void forwardUpTo(int index) {
    forwardSlice(index);
    flushEmitted();
  }

  /** Writes the read bytes up to {@code index}, after what was emitted before them. */
  private void forwardSlice(int index) {
    ByteBuf in = current;
    if (in != null && index > forwardFrom) {
      flushEmitted();
      peer().write(in.retainedSlice(forwardFrom, index - forwardFrom), peer().voidPromise());
      forwardFrom = index;
    }
  }

  /**
   * The buffer to write a message of this relay's own into, in place of the message being inspected
   * (which {@link #onMessage} then drops): it reaches the peer after everything before that message
   * and before everything after it. Consecutive replacements share one write.
   */
  final ByteBuf emitBuffer() {
    forwardSlice(currentMessageStart());
    ByteBuf out = emitted;
    if (out != null && out.readableBytes() >= EMIT_CHUNK) {
      flushEmitted();
      out = null;
    }
    if (out == null) {
      out = peer().alloc().buffer(EMIT_CHUNK + EMIT_CHUNK / 4);
      emitted = out;
    }
    return out;
  }

  /** Writes what was emitted and not yet written. */
  private void flushEmitted() {
    ByteBuf out = emitted;
    if (out != null) {
      emitted = null;
      if (out.isReadable()) {
        peer().write(out, peer().voidPromise());
      } else {
        out.release();
      }
    }
  }

  /** The reader index of the message being inspected, for {@link #forwardUpTo}. */
  final int currentMessageStart() {
    return current.readerIndex();
  }

  private void keepRemainder(ChannelHandlerContext ctx, ByteBuf in) {
    if (!in.isReadable()) {
      in.release();
      pending = null;
      return;
    }
    if (in == pending && in.readerIndex() == 0) {
      return; // still gathering one message: keep appending to the same buffer
    }
    // Copy rather than compact in place: slices of this buffer may still wait to be flushed.
    ByteBuf rest = ctx.alloc().buffer(Math.max(in.readableBytes(), 256));
    rest.writeBytes(in);
    in.release();
    pending = rest;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer().flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // This leg drained: let the peer, which writes to it, read again.
    if (ctx.channel().isWritable() && !peerPaused()) {
      peer().config().setAutoRead(true);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (pending != null) {
      pending.release();
      pending = null;
    }
    if (emitted != null) {
      emitted.release();
      emitted = null;
    }
  }

  /** Closes {@code channel} once what was written to it has been flushed. */
  static void closeAfterFlush(Channel channel) {
    if (channel.isActive()) {
      channel
          .writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      channel.close();
    }
  }
}

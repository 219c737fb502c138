package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

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
    INSPECT
  }

  /** What {@link #onMessage} decided. */
  enum Outcome {
    FORWARD,
    DROP
  }

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

  RelayHandler(int maxInspectedBytes) {
    this.maxInspectedBytes = maxInspectedBytes;
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
    if (!peer().isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  private void relay(ChannelHandlerContext ctx, ByteBuf in) {
    while (in.isReadable()) {
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
          switch (onMessage(ctx, type, body)) {
            case FORWARD -> in.skipBytes((int) length + 1);
            case DROP -> {
              forwardUpTo(at);
              in.skipBytes((int) length + 1);
              forwardFrom = in.readerIndex();
            }
          }
        }
      }
    }
  }

  /**
   * Forwards the not yet forwarded bytes of the current read up to {@code index}. Subclasses call
   * it before writing a message of their own, so that order is kept.
   */
  final void forwardUpTo(int index) {
    ByteBuf in = current;
    if (in != null && index > forwardFrom) {
      peer().write(in.retainedSlice(forwardFrom, index - forwardFrom), peer().voidPromise());
      forwardFrom = index;
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
    if (ctx.channel().isWritable()) {
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

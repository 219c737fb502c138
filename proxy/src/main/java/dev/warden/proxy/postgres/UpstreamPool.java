package dev.warden.proxy.postgres;

import dev.warden.core.environment.Upstream;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logged-in upstream connections kept for reuse, so that a client that connects for every
 * transaction does not make the database start a new backend each time (what pgbouncer's session
 * mode gives).
 *
 * <p>A connection is reused only by a later session with the same key: the same upstream, database,
 * client settings, <em>identity</em> (the identity is part of the upstream session, as {@code
 * warden.identity}) and <em>role</em> (with the access window that granted it, if any), so no state
 * crosses from one identity to another, and a connection opened under an elevated role never serves
 * a session after its window, nor a normal one. Before it is parked, the connection is reset with
 * {@code DISCARD ALL} (prepared statements, temporary tables, settings, LISTEN, advisory locks),
 * which the server refuses inside a transaction block; any error, anything unexpected, a connection
 * still busy after {@link #RESET_TIMEOUT}, or a half-relayed message, and the connection is closed
 * instead. Parked connections are closed after {@link #IDLE_TIMEOUT}, or when the server says
 * anything or hangs up.
 *
 * <p>Connections belong to the event loop of the session that opened them (both legs of a session
 * share a loop), so each loop has its own pool, touched only from that loop.
 */
final class UpstreamPool {
  private static final Logger log = LoggerFactory.getLogger(UpstreamPool.class);

  static final Duration RESET_TIMEOUT = Duration.ofSeconds(5);
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
  static final int MAX_PARKED_PER_KEY = 32;
  private static final int MAX_RESET_MESSAGE = 64 * 1024;
  private static final String RESET_TAG = "DISCARD ALL";

  /**
   * What a reused connection must have in common with the session that wants it.
   *
   * @param role the role the session logs in as, as Warden names it: the role mapping's name with
   *     the id of the access window that granted it, or the upstream role for a normal login
   */
  record Key(
      Upstream upstream,
      String database,
      Map<String, String> settings,
      String identity,
      String role) {
    Key {
      settings = Map.copyOf(settings);
      java.util.Objects.requireNonNull(role, "role");
    }
  }

  /**
   * A logged-in upstream connection and what its login told the client: the server's
   * ParameterStatus messages, its process id and its cancel key.
   */
  record Login(Channel channel, byte[] greeting, int processId, byte[] secretKey) {
    Login {
      greeting = greeting.clone();
      secretKey = secretKey.clone();
    }

    @Override
    public byte[] greeting() {
      return greeting.clone();
    }

    @Override
    public byte[] secretKey() {
      return secretKey.clone();
    }
  }

  private final Map<EventLoop, Map<Key, ArrayDeque<Login>>> parked = new ConcurrentHashMap<>();

  private Map<Key, ArrayDeque<Login>> loopPool(EventLoop loop) {
    return parked.computeIfAbsent(loop, l -> new HashMap<>());
  }

  /** A parked connection for {@code key} on {@code loop}, or null; call on {@code loop}. */
  Login take(EventLoop loop, Key key) {
    ArrayDeque<Login> logins = loopPool(loop).get(key);
    while (logins != null && !logins.isEmpty()) {
      Login login = logins.pollFirst();
      Channel channel = login.channel();
      IdleWatch watch = channel.pipeline().get(IdleWatch.class);
      if (watch != null && channel.isActive()) {
        channel.pipeline().remove(watch);
        return login;
      }
      channel.close();
    }
    return null;
  }

  /**
   * Resets {@code login}'s connection, whose relay has been removed, and parks it when the reset
   * succeeds; closes it otherwise. Call on the connection's event loop.
   */
  void resetAndPark(Key key, Login login) {
    Channel channel = login.channel();
    channel.pipeline().addLast("reset", new Reset(key, login));
    ByteBuf out = channel.alloc().buffer(32);
    new Query(RESET_TAG).encode(out);
    channel.writeAndFlush(out);
  }

  int parkedCount() {
    int n = 0;
    for (Map<Key, ArrayDeque<Login>> pool : parked.values()) {
      for (ArrayDeque<Login> logins : pool.values()) {
        n += logins.size();
      }
    }
    return n;
  }

  private void park(ChannelHandlerContext ctx, Key key, Login login) {
    ArrayDeque<Login> logins =
        loopPool(ctx.channel().eventLoop()).computeIfAbsent(key, k -> new ArrayDeque<>());
    if (logins.size() >= MAX_PARKED_PER_KEY) {
      ctx.close();
      return;
    }
    ctx.pipeline().replace(ctx.handler(), "idle", new IdleWatch(key, login));
    logins.addLast(login);
  }

  private void forget(EventLoop loop, Key key, Login login) {
    ArrayDeque<Login> logins = loopPool(loop).get(key);
    if (logins != null) {
      logins.remove(login);
      if (logins.isEmpty()) {
        loopPool(loop).remove(key);
      }
    }
  }

  /** Reads the answer to DISCARD ALL; parks the connection on a clean ReadyForQuery. */
  private final class Reset extends ChannelInboundHandlerAdapter {
    private final Key key;
    private final Login login;
    private ByteBuf buffer;
    private boolean discarded;
    private ScheduledFuture<?> timeout;

    Reset(Key key, Login login) {
      this.key = key;
      this.login = login;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      buffer = ctx.alloc().buffer(256);
      timeout =
          ctx.executor()
              .schedule(
                  () -> {
                    log.debug("upstream connection still busy after reset timeout; closing");
                    ctx.close();
                  },
                  RESET_TIMEOUT.toMillis(),
                  TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      timeout.cancel(false);
      if (buffer != null) {
        buffer.release();
        buffer = null;
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf data = (ByteBuf) msg;
      try {
        buffer.writeBytes(data);
      } finally {
        data.release();
      }
      try {
        while (buffer != null && buffer.readableBytes() >= 5) {
          int at = buffer.readerIndex();
          byte type = buffer.getByte(at);
          long length = buffer.getUnsignedInt(at + 1);
          Frames.checkBackend(type, length, RelayHandler.STREAMED);
          if (length > MAX_RESET_MESSAGE) {
            // An earlier query's large answer: not worth waiting for.
            ctx.close();
            return;
          }
          if (buffer.readableBytes() < length + 1) {
            return;
          }
          ByteBuf body = buffer.retainedSlice(at + 5, (int) length - 4);
          buffer.skipBytes((int) length + 1);
          try {
            if (!handle(ctx, type, body)) {
              return;
            }
          } finally {
            body.release();
          }
        }
      } catch (ProtocolException e) {
        ctx.close();
      }
    }

    /** Returns false when this handler is done (parked or closed). */
    private boolean handle(ChannelHandlerContext ctx, byte type, ByteBuf body) {
      switch (type) {
        case 'E' -> {
          ctx.close();
          return false;
        }
        case 'C' -> {
          String tag =
              body.toString(body.readerIndex(), body.readableBytes() - 1, StandardCharsets.UTF_8);
          discarded = RESET_TAG.equals(tag);
          return true;
        }
        case 'Z' -> {
          if (!discarded) {
            return true; // the answer to something the departed client sent
          }
          if (body.getByte(body.readerIndex()) != 'I' || buffer.isReadable()) {
            ctx.close();
            return false;
          }
          park(ctx, key, login);
          return false;
        }
        default -> {
          return true;
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Watches a parked connection: any word from the server, or its closing, ends it. */
  private final class IdleWatch extends ChannelInboundHandlerAdapter {
    private final Key key;
    private final Login login;
    private ScheduledFuture<?> expiry;

    IdleWatch(Key key, Login login) {
      this.key = key;
      this.login = login;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      expiry =
          ctx.executor()
              .schedule(
                  () -> {
                    forget(ctx.channel().eventLoop(), key, login);
                    ctx.close();
                  },
                  IDLE_TIMEOUT.toMillis(),
                  TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      expiry.cancel(false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
      forget(ctx.channel().eventLoop(), key, login);
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      forget(ctx.channel().eventLoop(), key, login);
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      forget(ctx.channel().eventLoop(), key, login);
      ctx.close();
    }
  }
}

package dev.warden.proxy.postgres;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The socket implementation. On Linux, io_uring where the kernel allows it, then epoll; Java NIO
 * elsewhere. io_uring submits and completes socket reads and writes in batches, so the event loop
 * makes fewer kernel transitions per statement: measured here, it cut Warden's CPU per point select
 * by about a seventh against epoll (docs/benchmarks.md). The system property {@code
 * warden.transport} ({@code io_uring}, {@code epoll} or {@code nio}) forces one, for a kernel whose
 * io_uring misbehaves or is forbidden by policy.
 *
 * <p>Upstream connections use the same transport and the client's event loop, so both legs of a
 * session share one thread and need no locks.
 */
record Transport(
    String name,
    Supplier<IoHandlerFactory> ioHandler,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel) {

  static final String PROPERTY = "warden.transport";

  static Transport best() {
    String forced = System.getProperty(PROPERTY, "").toLowerCase(Locale.ROOT);
    return switch (forced) {
      case "" -> IoUring.isAvailable() ? ioUring() : Epoll.isAvailable() ? epoll() : nio();
      case "io_uring" -> {
        IoUring.ensureAvailability();
        yield ioUring();
      }
      case "epoll" -> {
        Epoll.ensureAvailability();
        yield epoll();
      }
      case "nio" -> nio();
      default ->
          throw new IllegalArgumentException(
              PROPERTY + " must be io_uring, epoll or nio, not " + forced);
    };
  }

  private static Transport ioUring() {
    return new Transport(
        "io_uring",
        IoUringIoHandler::newFactory,
        IoUringServerSocketChannel.class,
        IoUringSocketChannel.class);
  }

  private static Transport epoll() {
    return new Transport(
        "epoll",
        EpollIoHandler::newFactory,
        EpollServerSocketChannel.class,
        EpollSocketChannel.class);
  }

  private static Transport nio() {
    return new Transport(
        "nio", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class);
  }

  EventLoopGroup newGroup(int threads, String threadName) {
    return new MultiThreadIoEventLoopGroup(
        threads,
        new io.netty.util.concurrent.DefaultThreadFactory(threadName, true),
        ioHandler.get());
  }
}

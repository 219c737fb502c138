package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.CancelRequest;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a verified cancel to the upstream backend, with the upstream's own key, on a connection of
 * its own as the protocol requires. The server answers a cancel by closing the connection.
 */
final class CancelForwarder {
  private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);

  private CancelForwarder() {}

  static void send(ProxyContext context, EventLoop loop, CancelRegistry.Target target) {
    new Bootstrap()
        .group(loop)
        .channel(context.transport().socketChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .handler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelActive(ChannelHandlerContext ctx) {
                ByteBuf out = ctx.alloc().buffer(16);
                new CancelRequest(target.processId(), target.secretKey()).encode(out);
                ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }
            })
        .connect(target.upstream().getHostString(), target.upstream().getPort())
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    log.info("cancel forwarded to backend {}", target.processId());
                  } else {
                    log.warn("cannot forward cancel to upstream: {}", f.cause().toString());
                  }
                });
  }
}

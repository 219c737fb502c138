package dev.warden.proxy.postgres;

import dev.warden.core.environment.TlsMode;
import dev.warden.protocol.postgres.CancelRequest;
import dev.warden.protocol.postgres.SSLRequest;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a verified cancel to the upstream backend, with the upstream's own key, on a connection of
 * its own as the protocol requires, and through TLS when the environment's upstream uses TLS (the
 * key is a secret). The server answers a cancel by closing the connection.
 */
final class CancelForwarder {
  private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);

  private CancelForwarder() {}

  static void send(ProxyContext context, EventLoop loop, CancelRegistry.Target target) {
    boolean tls = target.upstream().tls() != TlsMode.DISABLE;
    new Bootstrap()
        .group(loop)
        .channel(context.transport().socketChannel())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
        .handler(
            new ChannelInboundHandlerAdapter() {
              private boolean awaitingTlsAnswer = tls;

              @Override
              public void channelActive(ChannelHandlerContext ctx) {
                if (tls) {
                  ByteBuf out = ctx.alloc().buffer(8);
                  new SSLRequest().encode(out);
                  ctx.writeAndFlush(out);
                } else {
                  sendCancel(ctx);
                }
              }

              private void sendCancel(ChannelHandlerContext ctx) {
                ByteBuf out = ctx.alloc().buffer(16);
                new CancelRequest(target.processId(), target.secretKey()).encode(out);
                ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf in = (ByteBuf) msg;
                try {
                  if (!awaitingTlsAnswer) {
                    return;
                  }
                  awaitingTlsAnswer = false;
                  if (in.readableBytes() != 1 || in.getByte(in.readerIndex()) != 'S') {
                    log.warn("upstream refused TLS for a cancel request; cancel not sent");
                    ctx.close();
                    return;
                  }
                  SslHandler handler =
                      context.upstreamTls().newHandler(target.upstream(), ctx.alloc());
                  ctx.pipeline().addFirst("tls", handler);
                  handler
                      .handshakeFuture()
                      .addListener(
                          f -> {
                            if (f.isSuccess()) {
                              sendCancel(ctx);
                            } else {
                              log.warn(
                                  "TLS handshake for a cancel request failed: {}",
                                  f.cause().toString());
                              ctx.close();
                            }
                          });
                } finally {
                  ReferenceCountUtil.release(in);
                }
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }
            })
        .connect(target.upstream().host(), target.upstream().port())
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

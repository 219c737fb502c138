package dev.warden.proxy.postgres;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS towards upstream databases. {@code require} encrypts without checking the certificate (as
 * libpq's {@code sslmode=require}); {@code verify-full} checks the chain against the configured CA
 * file or the JDK's trust store and matches the host name.
 */
final class UpstreamTls {
  private final Map<Upstream, SslContext> contexts = new ConcurrentHashMap<>();

  SslHandler newHandler(Upstream upstream, ByteBufAllocator alloc) {
    SslContext context = contexts.computeIfAbsent(upstream, UpstreamTls::build);
    SslHandler handler = context.newHandler(alloc, upstream.host(), upstream.port());
    if (upstream.tls() == TlsMode.VERIFY_FULL) {
      SSLEngine engine = handler.engine();
      SSLParameters params = engine.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(params);
    }
    return handler;
  }

  private static SslContext build(Upstream upstream) {
    try {
      SslContextBuilder builder = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
      switch (upstream.tls()) {
        case REQUIRE -> builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        case VERIFY_FULL -> {
          if (upstream.caFile().isPresent()) {
            try (var in = Files.newInputStream(upstream.caFile().get())) {
              builder.trustManager(in);
            }
          }
        }
        case DISABLE -> throw new IllegalStateException("TLS is disabled for this upstream");
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS to " + upstream.host(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the upstream CA file", e);
    }
  }
}

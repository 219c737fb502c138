package dev.warden.proxy.postgres;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the PostgreSQL listener behaves.
 *
 * @param listen address to bind
 * @param tls TLS for clients; empty means clients asking for TLS are told it is not available
 * @param authTimeout the total time a client has from connecting to a ready session (startup, TLS,
 *     authentication and the upstream login); slow or silent clients are closed after it (THREATS
 *     P07)
 * @param maxClients connections above this are refused with SQLSTATE 53300
 * @param maxMessageBytes the largest message accepted in either direction
 */
public record ProxySettings(
    InetSocketAddress listen,
    Optional<ListenerTls> tls,
    Duration authTimeout,
    int maxClients,
    int maxMessageBytes) {
  public ProxySettings {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(authTimeout, "authTimeout");
    if (authTimeout.isNegative() || authTimeout.isZero()) {
      throw new IllegalArgumentException("authTimeout must be positive");
    }
    if (maxClients < 1) {
      throw new IllegalArgumentException("maxClients must be positive");
    }
    if (maxMessageBytes < 1024) {
      throw new IllegalArgumentException("maxMessageBytes must be at least 1024");
    }
  }

  /** Ten seconds to log in, a thousand clients, 64 MiB messages, no TLS. */
  public static ProxySettings defaults(InetSocketAddress listen) {
    return new ProxySettings(listen, Optional.empty(), Duration.ofSeconds(10), 1000, 64 << 20);
  }

  public ProxySettings withTls(ListenerTls tls) {
    return new ProxySettings(listen, Optional.of(tls), authTimeout, maxClients, maxMessageBytes);
  }
}

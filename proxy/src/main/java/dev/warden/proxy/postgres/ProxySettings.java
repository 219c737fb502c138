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
 * @param maxMessageBytes the largest message Warden gathers to inspect (Query, Parse,
 *     FunctionCall); messages it streams are bounded by the protocol only
 * @param ioThreads event-loop threads; each session's two legs share one
 * @param reuseUpstreamConnections when true, a session that ends cleanly leaves its upstream
 *     connection, reset with DISCARD ALL, for the next session of the same identity, database and
 *     settings (see UpstreamPool)
 * @param readCatalogues when true, each upstream database's catalogue is read to resolve
 *     unqualified relation names (see Catalogs)
 */
public record ProxySettings(
    InetSocketAddress listen,
    Optional<ListenerTls> tls,
    Duration authTimeout,
    int maxClients,
    int maxMessageBytes,
    int ioThreads,
    boolean reuseUpstreamConnections,
    Duration catalogueMaxAge) {
  /** Thirty seconds: schema changes made around Warden are seen within that. */
  public static final Duration DEFAULT_CATALOGUE_MAX_AGE = Duration.ofSeconds(30);

  public ProxySettings {
    Objects.requireNonNull(catalogueMaxAge, "catalogueMaxAge");
    if (catalogueMaxAge.isNegative()) {
      throw new IllegalArgumentException("catalogueMaxAge must not be negative");
    }
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
    if (ioThreads < 1) {
      throw new IllegalArgumentException("ioThreads must be positive");
    }
  }

  /**
   * Settings with the default number of event-loop threads ({@link #defaultIoThreads()}) and
   * upstream connection reuse on.
   */
  public ProxySettings(
      InetSocketAddress listen,
      Optional<ListenerTls> tls,
      Duration authTimeout,
      int maxClients,
      int maxMessageBytes) {
    this(
        listen,
        tls,
        authTimeout,
        maxClients,
        maxMessageBytes,
        defaultIoThreads(),
        true,
        DEFAULT_CATALOGUE_MAX_AGE);
  }

  /**
   * One event-loop thread per two cores. Each session lives on one thread, and one thread relays
   * many thousands of statements a second; every extra thread adds wake-ups (context switches) per
   * statement. Measured on 2 cores shared with PostgreSQL and pgbench: one thread spent about 1.5×
   * pgbouncer's CPU per point select where two spent 1.6–2.2× (docs/benchmarks.md).
   */
  public static int defaultIoThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  /** Ten seconds to log in, a thousand clients, 64 MiB messages, no TLS. */
  public static ProxySettings defaults(InetSocketAddress listen) {
    return new ProxySettings(listen, Optional.empty(), Duration.ofSeconds(10), 1000, 64 << 20);
  }

  public ProxySettings withTls(ListenerTls tls) {
    return new ProxySettings(
        listen,
        Optional.of(tls),
        authTimeout,
        maxClients,
        maxMessageBytes,
        ioThreads,
        reuseUpstreamConnections,
        catalogueMaxAge);
  }

  public ProxySettings withIoThreads(int ioThreads) {
    return new ProxySettings(
        listen,
        tls,
        authTimeout,
        maxClients,
        maxMessageBytes,
        ioThreads,
        reuseUpstreamConnections,
        catalogueMaxAge);
  }

  public ProxySettings withUpstreamReuse(boolean reuse) {
    return new ProxySettings(
        listen, tls, authTimeout, maxClients, maxMessageBytes, ioThreads, reuse, catalogueMaxAge);
  }

  /** Whether Warden reads upstream catalogues at all. */
  public boolean readCatalogues() {
    return !catalogueMaxAge.isZero();
  }

  /**
   * Catalogue snapshots used for at most {@code maxAge} before they are read again; {@link
   * Duration#ZERO} turns the reading off (for scripted test upstreams that cannot answer it).
   */
  public ProxySettings withCatalogueMaxAge(Duration maxAge) {
    return new ProxySettings(
        listen,
        tls,
        authTimeout,
        maxClients,
        maxMessageBytes,
        ioThreads,
        reuseUpstreamConnections,
        maxAge);
  }

  /** Catalogues read ({@link #DEFAULT_CATALOGUE_MAX_AGE}) or not. */
  public ProxySettings withCatalogues(boolean read) {
    return withCatalogueMaxAge(read ? DEFAULT_CATALOGUE_MAX_AGE : Duration.ZERO);
  }
}

package dev.warden.proxy.postgres;

import dev.warden.core.audit.Redactor;
import dev.warden.core.environment.AccessWindows;
import dev.warden.core.environment.Environments;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.session.SessionRegistry;
import dev.warden.protocol.postgres.Limits;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL listener: accepts native clients, authenticates them as Warden identities, logs in
 * to the environment's upstream with Warden's own credentials, and relays the session through the
 * decision point.
 *
 * <p>One event-loop thread per core; each session's client and upstream channels share one loop.
 */
public final class PostgresProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresProxy.class);

  private final ProxySettings settings;
  private final Environments environments;
  private final ScramServer scram;
  private final AuthThrottle throttle;
  private final Gatekeeper gatekeeper;
  private final ProxyAudit audit;
  private final DataMaps dataMaps;
  private final LoginSettings logins;
  private final ApprovalGate approvals;
  private final AccessWindows windows;
  private final SessionRegistry sessions;
  private final AtomicInteger clients = new AtomicInteger();
  private EventLoopGroup acceptor;
  private EventLoopGroup workers;
  private Channel server;
  private ProxyContext context;

  /**
   * A listener with no data maps, local users only, no approvals, no access windows, and its own
   * session registry.
   */
  public PostgresProxy(
      ProxySettings settings,
      Environments environments,
      ScramServer scram,
      AuthThrottle throttle,
      Gatekeeper gatekeeper,
      ProxyAudit audit) {
    this(
        settings,
        environments,
        scram,
        throttle,
        gatekeeper,
        audit,
        DataMaps.NONE,
        LoginSettings.LOCAL_ONLY,
        ApprovalGate.NONE,
        AccessWindows.NONE);
  }

  /**
   * A listener whose sessions log in as the role of their identity's open access window, if it has
   * one ({@code windows}), and end at their next idle moment once the window ends.
   */
  public PostgresProxy(
      ProxySettings settings,
      Environments environments,
      ScramServer scram,
      AuthThrottle throttle,
      Gatekeeper gatekeeper,
      ProxyAudit audit,
      DataMaps dataMaps,
      LoginSettings logins,
      ApprovalGate approvals,
      AccessWindows windows) {
    this(
        settings,
        environments,
        scram,
        throttle,
        gatekeeper,
        audit,
        dataMaps,
        logins,
        approvals,
        windows,
        new SessionRegistry(Redactor.NONE));
  }

  /**
   * A listener.
   *
   * @param dataMaps its sessions wait for their database's data map before their first statement
   *     (so the first result is masked by it) and report schema changes to it
   * @param logins which credentials besides local users' it accepts (identity-provider tokens,
   *     client certificates), and how sessions whose credential expires end
   * @param approvals where statements that need approval are asked about: run once approved,
   *     otherwise refused with the request's id (or held until decided, as policy says)
   * @param windows sessions log in as the role of their identity's open access window, if it has
   *     one, and end at their next idle moment once the window ends
   * @param sessions where its sessions are listed while they are connected (and can be ended from
   *     there), and counted by environment
   */
  public PostgresProxy(
      ProxySettings settings,
      Environments environments,
      ScramServer scram,
      AuthThrottle throttle,
      Gatekeeper gatekeeper,
      ProxyAudit audit,
      DataMaps dataMaps,
      LoginSettings logins,
      ApprovalGate approvals,
      AccessWindows windows,
      SessionRegistry sessions) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.windows = Objects.requireNonNull(windows, "windows");
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.logins = Objects.requireNonNull(logins, "logins");
    this.dataMaps = Objects.requireNonNull(dataMaps, "dataMaps");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.environments = Objects.requireNonNull(environments, "environments");
    this.scram = Objects.requireNonNull(scram, "scram");
    this.throttle = Objects.requireNonNull(throttle, "throttle");
    this.gatekeeper = Objects.requireNonNull(gatekeeper, "gatekeeper");
  }

  /** Binds the listener; throws {@link UncheckedIOException} when the address cannot be used. */
  public void start() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    Transport transport = Transport.best();
    SecureRandom random = new SecureRandom();
    context =
        new ProxyContext(
            settings,
            new Limits(settings.maxMessageBytes(), Limits.defaults().maxStartupBytes()),
            environments,
            scram,
            throttle,
            gatekeeper,
            new CancelRegistry(random, Clock.systemUTC()),
            settings.tls().map(ListenerTls::sslContext),
            new UpstreamTls(),
            new UpstreamPool(),
            transport,
            random,
            clients,
            new Catalogs(settings.catalogueMaxAge()),
            audit,
            dataMaps,
            logins,
            approvals,
            windows,
            sessions);
    acceptor = transport.newGroup(1, "warden-accept");
    workers = transport.newGroup(settings.ioThreads(), "warden-io");
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(acceptor, workers)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    clients.incrementAndGet();
                    ch.closeFuture().addListener(f -> clients.decrementAndGet());
                    ch.pipeline().addLast("startup", new ClientStartupHandler(context));
                  }
                });
    try {
      server = bootstrap.bind(settings.listen()).sync().channel();
    } catch (Exception e) {
      close();
      if (e instanceof BindException || e.getCause() instanceof BindException) {
        throw new UncheckedIOException(
            "cannot listen on " + settings.listen() + ": address already in use",
            new BindException(e.getMessage()));
      }
      throw new UncheckedIOException(
          "cannot listen on " + settings.listen() + ": " + e.getMessage(),
          new java.io.IOException(e));
    }
    log.info("PostgreSQL listener on {} ({} transport)", address(), transport.name());
  }

  /** The bound address. */
  public InetSocketAddress address() {
    if (server == null) {
      throw new IllegalStateException("not started");
    }
    return (InetSocketAddress) server.localAddress();
  }

  /** Upstream connections parked for reuse now. */
  public int parkedUpstreamConnections() {
    return context == null ? 0 : context.upstreamPool().parkedCount();
  }

  /** The sessions connected now, and the counters of what they did. */
  public SessionRegistry sessions() {
    return sessions;
  }

  /** Number of client connections open now. */
  public int clientCount() {
    return clients.get();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().syncUninterruptibly();
      server = null;
    }
    if (acceptor != null) {
      acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      acceptor = null;
    }
    if (workers != null) {
      workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      workers = null;
    }
  }
}

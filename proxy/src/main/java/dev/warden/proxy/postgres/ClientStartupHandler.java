package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.environment.AccessWindow;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.IdentitySettings;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.session.EnvironmentCounters;
import dev.warden.protocol.postgres.AuthenticationCleartextPassword;
import dev.warden.protocol.postgres.AuthenticationOk;
import dev.warden.protocol.postgres.AuthenticationSASL;
import dev.warden.protocol.postgres.AuthenticationSASLContinue;
import dev.warden.protocol.postgres.AuthenticationSASLFinal;
import dev.warden.protocol.postgres.BackendKeyData;
import dev.warden.protocol.postgres.BackendMessage;
import dev.warden.protocol.postgres.CancelRequest;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.FrontendMessage;
import dev.warden.protocol.postgres.FrontendMessages;
import dev.warden.protocol.postgres.GSSENCRequest;
import dev.warden.protocol.postgres.NegotiateProtocolVersion;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.ReadyForQuery;
import dev.warden.protocol.postgres.SASLInitialResponse;
import dev.warden.protocol.postgres.SASLResponse;
import dev.warden.protocol.postgres.SSLRequest;
import dev.warden.protocol.postgres.StartupMessage;
import dev.warden.protocol.postgres.StartupPackets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection from its first byte until its session is ready: the startup packet (with the
 * optional TLS upgrade), the checks on its parameters, SCRAM-SHA-256 against Warden's own
 * identities, and the upstream login. Then it installs the two relays and leaves the pipeline.
 *
 * <p>Protocol rules enforced here (THREATS): no byte may follow an SSLRequest or GSSENCRequest
 * before the answer (T01, T02); TLS may be negotiated once and only first (T10); a listener that
 * requires TLS refuses a plaintext StartupMessage before asking for a password (T05); only SASL
 * responses are accepted before authentication completes, so nothing reaches an upstream before the
 * client is verified (P04, P05); the whole login has one deadline (P07).
 */
final class ClientStartupHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientStartupHandler.class);

  /** A SASL message from a client is small; a larger one is refused before it is buffered. */
  private static final int MAX_SASL_MESSAGE = 8 * 1024;

  private static final String SCRAM_SHA_256 = "SCRAM-SHA-256";

  /**
   * A token from an identity provider is at most 16 KB (THREATS AU06); the verifier refuses a
   * larger one with a reason, and a message larger than this is a protocol violation.
   */
  private static final int MAX_PASSWORD_MESSAGE = 20 * 1024;

  private enum State {
    STARTUP,
    SASL_INITIAL,
    SASL_CONTINUE,
    PASSWORD,
    ANSWER_PENDING,
    CONNECTING_UPSTREAM,
    DONE
  }

  private final ProxyContext context;
  private State state = State.STARTUP;
  private ByteBuf buffer;
  private boolean tlsNegotiated;
  private ScheduledFuture<?> deadline;
  private long attemptStartNanos;
  private Duration throttleDelay = Duration.ZERO;
  private StartupParameters parameters;
  private Environment environment;
  private ScramServer.Exchange exchange;
  private Upstream upstreamRole;

  /** The access window the session logs in under, when its identity has one open. */
  private Optional<AccessWindow> accessWindow = Optional.empty();

  private Channel upstream;

  ClientStartupHandler(ProxyContext context) {
    this.context = context;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    // The count is kept by PostgresProxy for the life of the channel.
    if (context.clients().get() > context.settings().maxClients()) {
      fatal(ctx, ClientErrors.TOO_MANY_CONNECTIONS, "sorry, too many clients already");
      return;
    }
    buffer = ctx.alloc().buffer(256);
    deadline =
        ctx.executor()
            .schedule(
                () -> {
                  if (state != State.DONE) {
                    log.info("client {}: login timed out", remote(ctx));
                    fatal(ctx, ClientErrors.CONNECTION_FAILURE, "login timed out");
                  }
                },
                context.settings().authTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf data = (ByteBuf) msg;
    try {
      if (buffer == null || state == State.DONE) {
        return;
      }
      buffer.writeBytes(data);
    } finally {
      data.release();
    }
    try {
      process(ctx);
    } catch (ProtocolException e) {
      log.info("client {}: protocol violation: {}", remote(ctx), e.getMessage());
      fatal(ctx, e.sqlState(), e.getMessage());
    }
  }

  private void process(ChannelHandlerContext ctx) {
    while (buffer != null && buffer.isReadable()) {
      switch (state) {
        case STARTUP -> {
          if (!readStartupPacket(ctx)) {
            return;
          }
        }
        case SASL_INITIAL, SASL_CONTINUE -> {
          if (!readSaslMessage(ctx)) {
            return;
          }
        }
        case PASSWORD -> {
          if (!readToken(ctx)) {
            return;
          }
        }
        case ANSWER_PENDING, CONNECTING_UPSTREAM -> {
          // Pipelined bytes wait in the buffer until the session is ready; a client cannot send
          // more than one SASL step ahead (the buffer is bounded below).
          if (buffer.readableBytes() > context.limits().maxMessageBytes()) {
            throw new ProtocolException("too much data sent before the session was ready");
          }
          return;
        }
        case DONE -> {
          return;
        }
      }
    }
  }

  private boolean readStartupPacket(ChannelHandlerContext ctx) {
    int length = StartupPackets.packetLength(buffer, context.limits());
    if (length < 0 || buffer.readableBytes() < length) {
      return false;
    }
    FrontendMessage packet = StartupPackets.decode(buffer, context.limits());
    switch (packet) {
      case SSLRequest ssl -> answerSslRequest(ctx);
      case GSSENCRequest gss -> {
        requireNothingBuffered("GSSENCRequest");
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
      }
      case CancelRequest cancel -> {
        forwardCancel(ctx, cancel);
        state = State.DONE;
        release();
        ctx.close();
      }
      case StartupMessage startup -> startup(ctx, startup);
      case dev.warden.protocol.postgres.PasswordMessage _,
          dev.warden.protocol.postgres.SASLInitialResponse _,
          dev.warden.protocol.postgres.SASLResponse _,
          dev.warden.protocol.postgres.Query _,
          dev.warden.protocol.postgres.Parse _,
          dev.warden.protocol.postgres.Bind _,
          dev.warden.protocol.postgres.Describe _,
          dev.warden.protocol.postgres.Execute _,
          dev.warden.protocol.postgres.Close _,
          dev.warden.protocol.postgres.Sync _,
          dev.warden.protocol.postgres.Flush _,
          dev.warden.protocol.postgres.CopyData _,
          dev.warden.protocol.postgres.CopyDone _,
          dev.warden.protocol.postgres.CopyFail _,
          dev.warden.protocol.postgres.FunctionCall _,
          dev.warden.protocol.postgres.Terminate _ ->
          throw new ProtocolException("invalid startup packet");
    }
    return state == State.STARTUP || state == State.SASL_INITIAL;
  }

  private void answerSslRequest(ChannelHandlerContext ctx) {
    if (tlsNegotiated) {
      throw new ProtocolException("SSLRequest received twice");
    }
    // Anything the client sent after SSLRequest and before our answer was sent in clear and must
    // not be read as if it came through TLS (CVE-2021-23214).
    requireNothingBuffered("SSLRequest");
    tlsNegotiated = true;
    if (context.clientTls().isEmpty()) {
      ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'));
      return;
    }
    ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'));
    SslHandler tls = context.clientTls().get().newHandler(ctx.alloc());
    ctx.pipeline().addFirst("tls", tls);
  }

  private void requireNothingBuffered(String after) {
    if (buffer.isReadable()) {
      throw new ProtocolException("received unencrypted data after " + after);
    }
  }

  private boolean isTls(ChannelHandlerContext ctx) {
    return ctx.pipeline().get(SslHandler.class) != null;
  }

  private void startup(ChannelHandlerContext ctx, StartupMessage startup) {
    if (context.settings().tls().map(ListenerTls::required).orElse(false) && !isTls(ctx)) {
      fatal(
          ctx,
          ClientErrors.INVALID_AUTHORIZATION,
          "this Warden listener requires TLS (connect with sslmode=require or stronger)");
      return;
    }
    List<String> unsupportedOptions = new ArrayList<>();
    for (String name : startup.parameters().keySet()) {
      if (name.toLowerCase(Locale.ROOT).startsWith("_pq_.")) {
        unsupportedOptions.add(name);
      }
    }
    if (startup.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
      // Protocol 3.x for x > 0, or protocol extensions: answer with the version we speak
      // (Frontend/Backend Protocol, "Protocol versions"); the client decides whether to go on.
      write(ctx, new NegotiateProtocolVersion(0, unsupportedOptions));
    }
    try {
      parameters = StartupParameters.from(startup.parameters());
    } catch (StartupParameters.Rejected e) {
      fatal(ctx, e.sqlState(), e.getMessage());
      return;
    }
    attemptStartNanos = System.nanoTime();
    throttleDelay = context.throttle().delayFor(parameters.user(), sourceHost(ctx));
    List<X509Certificate> chain = peerCertificates(ctx);
    if (!chain.isEmpty() && context.logins().certificates().isPresent()) {
      // The certificate is the credential: TLS verified its chain against the listener's trust
      // anchors; the verifier checks its usage, validity and that it names this user.
      state = State.ANSWER_PENDING;
      try {
        Identity identity = context.logins().certificates().get().verify(parameters.user(), chain);
        afterThrottle(ctx, () -> authenticated(ctx, identity, null));
      } catch (AuthenticationFailure e) {
        failed(ctx, "mtls", e);
      }
      return;
    }
    exchange = context.scram().begin(parameters.user());
    if (!exchange.knowsAccount() && context.logins().tokens().enabled()) {
      // Not a local account: the password is a token from the identity provider, which only a
      // cleartext password request can carry. It must not cross a network in clear (THREATS T05).
      exchange = null;
      if (!isTls(ctx) && !isLoopback(ctx)) {
        state = State.ANSWER_PENDING;
        failed(
            ctx,
            "oidc",
            new AuthenticationFailure(
                AuthenticationFailure.Reason.UNSUPPORTED,
                "a token login over a connection without TLS"));
        return;
      }
      write(ctx, new AuthenticationCleartextPassword());
      ctx.flush();
      state = State.PASSWORD;
      return;
    }
    write(ctx, new AuthenticationSASL(List.of(SCRAM_SHA_256)));
    ctx.flush();
    state = State.SASL_INITIAL;
  }

  private boolean readSaslMessage(ChannelHandlerContext ctx) {
    if (buffer.readableBytes() < 5) {
      return false;
    }
    int at = buffer.readerIndex();
    byte type = buffer.getByte(at);
    long length = buffer.getUnsignedInt(at + 1);
    if (type != 'p') {
      throw new ProtocolException(
          "expected a SASL response, got message type 0x"
              + HexFormat.of().toHexDigits(type)
              + " before authentication completed");
    }
    Frames.checkFrontend(type, length, context.limits());
    if (length > MAX_SASL_MESSAGE) {
      throw new ProtocolException("SASL message too large");
    }
    if (buffer.readableBytes() < length + 1) {
      return false;
    }
    ByteBuf body = buffer.readSlice((int) length + 1).slice(5, (int) length - 4);
    try {
      if (state == State.SASL_INITIAL) {
        SASLInitialResponse initial = FrontendMessages.decodeSASLInitialResponse(body);
        if (!SCRAM_SHA_256.equals(initial.mechanism())) {
          throw new AuthenticationFailure(
              AuthenticationFailure.Reason.UNSUPPORTED,
              "client chose SASL mechanism " + initial.mechanism());
        }
        if (initial.data() == null) {
          throw new AuthenticationFailure(
              AuthenticationFailure.Reason.MALFORMED_MESSAGE, "empty SCRAM client-first-message");
        }
        write(ctx, new AuthenticationSASLContinue(exchange.clientFirst(initial.data())));
        ctx.flush();
        state = State.SASL_CONTINUE;
        return true;
      }
      SASLResponse response = FrontendMessages.decodeSASLResponse(body);
      ScramServer.Success success = exchange.clientFinal(response.data());
      state = State.ANSWER_PENDING;
      afterThrottle(
          ctx, () -> authenticated(ctx, success.identity(), success.serverFinalMessage()));
      return false;
    } catch (AuthenticationFailure e) {
      state = State.ANSWER_PENDING;
      failed(ctx, "scram-sha-256", e);
      return false;
    }
  }

  /** Reads the PasswordMessage that carries an identity-provider token, and verifies it. */
  private boolean readToken(ChannelHandlerContext ctx) {
    if (buffer.readableBytes() < 5) {
      return false;
    }
    int at = buffer.readerIndex();
    byte type = buffer.getByte(at);
    long length = buffer.getUnsignedInt(at + 1);
    if (type != 'p') {
      throw new ProtocolException(
          "expected a password message, got message type 0x"
              + HexFormat.of().toHexDigits(type)
              + " before authentication completed");
    }
    Frames.checkFrontend(type, length, context.limits());
    if (length > MAX_PASSWORD_MESSAGE) {
      throw new ProtocolException("password message too large");
    }
    if (buffer.readableBytes() < length + 1) {
      return false;
    }
    ByteBuf body = buffer.readSlice((int) length + 1).slice(5, (int) length - 4);
    byte[] bytes = FrontendMessages.decodePasswordMessage(body).password();
    String token = new String(bytes, StandardCharsets.UTF_8);
    Arrays.fill(bytes, (byte) 0);
    state = State.ANSWER_PENDING;
    CompletableFuture<Identity> verified;
    try {
      verified = context.logins().tokens().verify(parameters.user(), token);
    } catch (RuntimeException e) {
      verified = CompletableFuture.failedFuture(e);
    }
    verified.whenComplete(
        (identity, error) ->
            ctx.executor()
                .execute(
                    () -> {
                      if (error == null) {
                        afterThrottle(ctx, () -> authenticated(ctx, identity, null));
                        return;
                      }
                      Throwable cause =
                          error instanceof java.util.concurrent.CompletionException
                                  && error.getCause() != null
                              ? error.getCause()
                              : error;
                      AuthenticationFailure failure =
                          cause instanceof AuthenticationFailure af
                              ? af
                              : new AuthenticationFailure(
                                  AuthenticationFailure.Reason.PROVIDER_UNAVAILABLE,
                                  "token verification failed: " + cause.getClass().getSimpleName());
                      failed(ctx, "oidc", failure);
                    }));
    return false;
  }

  /**
   * A failed login: counted by the throttle, audited with the method and reason, logged, and
   * answered after the throttle's delay. Local passwords fail with PostgreSQL's own words whatever
   * the reason, so that an unknown user and a wrong password look alike (THREATS AU10); a token or
   * certificate failure says why, since whoever holds one can read its expiry and subject anyway.
   */
  private void failed(ChannelHandlerContext ctx, String method, AuthenticationFailure e) {
    context.throttle().failure(parameters.user(), sourceHost(ctx));
    counters().connectionRefused();
    recordEvent(
        "authenticate",
        false,
        "",
        Optional.empty(),
        Map.of(
            "claimed_user", parameters.user(),
            "client", remote(ctx),
            "method", method,
            "reason", AuthenticationFailure.label(e.reason()),
            "database", parameters.database()));
    log.info(
        "client {}: {} authentication failed for user \"{}\": {} ({})",
        remote(ctx),
        method,
        parameters.user(),
        e.reason(),
        e.getMessage());
    String user = "\"" + parameters.user() + "\"";
    ClientErrors.Failure answer =
        switch (e.reason()) {
          case MALFORMED_MESSAGE ->
              new ClientErrors.Failure(ClientErrors.PROTOCOL_VIOLATION, "malformed SCRAM message");
          case EXPIRED ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_PASSWORD,
                  switch (method) {
                    case "mtls" ->
                        "the client certificate for user " + user + " is expired or not yet valid";
                    case "oidc" ->
                        "the token for user "
                            + user
                            + " has expired or is not valid yet: log in again (warden login)";
                    // Only after a correct proof: a service token past its expiry.
                    default ->
                        "the service token "
                            + user
                            + " has expired: ask an administrator for a new one (warden tokens"
                            + " create)";
                  });
          case REVOKED ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_PASSWORD, "the service token " + user + " has been revoked");
          case USER_MISMATCH ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_PASSWORD,
                  (method.equals("mtls") ? "the client certificate" : "the token")
                      + " does not belong to user "
                      + user);
          case TOKEN_INVALID ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_PASSWORD,
                  "token authentication failed for user " + user + ": the token is not valid here");
          case CERTIFICATE_INVALID ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_AUTHORIZATION,
                  "certificate authentication failed for user " + user);
          case PROVIDER_UNAVAILABLE ->
              new ClientErrors.Failure(
                  ClientErrors.CONNECTION_FAILURE,
                  "Warden cannot reach the identity provider to verify the token for user "
                      + user
                      + "; try again shortly");
          case UNSUPPORTED ->
              method.equals("oidc")
                  ? new ClientErrors.Failure(
                      ClientErrors.INVALID_AUTHORIZATION,
                      "a token login needs TLS: connect with sslmode=require")
                  : new ClientErrors.Failure(
                      ClientErrors.INVALID_PASSWORD,
                      "password authentication failed for user " + user);
          default ->
              new ClientErrors.Failure(
                  ClientErrors.INVALID_PASSWORD, "password authentication failed for user " + user);
        };
    afterThrottle(ctx, () -> fatal(ctx, answer.sqlState(), answer.message()));
  }

  /** Holds the answer to this attempt until the throttle's delay has passed since it began. */
  private void afterThrottle(ChannelHandlerContext ctx, Runnable answer) {
    long waitedNanos = System.nanoTime() - attemptStartNanos;
    long remainingMillis = throttleDelay.toMillis() - waitedNanos / 1_000_000;
    if (remainingMillis <= 0) {
      answer.run();
    } else {
      ctx.executor().schedule(answer, remainingMillis, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * A verified identity; {@code saslFinal} is the SCRAM server-final-message to send first, or null
   * for token and certificate logins.
   */
  private void authenticated(ChannelHandlerContext ctx, Identity identity, byte[] saslFinal) {
    if (!ctx.channel().isActive()) {
      return;
    }
    context.throttle().success(parameters.user(), sourceHost(ctx));
    var routed = context.environments().route(parameters.database());
    if (saslFinal != null) {
      write(ctx, new AuthenticationSASLFinal(saslFinal));
    }
    if (routed.isEmpty()) {
      counters().connectionRefused();
      // Reported only after authentication, so database names are not revealed to strangers.
      fatal(
          ctx,
          ClientErrors.UNKNOWN_DATABASE,
          "database \"" + parameters.database() + "\" does not exist");
      return;
    }
    environment = routed.get();
    SessionContext session =
        new SessionContext(
            newSessionId(),
            identity,
            environment,
            remote(ctx),
            parameters.database(),
            parameters.applicationName());
    Map<String, String> authDetails = new LinkedHashMap<>();
    authDetails.put("method", identity.methodName());
    identity.onBehalfOf().ifPresent(p -> authDetails.put("on_behalf_of", p));
    identity.expiresAt().ifPresent(t -> authDetails.put("credential_expires", t.toString()));
    Admission admission = context.gatekeeper().admit(session);
    if (!admission.allowed()) {
      authDetails.put("reason", "not-permitted");
      counters().connectionRefused();
      authDetails.put("rule", admission.rule());
      recordSession(ctx, "authenticate", false, session, authDetails);
      log.info(
          "session {}: {} may not use environment {} (access rule {})",
          session.id(),
          identity.name(),
          environment.name(),
          admission.rule());
      fatal(
          ctx,
          ClientErrors.INVALID_AUTHORIZATION,
          "Warden: "
              + identity.name()
              + " may not connect to environment "
              + environment.name()
              + (admission.message().isEmpty() ? "" : ": " + admission.message())
              + (admission.rule().isEmpty() ? "" : " (access rule \"" + admission.rule() + "\")"));
      return;
    }
    // An open access window elevates the session: it logs in as the window's role instead. The
    // lookup is in memory (the server keeps the open windows), so it does not block this loop.
    accessWindow =
        context
            .windows()
            .openFor(identity.name(), environment.name(), context.audit().clock().instant());
    Optional<Upstream> elevated = accessWindow.flatMap(w -> environment.upstreamAs(w.role()));
    if (accessWindow.isPresent() && elevated.isEmpty()) {
      log.warn(
          "session {}: {}'s access window {} names role {}, which environment {} no longer has;"
              + " logging in as the normal role",
          session.id(),
          identity.name(),
          accessWindow.get().id(),
          accessWindow.get().role(),
          environment.name());
      accessWindow = Optional.empty();
    }
    Optional<Upstream> role = elevated.isPresent() ? elevated : environment.upstreamFor(identity);
    if (role.isEmpty()) {
      authDetails.put("reason", "no-role");
      counters().connectionRefused();
      recordSession(ctx, "authenticate", false, session, authDetails);
      log.info(
          "session {}: no upstream role is mapped for {} (groups {}) in environment {}",
          session.id(),
          identity.name(),
          identity.groups(),
          environment.name());
      fatal(
          ctx,
          ClientErrors.INVALID_AUTHORIZATION,
          "Warden: no database role is mapped for "
              + identity.name()
              + " in environment "
              + environment.name()
              + "; ask an administrator to add one of your groups to its roles");
      return;
    }
    upstreamRole = role.get();
    context.logins().loggedIn().accept(identity);
    write(ctx, new AuthenticationOk());
    ctx.flush();
    state = State.CONNECTING_UPSTREAM;
    if (!recordSession(ctx, "authenticate", true, session, authDetails)) {
      return;
    }
    log.info(
        "session {}: {} authenticated from {} for database \"{}\" in environment {}",
        session.id(),
        identity.name(),
        session.clientAddress(),
        parameters.database(),
        environment.name());
    // What the database sees of the verified identity, as settings of the upstream session (sent in
    // its StartupMessage, so that RESET and DISCARD ALL return to them; the analyser refuses
    // statements that change them).
    Map<String, String> identitySettings = IdentitySettings.of(identity);
    UpstreamPool.Key poolKey =
        new UpstreamPool.Key(
            upstreamRole,
            upstreamRole.databaseFor(parameters.database()),
            parameters.upstreamSettings(),
            identitySettings.toString(),
            accessWindow.map(w -> w.role() + " " + w.id()).orElse(upstreamRole.user()));
    UpstreamPool.Login parked =
        context.settings().reuseUpstreamConnections()
            ? context.upstreamPool().take(ctx.channel().eventLoop(), poolKey)
            : null;
    if (parked != null) {
      upstream = parked.channel();
      startSession(
          ctx,
          session,
          poolKey,
          parked,
          new UpstreamHandshake.Ready(
              Unpooled.wrappedBuffer(parked.greeting()),
              parked.processId(),
              parked.secretKey(),
              (byte) 'I'),
          Unpooled.EMPTY_BUFFER);
      return;
    }
    upstream =
        UpstreamHandshake.connect(
            context,
            ctx.channel().eventLoop(),
            upstreamRole,
            parameters.database(),
            parameters.upstreamSettings(),
            identitySettings,
            new UpstreamHandshake.Callback() {
              @Override
              public void ready(
                  Channel upstreamChannel, UpstreamHandshake.Ready ready, ByteBuf leftover) {
                ByteBuf greeting = ready.forClient();
                byte[] greetingBytes = new byte[greeting.readableBytes()];
                greeting.getBytes(greeting.readerIndex(), greetingBytes);
                UpstreamPool.Login login =
                    new UpstreamPool.Login(
                        upstreamChannel, greetingBytes, ready.processId(), ready.secretKey());
                startSession(ctx, session, poolKey, login, ready, leftover);
              }

              @Override
              public void failed(ClientErrors.Failure failure) {
                counters().connectionFailed();
                recordSession(
                    ctx,
                    "connect",
                    false,
                    session,
                    Map.of("upstream_role", upstreamRole.user(), "reason", failure.message()));
                fatal(ctx, failure.sqlState(), failure.message());
              }
            });
  }

  private void startSession(
      ChannelHandlerContext ctx,
      SessionContext sessionContext,
      UpstreamPool.Key poolKey,
      UpstreamPool.Login login,
      UpstreamHandshake.Ready ready,
      ByteBuf leftover) {
    Channel upstreamChannel = login.channel();
    if (!ctx.channel().isActive() || state != State.CONNECTING_UPSTREAM) {
      ready.forClient().release();
      leftover.release();
      upstreamChannel.close();
      return;
    }
    state = State.DONE;
    deadline.cancel(false);
    Map<String, String> connectDetails = new LinkedHashMap<>();
    connectDetails.put("upstream_role", upstreamRole.user());
    connectDetails.put("upstream_database", upstreamRole.databaseFor(parameters.database()));
    connectDetails.put("tls", tlsDetails(ctx));
    accessWindow.ifPresent(
        w -> {
          connectDetails.put("access_role", w.role());
          connectDetails.put("access_window", w.id());
          connectDetails.put("access_window_end", w.end().toString());
        });
    if (!recordSession(ctx, "connect", true, sessionContext, connectDetails)) {
      counters().connectionFailed();
      ready.forClient().release();
      leftover.release();
      upstreamChannel.close();
      return;
    }
    EnvironmentCounters counters = counters();
    counters.connectionAccepted();
    ctx.channel()
        .closeFuture()
        .addListener(
            f ->
                recordEvent(
                    "disconnect",
                    true,
                    sessionContext.identity().name(),
                    Optional.of(sessionContext),
                    Map.of()));
    CancelRegistry.Entry cancelKey = null;
    CancelRegistry.Target cancelTarget = null;
    byte[] clientKey = new byte[4];
    if (ready.secretKey().length > 0) {
      cancelTarget =
          new CancelRegistry.Target(environment.upstream(), ready.processId(), ready.secretKey());
      cancelKey = context.cancels().register(cancelTarget);
      clientKey = cancelKey.clientKey();
    }
    byte[] markerEntropy = new byte[8];
    context.random().nextBytes(markerEntropy);
    ProxySession session =
        new ProxySession(
            sessionContext,
            context.audit(),
            ctx.channel(),
            upstreamChannel,
            cancelKey,
            markerEntropy,
            counters);
    session.poolKey = poolKey;
    session.login = login;
    session.lexical = ProxySession.lexicalFrom(ready.forClient(), session.lexical);
    ctx.write(ready.forClient());
    write(ctx, new BackendKeyData(ready.processId(), clientKey));
    write(ctx, new ReadyForQuery(ready.transactionStatus()));
    ctx.flush();

    BackendRelay backend = new BackendRelay(session, context.limits());
    FrontendRelay frontend =
        new FrontendRelay(
            session,
            context.gatekeeper(),
            context.limits(),
            context.settings().reuseUpstreamConnections() ? context.upstreamPool() : null);
    session.backend = backend;
    session.frontend = frontend;
    CredentialExpiry.watch(session, context.logins(), context.audit());
    accessWindow.ifPresent(
        w ->
            CredentialExpiry.watchWindow(
                session, context.logins(), context.audit(), context.windows(), w));
    upstreamChannel.pipeline().addLast("relay", backend);
    session.catalogs = context.catalogs();
    session.dataMaps = context.dataMaps();
    session.approvals = context.approvals();
    session.catalogKey =
        new Catalogs.Key(
            environment.name(),
            upstreamRole.databaseFor(parameters.database()),
            upstreamRole.user());
    session.readCatalogues = context.settings().readCatalogues();
    // Listed from here until the client leaves: both legs are up and the relays installed.
    LiveProxySession live =
        new LiveProxySession(
            session, context, cancelTarget, upstreamRole.user(), context.audit().clock().instant());
    context.sessions().add(live);
    ctx.channel().closeFuture().addListener(f -> context.sessions().remove(live));
    // Before anything of the client's: the server answers in order, and Warden reads these rows.
    if (session.claimCatalogueLoad()) {
      session.sendCatalogueQuery(upstreamChannel.alloc());
      upstreamChannel.flush();
    }
    ByteBuf pipelined = buffer;
    buffer = null;
    ctx.pipeline().replace(this, "relay", frontend);
    // Bytes already read on either leg are handed straight to the relay that owns them: sending
    // them down the pipeline again would pass them through TLS a second time.
    deliver(upstreamChannel.pipeline().context(backend), backend, leftover);
    deliver(ctx.pipeline().context(frontend), frontend, pipelined);
  }

  private static void deliver(ChannelHandlerContext ctx, RelayHandler relay, ByteBuf bytes) {
    if (!bytes.isReadable()) {
      bytes.release();
      return;
    }
    try {
      relay.channelRead(ctx, bytes);
      relay.channelReadComplete(ctx);
    } catch (RuntimeException e) {
      relay.exceptionCaught(ctx, e);
    }
  }

  private void forwardCancel(ChannelHandlerContext ctx, CancelRequest cancel) {
    InetSocketAddress source = (InetSocketAddress) ctx.channel().remoteAddress();
    var target =
        context.cancels().resolve(source.getAddress(), cancel.processId(), cancel.secretKey());
    if (target.isEmpty()) {
      log.info("client {}: cancel request with an unknown key dropped", remote(ctx));
      return;
    }
    CancelForwarder.send(context, ctx.channel().eventLoop(), target.get());
  }

  private void write(ChannelHandlerContext ctx, BackendMessage message) {
    ByteBuf out = ctx.alloc().buffer();
    message.encode(out);
    ctx.write(out);
  }

  private void fatal(ChannelHandlerContext ctx, String sqlState, String message) {
    state = State.DONE;
    release();
    if (upstream != null) {
      upstream.close();
    }
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(ClientErrors.fatal(ctx.alloc(), sqlState, message))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }

  /**
   * The counters of the environment this login is for: the one it was routed to, or the one its
   * database names, or none (empty) when it names none.
   */
  private EnvironmentCounters counters() {
    String name =
        environment != null
            ? environment.name()
            : parameters == null
                ? ""
                : context
                    .environments()
                    .route(parameters.database())
                    .map(Environment::name)
                    .orElse("");
    return context.sessions().counters(name);
  }

  private String newSessionId() {
    byte[] id = new byte[8];
    context.random().nextBytes(id);
    return HexFormat.of().formatHex(id);
  }

  /**
   * Records a session event; when the trail cannot take it, the client is told why and the
   * connection ends (a session Warden cannot record must not begin). Returns false then.
   */
  private boolean recordSession(
      ChannelHandlerContext ctx,
      String name,
      boolean success,
      SessionContext session,
      Map<String, String> details) {
    CompletableFuture<Void> done =
        recordEvent(name, success, session.identity().name(), Optional.of(session), details);
    if (done.isCompletedExceptionally()) {
      fatal(
          ctx,
          ClientErrors.AUDIT_UNAVAILABLE,
          "Warden cannot record this session: " + done.exceptionNow().getMessage());
      return false;
    }
    return true;
  }

  private CompletableFuture<Void> recordEvent(
      String name,
      boolean success,
      String actor,
      Optional<SessionContext> session,
      Map<String, String> details) {
    ProxyAudit audit = context.audit();
    return audit.append(
        new AuditEvent(audit.clock().instant(), name, success, actor, session, details),
        Durability.BOUNDED);
  }

  /** The client connection's TLS protocol and cipher suite, or {@code none}. */
  private static String tlsDetails(ChannelHandlerContext ctx) {
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls == null) {
      return "none";
    }
    var session = tls.engine().getSession();
    return session.getProtocol() + " " + session.getCipherSuite();
  }

  /** The client's verified certificate chain, leaf first; empty without TLS or a certificate. */
  private static List<X509Certificate> peerCertificates(ChannelHandlerContext ctx) {
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls == null) {
      return List.of();
    }
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : tls.engine().getSession().getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
      return chain;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  private static boolean isLoopback(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress a
        && a.getAddress() != null
        && a.getAddress().isLoopbackAddress();
  }

  private static String remote(ChannelHandlerContext ctx) {
    InetSocketAddress a = (InetSocketAddress) ctx.channel().remoteAddress();
    return a == null ? "unknown" : a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  private static String sourceHost(ChannelHandlerContext ctx) {
    InetSocketAddress a = (InetSocketAddress) ctx.channel().remoteAddress();
    return a == null ? "unknown" : a.getAddress().getHostAddress();
  }

  private void release() {
    if (buffer != null) {
      buffer.release();
      buffer = null;
    }
    if (deadline != null) {
      deadline.cancel(false);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (state != State.DONE) {
      state = State.DONE;
      release();
      if (upstream != null) {
        upstream.close();
      }
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof ProtocolException pe) {
      fatal(ctx, pe.sqlState(), pe.getMessage());
      return;
    }
    log.debug("client {}: connection error during login", remote(ctx), cause);
    state = State.DONE;
    release();
    if (upstream != null) {
      upstream.close();
    }
    ctx.close();
  }
}

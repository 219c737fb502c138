package dev.warden.proxy.postgres;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.ScramClient;
import dev.warden.protocol.postgres.AuthenticationCleartextPassword;
import dev.warden.protocol.postgres.AuthenticationGSS;
import dev.warden.protocol.postgres.AuthenticationGSSContinue;
import dev.warden.protocol.postgres.AuthenticationKerberosV5;
import dev.warden.protocol.postgres.AuthenticationMD5Password;
import dev.warden.protocol.postgres.AuthenticationOk;
import dev.warden.protocol.postgres.AuthenticationSASL;
import dev.warden.protocol.postgres.AuthenticationSASLContinue;
import dev.warden.protocol.postgres.AuthenticationSASLFinal;
import dev.warden.protocol.postgres.AuthenticationSSPI;
import dev.warden.protocol.postgres.BackendKeyData;
import dev.warden.protocol.postgres.BackendMessage;
import dev.warden.protocol.postgres.BackendMessages;
import dev.warden.protocol.postgres.ErrorResponse;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.FrontendMessage;
import dev.warden.protocol.postgres.NegotiateProtocolVersion;
import dev.warden.protocol.postgres.PasswordMessage;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.ReadyForQuery;
import dev.warden.protocol.postgres.SASLInitialResponse;
import dev.warden.protocol.postgres.SASLResponse;
import dev.warden.protocol.postgres.SSLRequest;
import dev.warden.protocol.postgres.StartupMessage;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens and logs in the upstream leg of a session, on the client's event loop, with Warden's own
 * credentials for the environment: TLS as configured, then the StartupMessage built from checked
 * parameters (never from a connection string a client could influence, THREATS AU13), then
 * whichever password method the server asks for. The server is treated as hostile too: bytes after
 * its TLS answer, an error in place of that answer, unbounded SCRAM parameters and unexpected
 * messages all end the attempt (THREATS T03, T04, P15).
 */
final class UpstreamHandshake extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(UpstreamHandshake.class);

  /**
   * Startup-phase messages from the server are small; a larger one, or more than this in
   * ParameterStatus and notices together, is refused.
   */
  private static final int MAX_STARTUP_MESSAGE = 64 * 1024;

  /** Upstream errors whose text is safe and useful for the client to see. */
  private static final Set<String> RELAYED_STATES = Set.of("3D000", "53300", "57P03", "57P01");

  /** What the handshake produced, for the client leg. */
  record Ready(ByteBuf forClient, int processId, byte[] secretKey, byte transactionStatus) {}

  interface Callback {
    /** The upstream is logged in and idle; {@code leftover} holds any bytes read past it. */
    void ready(Channel upstream, Ready ready, ByteBuf leftover);

    void failed(ClientErrors.Failure failure);
  }

  private enum State {
    AWAIT_TLS_ANSWER,
    STARTUP,
    DONE
  }

  private final ProxyContext context;
  private final Upstream upstream;
  private final Map<String, String> startupParameters;
  private final Callback callback;
  private State state;
  private ByteBuf buffer;
  private ScramClient scram;
  private boolean authenticated;
  private int processId;
  private byte[] secretKey;
  private ByteBuf forClient;

  private UpstreamHandshake(
      ProxyContext context,
      Upstream upstream,
      Map<String, String> startupParameters,
      Callback callback) {
    this.context = context;
    this.upstream = upstream;
    this.startupParameters = startupParameters;
    this.callback = callback;
  }

  /**
   * Connects to {@code upstream} on {@code loop}. {@code database} and {@code settings} come from
   * the checked client startup; {@code identitySettings} (the {@code warden.*} settings that show
   * the server who is connected) are sent after them, so a client setting can never replace them.
   */
  static Channel connect(
      ProxyContext context,
      EventLoop loop,
      Upstream upstream,
      String database,
      Map<String, String> settings,
      Map<String, String> identitySettings,
      Callback callback) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("user", upstream.user());
    params.put("database", upstream.databaseFor(database));
    params.putAll(settings);
    params.putAll(identitySettings);
    UpstreamHandshake handshake = new UpstreamHandshake(context, upstream, params, callback);
    Bootstrap bootstrap =
        new Bootstrap()
            .group(loop)
            .channel(context.transport().socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, context.settings().authTimeout().toMillis()))
            .handler(handshake);
    var future = bootstrap.connect(upstream.host(), upstream.port());
    future.addListener(
        (ChannelFutureListener)
            f -> {
              if (!f.isSuccess()) {
                log.warn(
                    "cannot connect to upstream {}:{}: {}",
                    upstream.host(),
                    upstream.port(),
                    f.cause().toString());
                handshake.fail(
                    ClientErrors.CONNECTION_FAILURE, "could not connect to the upstream database");
              }
            });
    return future.channel();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    buffer = ctx.alloc().buffer(512);
    if (upstream.tls() == TlsMode.DISABLE) {
      state = State.STARTUP;
      send(ctx, new StartupMessage(3, 0, startupParameters));
    } else {
      state = State.AWAIT_TLS_ANSWER;
      send(ctx, new SSLRequest());
    }
  }

  private static void send(ChannelHandlerContext ctx, FrontendMessage message) {
    ByteBuf out = ctx.alloc().buffer();
    message.encode(out);
    ctx.writeAndFlush(out);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf data = (ByteBuf) msg;
    try {
      if (state == State.DONE) {
        return;
      }
      buffer.writeBytes(data);
    } finally {
      data.release();
    }
    try {
      process(ctx);
    } catch (ProtocolException e) {
      log.warn(
          "upstream {} sent an invalid message during login: {}", upstream.host(), e.getMessage());
      fail(ctx, ClientErrors.CONNECTION_FAILURE, "the upstream database sent an invalid message");
    } catch (AuthenticationFailure e) {
      log.warn("login to upstream {} failed: {}", upstream.host(), e.getMessage());
      fail(
          ctx, ClientErrors.CONNECTION_FAILURE, "Warden could not log in to the upstream database");
    }
  }

  private void process(ChannelHandlerContext ctx) throws AuthenticationFailure {
    if (state == State.AWAIT_TLS_ANSWER) {
      if (!buffer.isReadable()) {
        return;
      }
      byte answer = buffer.readByte();
      if (answer != 'S') {
        // 'N', or an ErrorResponse from a server that predates TLS: its text is never relayed.
        log.warn("upstream {} did not accept TLS (answered {})", upstream.host(), (char) answer);
        fail(ctx, ClientErrors.CONNECTION_FAILURE, "the upstream database does not accept TLS");
        return;
      }
      if (buffer.isReadable()) {
        // Bytes sent before the TLS handshake cannot be trusted (CVE-2021-23222).
        log.warn("upstream {} sent data after accepting TLS", upstream.host());
        fail(ctx, ClientErrors.CONNECTION_FAILURE, "the upstream database broke the TLS handshake");
        return;
      }
      SslHandler tls = context.upstreamTls().newHandler(upstream, ctx.alloc());
      ctx.pipeline().addFirst("tls", tls);
      state = State.STARTUP;
      tls.handshakeFuture()
          .addListener(
              f -> {
                if (f.isSuccess()) {
                  send(ctx, new StartupMessage(3, 0, startupParameters));
                } else {
                  log.warn(
                      "TLS handshake with upstream {} failed: {}",
                      upstream.host(),
                      f.cause().toString());
                  fail(
                      ctx,
                      ClientErrors.CONNECTION_FAILURE,
                      "the TLS handshake with the upstream database failed");
                }
              });
      return;
    }
    while (state == State.STARTUP && buffer.readableBytes() >= 5) {
      int at = buffer.readerIndex();
      byte type = buffer.getByte(at);
      long length = buffer.getUnsignedInt(at + 1);
      Frames.checkBackend(type, length, context.limits());
      if (length > MAX_STARTUP_MESSAGE) {
        throw new ProtocolException("startup message from upstream too large");
      }
      if (buffer.readableBytes() < length + 1) {
        return;
      }
      ByteBuf frame = buffer.readSlice((int) length + 1);
      BackendMessage message = BackendMessages.decode(type, frame.slice(5, (int) length - 4));
      handle(ctx, message, frame);
    }
  }

  private void handle(ChannelHandlerContext ctx, BackendMessage message, ByteBuf frame)
      throws AuthenticationFailure {
    switch (message) {
      case AuthenticationOk ok -> {
        if (scram != null && !scram.isComplete()) {
          // A server that skips SASLFinal has not proved it knows the password: it may be an
          // impostor that simply declares success.
          throw new AuthenticationFailure(
              AuthenticationFailure.Reason.UPSTREAM_REJECTED,
              "upstream declared success without completing SCRAM");
        }
        authenticated = true;
      }
      case AuthenticationCleartextPassword p -> {
        requirePassword();
        send(ctx, new PasswordMessage(upstream.password().bytes()));
      }
      case AuthenticationMD5Password md5 -> {
        requirePassword();
        send(ctx, new PasswordMessage(md5Response(md5.salt()).getBytes(StandardCharsets.US_ASCII)));
      }
      case AuthenticationSASL sasl -> {
        if (!sasl.mechanisms().contains("SCRAM-SHA-256")) {
          throw new AuthenticationFailure(
              AuthenticationFailure.Reason.UNSUPPORTED,
              "upstream offers no supported SASL mechanism: " + sasl.mechanisms());
        }
        requirePassword();
        scram = new ScramClient(upstream.password(), context.random());
        send(ctx, new SASLInitialResponse("SCRAM-SHA-256", scram.clientFirstMessage()));
      }
      case AuthenticationSASLContinue c -> {
        if (scram == null) {
          throw new ProtocolException("SASLContinue without SASL");
        }
        send(ctx, new SASLResponse(scram.clientFinalMessage(c.data())));
      }
      case AuthenticationSASLFinal f -> {
        if (scram == null) {
          throw new ProtocolException("SASLFinal without SASL");
        }
        scram.verifyServerFinal(f.data());
      }
      case AuthenticationKerberosV5 k -> unsupported("Kerberos V5");
      case AuthenticationGSS g -> unsupported("GSSAPI");
      case AuthenticationGSSContinue g -> unsupported("GSSAPI");
      case AuthenticationSSPI s -> unsupported("SSPI");
      case BackendKeyData key -> {
        processId = key.processId();
        secretKey = key.secretKey();
      }
      case dev.warden.protocol.postgres.ParameterStatus p -> keepForClient(ctx, frame);
      case dev.warden.protocol.postgres.NoticeResponse n -> keepForClient(ctx, frame);
      case NegotiateProtocolVersion n -> {
        // We ask for 3.0 with no extensions, so a server may only confirm it.
      }
      case ErrorResponse error -> upstreamRefused(ctx, error);
      case ReadyForQuery ready -> {
        if (!authenticated) {
          throw new ProtocolException("ReadyForQuery before authentication");
        }
        state = State.DONE;
        ByteBuf leftover = buffer.readRetainedSlice(buffer.readableBytes());
        buffer.release();
        buffer = null;
        ByteBuf greeting = forClient == null ? ctx.alloc().buffer(0) : forClient;
        forClient = null;
        ctx.pipeline().remove(this);
        callback.ready(
            ctx.channel(),
            new Ready(
                greeting,
                processId,
                secretKey == null ? new byte[0] : secretKey,
                ready.transactionStatus()),
            leftover);
      }
      case dev.warden.protocol.postgres.BindComplete _,
          dev.warden.protocol.postgres.CloseComplete _,
          dev.warden.protocol.postgres.CommandComplete _,
          dev.warden.protocol.postgres.CopyData _,
          dev.warden.protocol.postgres.CopyDone _,
          dev.warden.protocol.postgres.CopyInResponse _,
          dev.warden.protocol.postgres.CopyOutResponse _,
          dev.warden.protocol.postgres.CopyBothResponse _,
          dev.warden.protocol.postgres.DataRow _,
          dev.warden.protocol.postgres.EmptyQueryResponse _,
          dev.warden.protocol.postgres.FunctionCallResponse _,
          dev.warden.protocol.postgres.NoData _,
          dev.warden.protocol.postgres.NotificationResponse _,
          dev.warden.protocol.postgres.ParameterDescription _,
          dev.warden.protocol.postgres.ParseComplete _,
          dev.warden.protocol.postgres.PortalSuspended _,
          dev.warden.protocol.postgres.RowDescription _ ->
          throw new ProtocolException("unexpected message during upstream login");
    }
  }

  private void keepForClient(ChannelHandlerContext ctx, ByteBuf frame) {
    if (forClient == null) {
      forClient = ctx.alloc().buffer(512);
    }
    if (forClient.readableBytes() + frame.readableBytes() > MAX_STARTUP_MESSAGE) {
      // A server sends a dozen short settings at login; one that keeps talking without ever
      // becoming ready must not make Warden hold it all until the deadline.
      throw new ProtocolException("upstream sent too many messages during login");
    }
    forClient.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
  }

  private void upstreamRefused(ChannelHandlerContext ctx, ErrorResponse error) {
    String state = error.sqlState();
    log.warn(
        "upstream {} refused the login: {} {}", upstream.host(), state, sanitize(error.message()));
    if (RELAYED_STATES.contains(state)) {
      fail(ctx, state, sanitize(error.message()));
    } else {
      fail(
          ctx,
          ClientErrors.CONNECTION_FAILURE,
          "the upstream database refused Warden's login (see the Warden log)");
    }
  }

  private void requirePassword() throws AuthenticationFailure {
    if (upstream.password().isEmpty()) {
      throw new AuthenticationFailure(
          AuthenticationFailure.Reason.UPSTREAM_REJECTED,
          "upstream asks for a password but none is configured for user " + upstream.user());
    }
  }

  private static void unsupported(String method) throws AuthenticationFailure {
    throw new AuthenticationFailure(
        AuthenticationFailure.Reason.UNSUPPORTED,
        "upstream asks for " + method + " authentication, which Warden does not support");
  }

  /** PostgreSQL's MD5 scheme: "md5" || md5hex(md5hex(password || user) || salt). */
  private String md5Response(byte[] salt) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(upstream.password().bytes());
      md5.update(upstream.user().getBytes(StandardCharsets.UTF_8));
      byte[] inner = HexFormat.of().formatHex(md5.digest()).getBytes(StandardCharsets.US_ASCII);
      md5.update(inner);
      md5.update(salt);
      return "md5" + HexFormat.of().formatHex(md5.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is missing from the JDK", e);
    }
  }

  /** Bounded, single-line text for logs (THREATS T04: never trust the length or content). */
  static String sanitize(String text) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), 256));
    for (int i = 0; i < text.length() && out.length() < 256; i++) {
      char c = text.charAt(i);
      out.append(Character.isISOControl(c) ? ' ' : c);
    }
    return out.toString();
  }

  private void fail(String sqlState, String message) {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    release();
    callback.failed(new ClientErrors.Failure(sqlState, message));
  }

  private void fail(ChannelHandlerContext ctx, String sqlState, String message) {
    fail(sqlState, message);
    ctx.close();
  }

  private void release() {
    if (buffer != null) {
      buffer.release();
      buffer = null;
    }
    if (forClient != null) {
      forClient.release();
      forClient = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail(
        ClientErrors.CONNECTION_FAILURE,
        "the upstream database closed the connection during login");
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.warn("upstream {} login error: {}", upstream.host(), cause.toString());
    fail(ctx, ClientErrors.CONNECTION_FAILURE, "the connection to the upstream database failed");
  }
}

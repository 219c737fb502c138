package dev.warden.testkit;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A blocking PostgreSQL client over a plain socket that sends whatever bytes a test gives it
 * (THREATS H1): honest or lying packets, in one write or split at chosen offsets, before and after
 * a TLS upgrade. It reads the server's answers as undecoded typed messages with a deadline and
 * tells when the server has closed the connection. One instance is one connection, used by one
 * thread.
 */
public final class RawWire implements AutoCloseable {
  /** A reply larger than this is not believed: the peer under test is broken. */
  private static final int MAX_REPLY_BYTES = 64 << 20;

  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private byte[] buffer = new byte[8192];
  private int start;
  private int end;
  private boolean closed;

  private RawWire(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Connects to {@code server} from the default local address. */
  public static RawWire connect(InetSocketAddress server) throws IOException {
    return connect(server, null);
  }

  /**
   * Connects to {@code server} from {@code localAddress} (any port), e.g. 127.0.0.2 to appear as
   * another client host on loopback; null picks the default.
   */
  public static RawWire connect(InetSocketAddress server, InetAddress localAddress)
      throws IOException {
    Socket s = new Socket();
    try {
      if (localAddress != null) {
        s.bind(new InetSocketAddress(localAddress, 0));
      }
      s.setTcpNoDelay(true);
      s.connect(server, 5_000);
      return new RawWire(s);
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /** The local address the connection comes from. */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** Sends the chunks as one write. */
  public RawWire write(byte[]... chunks) throws IOException {
    out.write(Packets.concat(chunks));
    out.flush();
    return this;
  }

  /**
   * Sends {@code bytes} in pieces cut at {@code offsets} (ascending), pausing between pieces, so
   * that the peer sees them in separate reads.
   */
  public RawWire writeSplit(byte[] bytes, Duration pause, int... offsets) throws IOException {
    int from = 0;
    for (int cut : offsets) {
      out.write(bytes, from, cut - from);
      out.flush();
      from = cut;
      sleep(pause);
    }
    out.write(bytes, from, bytes.length - from);
    out.flush();
    return this;
  }

  /**
   * Replaces the plain socket by TLS layered over it (after the server answered an SSLRequest with
   * {@code S}). The server certificate is not checked. {@code alpn} lists the protocols to offer,
   * if any.
   *
   * @throws IllegalStateException if bytes the server sent in clear are still unread: they cannot
   *     be part of the TLS stream and a test must look at them first
   */
  public RawWire startTls(String... alpn) throws IOException {
    if (start != end) {
      throw new IllegalStateException((end - start) + " unread plaintext byte(s) before TLS");
    }
    SSLContext context;
    try {
      context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    InetSocketAddress peer = (InetSocketAddress) socket.getRemoteSocketAddress();
    SSLSocket tls =
        (SSLSocket)
            context
                .getSocketFactory()
                .createSocket(socket, peer.getHostString(), peer.getPort(), true);
    tls.setUseClientMode(true);
    if (alpn.length > 0) {
      SSLParameters params = tls.getSSLParameters();
      params.setApplicationProtocols(alpn);
      tls.setSSLParameters(params);
    }
    socket.setSoTimeout(5_000);
    tls.startHandshake();
    socket = tls;
    in = tls.getInputStream();
    out = tls.getOutputStream();
    return this;
  }

  /**
   * Reads one untyped byte, as the server's answer to SSLRequest or GSSENCRequest; -1 if the
   * connection closed first.
   *
   * @throws SocketTimeoutException if nothing arrives within {@code timeout}
   */
  public int readByte(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (end - start < 1) {
      if (!fill(deadline)) {
        return -1;
      }
    }
    return buffer[start++] & 0xFF;
  }

  /**
   * Reads the next typed message.
   *
   * @throws SocketTimeoutException if it is not complete within {@code timeout}
   * @throws EOFException if the connection closed first
   */
  public WireMessage read(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      WireMessage m = parse();
      if (m != null) {
        return m;
      }
      if (!fill(deadline)) {
        throw new EOFException("connection closed" + (end > start ? " mid-message" : ""));
      }
    }
  }

  /**
   * Reads messages up to and including the first of type {@code kind} (e.g. {@code 'Z'}).
   *
   * @throws IOException naming what was read, if the connection closes or the time runs out first
   */
  public List<WireMessage> readThrough(char kind, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<WireMessage> messages = new ArrayList<>();
    while (true) {
      WireMessage m;
      try {
        m = read(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } catch (IOException e) {
        throw new IOException(
            "no '" + kind + "' message; read " + messages + " then: " + e.getMessage(), e);
      }
      messages.add(m);
      if (m.is(kind)) {
        return messages;
      }
    }
  }

  /** What {@link #drain} saw. */
  public record Drained(List<WireMessage> messages, boolean closed, Duration elapsed) {
    public Drained {
      messages = List.copyOf(messages);
    }

    /** The first message, which a test usually expects to be an ErrorResponse. */
    public WireMessage first() {
      if (messages.isEmpty()) {
        throw new IllegalStateException("no message before " + (closed ? "close" : "deadline"));
      }
      return messages.getFirst();
    }
  }

  /**
   * Reads messages until the server closes the connection or {@code deadline} passes. A partial
   * message at the close is dropped.
   */
  public Drained drain(Duration deadline) throws IOException {
    long startNanos = System.nanoTime();
    long until = startNanos + deadline.toNanos();
    List<WireMessage> messages = new ArrayList<>();
    boolean eof;
    while (true) {
      WireMessage m = parse();
      if (m != null) {
        messages.add(m);
        continue;
      }
      try {
        if (!fill(until)) {
          eof = true;
          break;
        }
      } catch (SocketTimeoutException e) {
        eof = false;
        break;
      }
    }
    return new Drained(messages, eof, Duration.ofNanos(System.nanoTime() - startNanos));
  }

  /** The outcome of {@link #login}: the messages from AuthenticationOk to ReadyForQuery. */
  public record Session(List<WireMessage> messages, int processId, byte[] secretKey) {
    public Session {
      messages = List.copyOf(messages);
      secretKey = secretKey.clone();
    }

    @Override
    public byte[] secretKey() {
      return secretKey.clone();
    }

    /** The value of ParameterStatus {@code name}, or null. */
    public String parameter(String name) {
      for (WireMessage m : messages) {
        if (m.is('S')) {
          byte[] b = m.body();
          int nul = 0;
          while (b[nul] != 0) {
            nul++;
          }
          if (new String(b, 0, nul, StandardCharsets.UTF_8).equals(name)) {
            return new String(b, nul + 1, b.length - nul - 2, StandardCharsets.UTF_8);
          }
        }
      }
      return null;
    }
  }

  /** The server refused a login; {@link #error()} is its ErrorResponse. */
  public static final class Refused extends IOException {
    private final transient WireMessage error;

    Refused(WireMessage error) {
      super("login refused: " + error);
      this.error = error;
    }

    public WireMessage error() {
      return error;
    }
  }

  /**
   * Sends a protocol 3.0 StartupMessage with {@code parameters} and logs in with SCRAM-SHA-256 (as
   * PostgreSQL's own clients do: no channel binding, empty {@code n=}), through to the first
   * ReadyForQuery. The server's signature is checked.
   *
   * @throws Refused with the server's ErrorResponse if it says no
   */
  public Session login(Map<String, String> parameters, String password) throws IOException {
    write(Packets.startup(parameters));
    return authenticate(Scram.client(password));
  }

  /** Runs SCRAM with {@code client} after a StartupMessage was sent, through to ReadyForQuery. */
  public Session authenticate(Scram.Client client) throws IOException {
    Duration step = Duration.ofSeconds(10);
    WireMessage m = expectAuthentication(step, 10);
    if (!new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8)
        .contains("SCRAM-SHA-256")) {
      throw new IOException("server does not offer SCRAM-SHA-256: " + m);
    }
    write(Packets.saslInitialResponse("SCRAM-SHA-256", client.clientFirst()));
    m = expectAuthentication(step, 11);
    write(
        Packets.saslResponse(client.clientFinal(Arrays.copyOfRange(m.body(), 4, m.body().length))));
    m = expectAuthentication(step, 12);
    if (!client.verifyServerFinal(Arrays.copyOfRange(m.body(), 4, m.body().length))) {
      throw new IOException("server signature does not verify");
    }
    expectAuthentication(step, 0);
    return afterAuthenticationOk(step);
  }

  /**
   * Reads from after AuthenticationOk to ReadyForQuery.
   *
   * @throws Refused if an ErrorResponse comes first
   */
  public Session afterAuthenticationOk(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<WireMessage> messages = new ArrayList<>();
    int pid = 0;
    byte[] key = new byte[0];
    while (true) {
      WireMessage x;
      try {
        x = read(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      } catch (IOException e) {
        throw new IOException("no ReadyForQuery; read " + messages + " then: " + e.getMessage(), e);
      }
      messages.add(x);
      if (x.is('E')) {
        throw new Refused(x);
      }
      if (x.is('K')) {
        pid = x.int32(0);
        key = Arrays.copyOfRange(x.body(), 4, x.body().length);
      }
      if (x.is('Z')) {
        return new Session(messages, pid, key);
      }
    }
  }

  /**
   * Reads the next message and requires an Authentication message with {@code code} (0 ok, 10 SASL,
   * 11 SASLContinue, 12 SASLFinal).
   *
   * @throws Refused if it is an ErrorResponse
   */
  public WireMessage expectAuthentication(Duration timeout, int code) throws IOException {
    WireMessage m = read(timeout);
    if (m.is('E')) {
      throw new Refused(m);
    }
    if (!m.is('R') || m.int32(0) != code) {
      throw new IOException("expected Authentication " + code + ", got " + m);
    }
    return m;
  }

  /** True once the server closed the connection (seen by a read). */
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing to do: the test is done with this connection
    }
  }

  /** Completes one message from the buffer, or null. */
  private WireMessage parse() throws IOException {
    if (end - start < 5) {
      return null;
    }
    long length =
        ((buffer[start + 1] & 0xFFL) << 24)
            | ((buffer[start + 2] & 0xFFL) << 16)
            | ((buffer[start + 3] & 0xFFL) << 8)
            | (buffer[start + 4] & 0xFFL);
    if (length < 4 || length > MAX_REPLY_BYTES) {
      throw new IOException(
          "server sent a message of type " + (char) buffer[start] + " with length " + length);
    }
    if (end - start < length + 1) {
      if (buffer.length < length + 1) {
        buffer = Arrays.copyOfRange(buffer, start, (int) length + 1 + 8192);
        end -= start;
        start = 0;
      }
      return null;
    }
    WireMessage m =
        new WireMessage(
            buffer[start], Arrays.copyOfRange(buffer, start + 5, start + 1 + (int) length));
    start += (int) length + 1;
    return m;
  }

  /** Reads more bytes before {@code deadline}; false at end of stream. */
  private boolean fill(long deadlineNanos) throws IOException {
    if (closed) {
      return false;
    }
    if (start == end) {
      start = 0;
      end = 0;
    } else if (end == buffer.length) {
      System.arraycopy(buffer, start, buffer, 0, end - start);
      end -= start;
      start = 0;
    }
    long remainingMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
    if (remainingMillis <= 0) {
      throw new SocketTimeoutException("read timed out");
    }
    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
    int n;
    try {
      n = in.read(buffer, end, buffer.length - end);
    } catch (SocketException e) {
      // A reset is the server closing too, just less politely.
      n = -1;
    }
    if (n < 0) {
      closed = true;
      return false;
    }
    end += n;
    return true;
  }

  private static void sleep(Duration d) throws InterruptedIOException {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
  }

  /** Trusts every certificate: these tests are about the protocol, not about PKI. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}

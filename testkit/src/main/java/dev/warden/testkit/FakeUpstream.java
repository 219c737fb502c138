package dev.warden.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A scripted, possibly malicious PostgreSQL server on 127.0.0.1 (THREATS H2), for testing a proxy
 * as a client. Each accepted connection runs the {@link Script} on a thread of its own; when the
 * script returns, the connection keeps reading until the peer closes it (or {@link #LINGER}
 * passes), so that {@link Connection#received()} records everything the proxy sent, including what
 * it should not have.
 */
public final class FakeUpstream implements AutoCloseable {
  /** How long a connection whose script is done waits for the peer to close it. */
  public static final Duration LINGER = Duration.ofSeconds(10);

  private final ServerSocket server;
  private final Script script;
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  /** What the server does on one connection. */
  @FunctionalInterface
  public interface Script {
    void run(Connection connection) throws IOException;
  }

  private FakeUpstream(Script script) throws IOException {
    this.script = script;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = Thread.ofPlatform().daemon().name("fake-upstream-accept").start(this::accept);
  }

  /** Starts listening on 127.0.0.1 at an ephemeral port. */
  public static FakeUpstream start(Script script) throws IOException {
    return new FakeUpstream(script);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** The connections accepted so far, oldest first. */
  public List<Connection> connections() {
    return List.copyOf(connections);
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Connection c : connections) {
      c.closeSocket();
    }
    try {
      acceptor.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      try {
        Connection c = new Connection(s);
        connections.add(c);
        Thread.ofPlatform()
            .daemon()
            .name("fake-upstream-" + s.getPort())
            .start(() -> c.run(script));
      } catch (IOException e) {
        closeQuietly(s);
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  /** One accepted connection: what the script reads and writes, and a record of both. */
  public static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile long written;
    private volatile boolean closedByPeer;
    private volatile Throwable scriptFailure;
    private volatile Map<String, String> startupParameters = Map.of();

    private Connection(Socket socket) throws IOException {
      this.socket = socket;
      socket.setTcpNoDelay(true);
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    private void run(Script script) {
      try {
        script.run(this);
        drainUntilClosed(LINGER);
      } catch (EOFException | SocketException e) {
        closedByPeer = true;
      } catch (IOException | RuntimeException e) {
        scriptFailure = e;
      } finally {
        closeSocket();
        finished.countDown();
      }
    }

    /**
     * Reads an untyped startup-phase packet and returns its request code (an SSLRequest's, or the
     * protocol version of a StartupMessage, whose parameters then become {@link
     * #startupParameters()}).
     */
    public int readStartupPacket(Duration timeout) throws IOException {
      byte[] header = readExactly(8, timeout);
      int length = int32(header, 0);
      int code = int32(header, 4);
      if (length < 8 || length > 10_000) {
        throw new IOException("bad startup packet length " + length);
      }
      byte[] payload = readExactly(length - 8, timeout);
      if (code >>> 16 == 3) {
        Map<String, String> params = new LinkedHashMap<>();
        int at = 0;
        while (at < payload.length && payload[at] != 0) {
          int k = indexOfNul(payload, at);
          int v = indexOfNul(payload, k + 1);
          params.put(utf8(payload, at, k), utf8(payload, k + 1, v));
          at = v + 1;
        }
        startupParameters = Map.copyOf(params);
      }
      return code;
    }

    /** The parameters of the last StartupMessage read. */
    public Map<String, String> startupParameters() {
      return startupParameters;
    }

    /** Reads one typed message from the proxy. */
    public WireMessage readMessage(Duration timeout) throws IOException {
      byte[] header = readExactly(5, timeout);
      long length = int32(header, 1) & 0xFFFFFFFFL;
      if (length < 4 || length > 1 << 20) {
        throw new IOException("proxy sent a message with length " + length);
      }
      return new WireMessage(header[0], readExactly((int) length - 4, timeout));
    }

    /** Sends the chunks as one write; blocks while the proxy does not read. */
    public void write(byte[]... chunks) throws IOException {
      byte[] bytes = Packets.concat(chunks);
      out.write(bytes);
      out.flush();
      written += bytes.length;
    }

    /** Bytes written to the proxy so far (the last write counts once it returned). */
    public long written() {
      return written;
    }

    /** Every byte received from the proxy so far. */
    public byte[] received() {
      synchronized (received) {
        return received.toByteArray();
      }
    }

    /** True once the proxy closed this connection. */
    public boolean closedByPeer() {
      return closedByPeer;
    }

    /** Waits until the connection is over (closed by the proxy, or the script failed). */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
      return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** What went wrong in the script, if anything did other than the proxy closing. */
    public Throwable scriptFailure() {
      return scriptFailure;
    }

    private void drainUntilClosed(Duration timeout) throws IOException {
      long deadline = System.nanoTime() + timeout.toNanos();
      byte[] chunk = new byte[8192];
      while (System.nanoTime() < deadline) {
        socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        int n;
        try {
          n = in.read(chunk);
        } catch (SocketTimeoutException e) {
          return;
        }
        if (n < 0) {
          closedByPeer = true;
          return;
        }
        record(chunk, 0, n);
      }
    }

    private byte[] readExactly(int n, Duration timeout) throws IOException {
      byte[] bytes = new byte[n];
      long deadline = System.nanoTime() + timeout.toNanos();
      int at = 0;
      while (at < n) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new SocketTimeoutException("proxy sent " + at + " of " + n + " bytes");
        }
        socket.setSoTimeout((int) left);
        int r = in.read(bytes, at, n - at);
        if (r < 0) {
          closedByPeer = true;
          throw new EOFException("proxy closed the connection");
        }
        record(bytes, at, r);
        at += r;
      }
      return bytes;
    }

    private void record(byte[] bytes, int offset, int n) {
      synchronized (received) {
        received.write(bytes, offset, n);
      }
    }

    private void closeSocket() {
      closeQuietly(socket);
    }
  }

  // Canned scripts.

  /**
   * Reads the proxy's SSLRequest and answers with {@code answer}, e.g. {@code 'S'} plus more bytes.
   */
  public static Script answerSslRequest(byte[] answer) {
    return c -> {
      int code = c.readStartupPacket(Duration.ofSeconds(5));
      if (code != Packets.SSL_REQUEST_CODE) {
        throw new IOException("expected SSLRequest, got code " + code);
      }
      c.write(answer);
    };
  }

  /**
   * A server with trust authentication: reads the StartupMessage, answers AuthenticationOk, a few
   * ParameterStatus messages, BackendKeyData (process id 4242) and ReadyForQuery, then runs {@code
   * then}.
   */
  public static Script trust(Script then) {
    return c -> {
      c.readStartupPacket(Duration.ofSeconds(5));
      c.write(Packets.authenticationOk(), greeting());
      then.run(c);
    };
  }

  /** What a server sends between AuthenticationOk and its first ReadyForQuery. */
  public static byte[] greeting() {
    return Packets.concat(
        Packets.parameterStatus("server_version", "15.0 (fake)"),
        Packets.parameterStatus("client_encoding", "UTF8"),
        Packets.parameterStatus("standard_conforming_strings", "on"),
        Packets.backendKeyData(4242, new byte[] {1, 2, 3, 4}),
        Packets.readyForQuery('I'));
  }

  /**
   * Answers each Query with {@code CommandComplete "SELECT 0"} and ReadyForQuery until Terminate.
   */
  public static Script answerQueries() {
    return c -> {
      while (true) {
        WireMessage m = c.readMessage(Duration.ofSeconds(30));
        if (m.is('X')) {
          return;
        }
        if (m.is('Q')) {
          c.write(Packets.commandComplete("SELECT 0"), Packets.readyForQuery('I'));
        }
      }
    };
  }

  /** How a {@link #scram} server misbehaves. */
  public enum SaslFlaw {
    /** None: a correct exchange, for control. */
    NONE,
    /** An iteration count of 2<sup>31</sup>−1 (CVE-2026-6669). */
    HUGE_ITERATIONS,
    /** A 100 KB nonce (CVE-2026-6665). */
    HUGE_NONCE,
    /** A server nonce that does not start with the client's. */
    NONCE_NOT_EXTENDING,
    /** A wrong signature in the server-final-message. */
    BAD_SERVER_SIGNATURE,
    /** No server-final-message at all: AuthenticationOk straight after the client's proof. */
    SKIP_SERVER_FINAL
  }

  /**
   * A server asking for SCRAM-SHA-256 with {@code password}, flawed as {@code flaw} says. If the
   * proxy gets through, the server sends AuthenticationOk, a ParameterStatus whose value is {@code
   * canary}, BackendKeyData and ReadyForQuery, then runs {@code then}.
   */
  public static Script scram(String password, SaslFlaw flaw, String canary, Script then) {
    return c -> {
      Duration t = Duration.ofSeconds(5);
      c.readStartupPacket(t);
      c.write(Packets.authenticationSasl(List.of("SCRAM-SHA-256")));
      WireMessage initial = c.readMessage(t);
      byte[] body = initial.body();
      int mechanismEnd = indexOfNul(body, 0);
      String clientFirst = utf8(body, mechanismEnd + 5, body.length);
      String clientFirstBare = clientFirst.substring(clientFirst.indexOf(",,") + 2);
      String clientNonce = Scram.attribute(clientFirstBare, "r=");
      SecureRandom random = new SecureRandom();
      byte[] salt = new byte[16];
      random.nextBytes(salt);
      int iterations = flaw == SaslFlaw.HUGE_ITERATIONS ? Integer.MAX_VALUE : 4096;
      String serverPart = Base64.getEncoder().encodeToString(salt).replace("=", "");
      String nonce =
          switch (flaw) {
            case HUGE_NONCE -> clientNonce + "x".repeat(100 * 1024);
            case NONCE_NOT_EXTENDING -> serverPart + serverPart;
            default -> clientNonce + serverPart;
          };
      String serverFirst =
          "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + iterations;
      c.write(Packets.authenticationSaslContinue(serverFirst.getBytes(StandardCharsets.UTF_8)));
      WireMessage response = c.readMessage(t);
      String clientFinal = response.text();
      String withoutProof = clientFinal.substring(0, clientFinal.lastIndexOf(",p="));
      byte[] signature =
          Scram.serverSignature(
              password, salt, iterations, clientFirstBare + "," + serverFirst + "," + withoutProof);
      if (flaw == SaslFlaw.BAD_SERVER_SIGNATURE) {
        signature[0] ^= 1;
      }
      if (flaw != SaslFlaw.SKIP_SERVER_FINAL) {
        c.write(
            Packets.authenticationSaslFinal(
                ("v=" + Base64.getEncoder().encodeToString(signature))
                    .getBytes(StandardCharsets.UTF_8)));
      }
      c.write(
          Packets.authenticationOk(),
          Packets.parameterStatus("application_name", canary),
          greeting());
      then.run(c);
    };
  }

  private static int indexOfNul(byte[] b, int from) throws IOException {
    for (int i = from; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    throw new IOException("missing NUL terminator");
  }

  private static String utf8(byte[] b, int from, int to) {
    return new String(b, from, to - from, StandardCharsets.UTF_8);
  }

  private static int int32(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24)
        | ((b[at + 1] & 0xFF) << 16)
        | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }
}

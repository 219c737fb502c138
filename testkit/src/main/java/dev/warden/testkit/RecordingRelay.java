package dev.warden.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay between clients and a server under test that keeps every byte the server sends to
 * each client, in order, before forwarding it (THREATS H7: the canary oracle scans all of it). A
 * client that has read a reply has therefore had it recorded. The server's stream is also cut into
 * PostgreSQL messages as it passes, so that a finding can be placed ("the 7th message, a DataRow");
 * an SSLRequest or GSSENCRequest from the client makes the server's one-byte answer a message of
 * its own. Works with any client (pgjdbc, psql, raw sockets); plain TCP only (a TLS session would
 * be opaque to it).
 */
public final class RecordingRelay implements AutoCloseable {
  private static final int SSL_OR_GSS_REQUEST_LENGTH = 8;

  /** A position in every connection's server stream, from {@link #mark()}. */
  public record Mark(Map<Integer, Integer> offsets) {
    public Mark {
      offsets = Map.copyOf(offsets);
    }
  }

  /** One PostgreSQL message of a server stream: its type byte and where it starts and ends. */
  public record Frame(int offset, char type, int end) {}

  /**
   * What the server sent on one connection between two moments.
   *
   * @param connection the connection's number, in order of acceptance from 1
   * @param offset where {@code bytes} start in the connection's whole server stream
   * @param bytes the bytes
   * @param frames the messages that overlap {@code bytes} (offsets in the whole stream)
   */
  public record Capture(int connection, int offset, byte[] bytes, List<Frame> frames) {
    public Capture {
      bytes = bytes.clone();
      frames = List.copyOf(frames);
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    /** Where byte {@code at} of {@link #bytes} is, for people: connection, message and type. */
    public String locate(int at) {
      int absolute = offset + at;
      for (int i = 0; i < frames.size(); i++) {
        Frame f = frames.get(i);
        if (absolute >= f.offset() && absolute < f.end()) {
          return "connection "
              + connection
              + ", "
              + messageName(f.type())
              + " at stream byte "
              + f.offset()
              + " (+"
              + (absolute - f.offset())
              + ")";
        }
      }
      return "connection " + connection + ", stream byte " + absolute + " (not framed)";
    }
  }

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final List<Stream> streams = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger numbers = new AtomicInteger();
  private volatile boolean closed;

  private RecordingRelay(ServerSocket listener, InetSocketAddress target) {
    this.listener = listener;
    this.target = target;
  }

  /** Starts relaying connections to 127.0.0.1 on an ephemeral port to {@code target}. */
  public static RecordingRelay start(InetSocketAddress target) throws IOException {
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    RecordingRelay relay = new RecordingRelay(listener, target);
    Thread.ofPlatform().daemon().name("recording-relay-accept").start(relay::accept);
    return relay;
  }

  /** Where clients connect. */
  public InetSocketAddress address() {
    return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
  }

  /** How many connections were accepted so far. */
  public int connections() {
    return streams.size();
  }

  /** The current end of every connection's server stream. */
  public Mark mark() {
    Map<Integer, Integer> offsets = new HashMap<>();
    for (Stream s : streams) {
      offsets.put(s.number, s.size());
    }
    return new Mark(offsets);
  }

  /**
   * What the server sent after {@code mark} on every connection that sent something, connections
   * accepted since the mark included.
   */
  public List<Capture> since(Mark mark) {
    List<Capture> out = new ArrayList<>();
    for (Stream s : streams) {
      Capture c = s.from(mark.offsets().getOrDefault(s.number, 0));
      if (c.bytes.length > 0) {
        out.add(c);
      }
    }
    return out;
  }

  /** Everything every server stream carried. */
  public List<Capture> all() {
    return since(new Mark(Map.of()));
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      Socket server = new Socket();
      try {
        server.setTcpNoDelay(true);
        client.setTcpNoDelay(true);
        server.connect(target, 5_000);
      } catch (IOException e) {
        closeQuietly(client);
        closeQuietly(server);
        continue;
      }
      sockets.add(client);
      sockets.add(server);
      Stream stream = new Stream(numbers.incrementAndGet());
      streams.add(stream);
      Thread.ofVirtual().start(() -> pump(client, server, stream, false));
      Thread.ofVirtual().start(() -> pump(server, client, stream, true));
    }
  }

  private static void pump(Socket from, Socket to, Stream stream, boolean fromServer) {
    byte[] buffer = new byte[16384];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (fromServer) {
          stream.record(buffer, n);
        } else {
          stream.client(buffer, n);
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side went away: close both below
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing is best effort
    }
  }

  static String messageName(char type) {
    String name =
        switch (type) {
          case 'D' -> "DataRow";
          case 'T' -> "RowDescription";
          case 'd' -> "CopyData";
          case 'H' -> "CopyOutResponse";
          case 'G' -> "CopyInResponse";
          case 'E' -> "ErrorResponse";
          case 'N' -> "NoticeResponse";
          case 'A' -> "NotificationResponse";
          case 'S' -> "ParameterStatus";
          case 'C' -> "CommandComplete";
          case 'Z' -> "ReadyForQuery";
          case 'R' -> "Authentication";
          case 'K' -> "BackendKeyData";
          case 's' -> "PortalSuspended";
          case 't' -> "ParameterDescription";
          case 'V' -> "FunctionCallResponse";
          case '1' -> "ParseComplete";
          case '2' -> "BindComplete";
          case '3' -> "CloseComplete";
          case 'n' -> "NoData";
          case 'I' -> "EmptyQueryResponse";
          default -> "message";
        };
    return name + " '" + type + "'";
  }

  /** One connection's server stream and its framing, written by its pump, read by the test. */
  private static final class Stream {
    private final int number;
    private byte[] bytes = new byte[8192];
    private int length;
    private final List<Frame> frames = new ArrayList<>();
    private final byte[] clientStart = new byte[SSL_OR_GSS_REQUEST_LENGTH];
    private int clientBytes;
    private int pendingSingleBytes;
    private int nextFrame;
    private boolean framingLost;

    Stream(int number) {
      this.number = number;
    }

    synchronized void client(byte[] data, int n) {
      // The server answers SSLRequest and GSSENCRequest with one untyped byte.
      for (int i = 0; i < n; i++) {
        if (clientBytes < SSL_OR_GSS_REQUEST_LENGTH) {
          clientStart[clientBytes] = data[i];
        }
        clientBytes++;
        if (clientBytes == SSL_OR_GSS_REQUEST_LENGTH && isSslOrGssRequest()) {
          pendingSingleBytes++;
          clientBytes = 0;
        }
      }
    }

    private boolean isSslOrGssRequest() {
      int length = int32(clientStart, 0);
      int code = int32(clientStart, 4);
      return length == 8
          && (code == Packets.SSL_REQUEST_CODE || code == Packets.GSSENC_REQUEST_CODE);
    }

    synchronized void record(byte[] data, int n) {
      if (length + n > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + n));
      }
      System.arraycopy(data, 0, bytes, length, n);
      length += n;
      frame();
    }

    synchronized int size() {
      return length;
    }

    synchronized Capture from(int offset) {
      int start = Math.min(offset, length);
      List<Frame> overlapping = new ArrayList<>();
      for (Frame f : frames) {
        if (f.end() > start) {
          overlapping.add(f);
        }
      }
      return new Capture(
          number, start, java.util.Arrays.copyOfRange(bytes, start, length), overlapping);
    }

    private void frame() {
      byte[] all = bytes;
      while (!framingLost && nextFrame < length) {
        if (pendingSingleBytes > 0) {
          frames.add(new Frame(nextFrame, (char) (all[nextFrame] & 0xFF), nextFrame + 1));
          nextFrame++;
          pendingSingleBytes--;
          continue;
        }
        if (length - nextFrame < 5) {
          return;
        }
        int declared = int32(all, nextFrame + 1);
        if (declared < 4 || declared > (1 << 30)) {
          framingLost = true;
          return;
        }
        long end = (long) nextFrame + 1 + declared;
        if (end > length) {
          return;
        }
        frames.add(new Frame(nextFrame, (char) (all[nextFrame] & 0xFF), (int) end));
        nextFrame = (int) end;
      }
    }

    private static int int32(byte[] b, int at) {
      return ((b[at] & 0xFF) << 24)
          | ((b[at + 1] & 0xFF) << 16)
          | ((b[at + 2] & 0xFF) << 8)
          | (b[at + 3] & 0xFF);
    }
  }
}

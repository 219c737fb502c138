package dev.warden.server.datamap;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A plain TCP forwarder from a chosen port of this machine to PostgreSQL, so that a test can make
 * an upstream unreachable first and reachable later on the same port.
 */
final class Forwarder implements AutoCloseable {
  private final ServerSocket listener;

  private Forwarder(ServerSocket listener) {
    this.listener = listener;
  }

  /** A port nothing listens on (just released by the operating system). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Forwards connections to {@code port} on 127.0.0.1 to 127.0.0.1:{@code target}. */
  static Forwarder start(int port, int target) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    Forwarder f = new Forwarder(listener);
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!listener.isClosed()) {
                try {
                  Socket client = listener.accept();
                  Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                  pipe(client, server);
                  pipe(server, client);
                } catch (IOException e) {
                  return;
                }
              }
            });
    return f;
  }

  private static void pipe(Socket from, Socket to) {
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // the other side closed
              } finally {
                try {
                  from.close();
                  to.close();
                } catch (IOException ignored) {
                  // closing anyway
                }
              }
            });
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}

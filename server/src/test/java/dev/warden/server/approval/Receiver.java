package dev.warden.server.approval;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP server on loopback that receives webhook POSTs: it refuses the first {@code failures}
 * with 503, and, while {@link #hold} is set, keeps each request waiting until released.
 */
final class Receiver implements AutoCloseable {
  /** One request as received. */
  record Received(String path, Map<String, List<String>> headers, byte[] body) {
    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().getFirst();
        }
      }
      return null;
    }
  }

  private final HttpServer server;
  final BlockingQueue<Received> accepted = new LinkedBlockingQueue<>();
  final BlockingQueue<Received> refused = new LinkedBlockingQueue<>();
  final AtomicInteger arrived = new AtomicInteger();
  private final int failures;
  volatile CountDownLatch hold;

  Receiver(int failures) throws IOException {
    this.failures = failures;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          Received r =
              new Received(
                  exchange.getRequestURI().toString(),
                  Map.copyOf(exchange.getRequestHeaders()),
                  body);
          int n = arrived.incrementAndGet();
          CountDownLatch h = hold;
          if (h != null) {
            try {
              h.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          if (n <= failures) {
            refused.add(r);
            exchange.sendResponseHeaders(503, -1);
          } else {
            accepted.add(r);
            exchange.sendResponseHeaders(204, -1);
          }
          exchange.close();
        });
    server.start();
  }

  URI url(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery);
  }

  /** The next accepted request, waiting up to 10 seconds (null if none came). */
  Received next() throws InterruptedException {
    return accepted.poll(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    CountDownLatch h = hold;
    if (h != null) {
      h.countDown();
    }
    server.stop(0);
  }
}

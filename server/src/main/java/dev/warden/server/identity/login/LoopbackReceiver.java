package dev.warden.server.identity.login;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one-shot redirect target of the browser flow (RFC 8252 §7.3): an HTTP listener on 127.0.0.1
 * at a port the system chooses, taking the first request to {@code /callback} and checking its
 * {@code state} against the one this login sent (RFC 6749 §10.12), so a page that sends the browser
 * here with its own code cannot log the person in as someone else.
 */
final class LoopbackReceiver implements AutoCloseable {
  static final String PATH = "/callback";

  private final HttpServer server;
  private final String state;
  private final CompletableFuture<String> code = new CompletableFuture<>();

  private LoopbackReceiver(HttpServer server, String state) {
    this.server = server;
    this.state = state;
  }

  static LoopbackReceiver start(String state) {
    HttpServer server;
    try {
      // Literally 127.0.0.1, not "localhost": RFC 8252 §8.3, a name might resolve elsewhere.
      server =
          HttpServer.create(
              new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0), 0);
    } catch (IOException e) {
      throw new LoginException(
          "cannot listen on 127.0.0.1 for the browser's answer (" + e.getMessage() + ")", e);
    }
    LoopbackReceiver receiver = new LoopbackReceiver(server, state);
    server.createContext("/", receiver::handle);
    server.start();
    return receiver;
  }

  /** The redirect URI to register the request with. */
  URI redirectUri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + PATH);
  }

  /**
   * The authorization code the browser brought back.
   *
   * @throws LoginException on a refused sign-in, a wrong state or no answer within {@code timeout}
   */
  String await(Duration timeout) {
    try {
      return code.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new LoginException(
          "no answer from the browser within "
              + timeout.toSeconds()
              + " seconds; run warden login again, or warden login --device");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof LoginException l
          ? new LoginException(l.getMessage(), l)
          : new LoginException("the browser's answer could not be read", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoginException("interrupted while waiting for the browser", e);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      URI uri = exchange.getRequestURI();
      if (!uri.getPath().equals(PATH) || !exchange.getRequestMethod().equals("GET")) {
        respond(exchange, 404, "Not found.");
        return;
      }
      if (code.isDone()) {
        respond(exchange, 410, "This login has already finished; you can close this tab.");
        return;
      }
      Map<String, String> query = query(uri.getRawQuery());
      String returned = query.getOrDefault("state", "");
      if (!MessageDigest.isEqual(
          returned.getBytes(StandardCharsets.UTF_8), state.getBytes(StandardCharsets.UTF_8))) {
        code.completeExceptionally(
            new LoginException(
                "the browser came back with a different state than this login sent; login"
                    + " refused (a page may have tried to log you in as someone else)"));
        respond(
            exchange,
            400,
            "Warden login refused: the state does not match. Run warden login again.");
        return;
      }
      String error = query.get("error");
      if (error != null) {
        String description = query.getOrDefault("error_description", "");
        code.completeExceptionally(
            new LoginException(
                "the identity provider refused the sign-in: "
                    + printable(error)
                    + (description.isEmpty() ? "" : " (" + printable(description) + ")")));
        respond(exchange, 400, "Warden login failed; see your terminal.");
        return;
      }
      String received = query.get("code");
      if (received == null || received.isEmpty()) {
        code.completeExceptionally(
            new LoginException("the browser came back without an authorization code"));
        respond(exchange, 400, "Warden login failed; see your terminal.");
        return;
      }
      code.complete(received);
      respond(
          exchange, 200, "Logged in to Warden. You can close this tab and return to the terminal.");
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> params = new HashMap<>();
    if (raw == null) {
      return params;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        params.putIfAbsent(
            URLDecoder.decode(name, StandardCharsets.UTF_8),
            URLDecoder.decode(value, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // A malformed escape: treat the parameter as absent.
      }
    }
    return params;
  }

  /** The provider's error text without control characters, bounded, for one terminal line. */
  private static String printable(String text) {
    String cleaned = text.replaceAll("\\p{Cntrl}", " ");
    return cleaned.length() > 200 ? cleaned.substring(0, 200) + "..." : cleaned;
  }

  private static void respond(HttpExchange exchange, int status, String message)
      throws IOException {
    byte[] body =
        ("<!doctype html><meta charset=\"utf-8\"><title>Warden login</title><p>" + message + "</p>")
            .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

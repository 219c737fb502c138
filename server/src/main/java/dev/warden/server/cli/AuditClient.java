package dev.warden.server.cli;

import dev.warden.core.identity.Secret;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The {@code warden audit} commands' side of the REST API: searches and the live tail of a running
 * Warden, as a local user with a password. Every error becomes a {@link CommandFailure} with the
 * server's own message.
 */
final class AuditClient {
  private final URI server;
  private final String authorization;
  private final HttpClient http;
  private final AuditJson json = new AuditJson();

  /** One page of search results, newest first. */
  record Page(List<Map<String, Object>> hits, boolean more) {}

  AuditClient(URI server, String user, Secret password) {
    this.server = Objects.requireNonNull(server, "server");
    byte[] pw = password.bytes();
    byte[] credentials = new byte[0];
    try {
      byte[] name = (user + ":").getBytes(StandardCharsets.UTF_8);
      credentials = new byte[name.length + pw.length];
      System.arraycopy(name, 0, credentials, 0, name.length);
      System.arraycopy(pw, 0, credentials, name.length, pw.length);
      this.authorization = "Basic " + Base64.getEncoder().encodeToString(credentials);
    } finally {
      java.util.Arrays.fill(pw, (byte) 0);
      java.util.Arrays.fill(credentials, (byte) 0);
    }
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /**
   * The server's address: {@code --server} if given, else the configured console, else the default.
   * A password is never sent in clear text beyond this machine.
   */
  static URI serverUri(String text) {
    URI uri;
    try {
      uri = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    } catch (java.net.URISyntaxException e) {
      throw new UsageException("--server must be a URL such as http://127.0.0.1:8080");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
      throw new UsageException("--server must be a URL such as http://127.0.0.1:8080");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null) {
      throw new UsageException("--server takes no user, password or query, e.g. http://host:8080");
    }
    if (scheme.equals("http") && !new HostPort(uri.getHost(), 1).isLoopback()) {
      throw new UsageException(
          "refusing to send a password in clear text to "
              + uri.getHost()
              + ": use https:// (through a TLS-terminating proxy) or a loopback address");
    }
    return uri;
  }

  /** The newest results of {@code query}, at most {@code limit}. */
  Page search(String query, int limit) {
    HttpResponse<String> response =
        send(
            get("/api/audit?q=" + encode(query) + "&limit=" + limit)
                .timeout(Duration.ofMinutes(2))
                .build(),
            HttpResponse.BodyHandlers.ofString(),
            query);
    Map<String, Object> body = object(response.body());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> hits = (List<Map<String, Object>>) body.get("hits");
    return new Page(hits == null ? List.of() : hits, Boolean.TRUE.equals(body.get("more")));
  }

  /**
   * Follows the trail until the server ends the stream or the thread is interrupted.
   *
   * @param started called once the server follows (records written after it are delivered)
   * @param record called with each record as it arrives
   */
  void tail(String query, Runnable started, Consumer<Map<String, Object>> record) {
    HttpResponse<InputStream> response =
        send(
            get("/api/audit/tail?q=" + encode(query)).header("Accept", "text/event-stream").build(),
            HttpResponse.BodyHandlers.ofInputStream(),
            query);
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String event = "message";
      StringBuilder data = new StringBuilder();
      boolean announced = false;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (!data.isEmpty()) {
            Map<String, Object> fields = object(data.toString());
            if (event.equals("overflow")) {
              throw new CommandFailure(
                  "the server stopped the tail: " + fields.getOrDefault("error", "overflow"));
            }
            record.accept(fields);
          }
          event = "message";
          data.setLength(0);
        } else if (line.startsWith(":")) {
          if (!announced) {
            announced = true;
            started.run();
          }
        } else if (line.startsWith("event:")) {
          event = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).stripLeading());
        }
      }
    } catch (IOException e) {
      if (Thread.currentThread().isInterrupted()) {
        return;
      }
      throw new CommandFailure("the connection to " + server + " ended: " + e.getMessage(), e);
    }
    throw new CommandFailure("the server " + server + " ended the tail (is it shutting down?)");
  }

  private HttpRequest.Builder get(String pathAndQuery) {
    return HttpRequest.newBuilder(URI.create(server + pathAndQuery))
        .header("Authorization", authorization)
        .header("User-Agent", "warden-cli")
        .GET();
  }

  private <T> HttpResponse<T> send(
      HttpRequest request, HttpResponse.BodyHandler<T> handler, String query) {
    HttpResponse<T> response;
    try {
      response = http.send(request, handler);
    } catch (ConnectException e) {
      throw new CommandFailure(
          "cannot reach Warden's API at "
              + server
              + ": is warden serve running, and is this its console address? (--server URL)",
          e);
    } catch (IOException e) {
      throw new CommandFailure("the request to " + server + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CommandFailure("interrupted", e);
    }
    int status = response.statusCode();
    if (status == 200) {
      return response;
    }
    String message = errorMessage(response);
    throw switch (status) {
      case 401 ->
          new CommandFailure(
              "the server refused the login: wrong user name or password (" + message + ")");
      case 400 -> new CommandFailure(withCaret(message, response, query));
      default -> new CommandFailure(message + " (HTTP " + status + ")");
    };
  }

  private String errorMessage(HttpResponse<?> response) {
    String text;
    try {
      text =
          switch (response.body()) {
            case String s -> s;
            case InputStream in -> {
              try (in) {
                yield new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
              }
            }
            default -> "";
          };
    } catch (IOException e) {
      text = "";
    }
    try {
      Object error = object(text).get("error");
      if (error instanceof String s) {
        return AuditLines.escape(s);
      }
    } catch (CommandFailure | IllegalArgumentException e) {
      // not JSON: fall through
    }
    return "the server answered HTTP " + response.statusCode();
  }

  /** A query error with a caret under the character the server pointed at. */
  private String withCaret(String message, HttpResponse<?> response, String query) {
    if (query.isEmpty() || !message.startsWith("audit query")) {
      return message;
    }
    int at = message.indexOf("at character ");
    if (at < 0) {
      return message;
    }
    int end = at + "at character ".length();
    int stop = end;
    while (stop < message.length() && Character.isDigit(message.charAt(stop))) {
      stop++;
    }
    int position;
    try {
      position = Integer.parseInt(message.substring(end, stop)) - 1;
    } catch (NumberFormatException e) {
      return message;
    }
    String shown = AuditLines.escape(query);
    if (position < 0 || position > shown.length() || !shown.equals(query)) {
      return message;
    }
    return message + "\n  " + shown + "\n  " + " ".repeat(position) + "^";
  }

  private Map<String, Object> object(String text) {
    Object parsed;
    try {
      parsed = json.read(text);
    } catch (IllegalArgumentException e) {
      throw new CommandFailure("the server's answer is not JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new CommandFailure("the server's answer is not a JSON object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> object = (Map<String, Object>) map;
    return object;
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}

package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document Warden serves describes exactly the API it serves: every route the API's
 * sources register under {@code /api} is in it with its method, nothing else is, and every
 * documented operation answers something other than 404 or 405.
 */
class OpenApiDocumentTest {
  private static final Pattern ROUTE =
      Pattern.compile("routes\\.(get|post|delete|put|patch)\\(\\s*\"(/api[^\"]*)\"");

  @TempDir Path dir;
  private ApprovalFixture fixture;

  @BeforeEach
  void start() throws Exception {
    fixture = new ApprovalFixture(dir);
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(fixture.server() + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static Set<String> documented(JsonNode doc) {
    Set<String> out = new TreeSet<>();
    for (Iterator<String> paths = doc.get("paths").fieldNames(); paths.hasNext(); ) {
      String path = paths.next();
      for (Iterator<String> methods = doc.get("paths").get(path).fieldNames();
          methods.hasNext(); ) {
        out.add(methods.next().toUpperCase(Locale.ROOT) + " " + path);
      }
    }
    return out;
  }

  private static Set<String> registered() throws Exception {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.list(Path.of("src/main/java/dev/warden/server/api"))) {
      for (Path file : files.toList()) {
        Matcher m = ROUTE.matcher(Files.readString(file));
        while (m.find()) {
          out.add(m.group(1).toUpperCase(Locale.ROOT) + " " + m.group(2));
        }
      }
    }
    return out;
  }

  @Test
  void theDocumentListsExactlyTheRoutesTheApiRegisters() throws Exception {
    HttpResponse<String> r = get("/api/openapi.json");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
    JsonNode doc = new ObjectMapper().readTree(r.body());
    assertThat(doc.get("openapi").asText()).startsWith("3.1");
    Set<String> registered = registered();
    assertThat(registered).hasSizeGreaterThan(10);
    assertThat(documented(doc)).isEqualTo(registered);
  }

  @Test
  void everyDocumentedOperationIsServed() throws Exception {
    JsonNode doc = new ObjectMapper().readTree(get("/api/openapi.json").body());
    for (String operation : documented(doc)) {
      String method = operation.substring(0, operation.indexOf(' '));
      String path =
          operation.substring(operation.indexOf(' ') + 1).replaceAll("\\{[a-z]+\\}", "apr_aaaa");
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(fixture.server() + path))
              .header("Content-Type", "application/json");
      b.method(
          method,
          method.equals("GET")
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString("{}"));
      int status =
          HttpClient.newHttpClient()
              .send(b.build(), HttpResponse.BodyHandlers.discarding())
              .statusCode();
      assertThat(status).as(operation).isNotIn(404, 405);
    }
  }
}

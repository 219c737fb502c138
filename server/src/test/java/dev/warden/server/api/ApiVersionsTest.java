package dev.warden.server.api;

import static dev.warden.server.api.ApprovalFixture.ALICE;
import static dev.warden.server.api.ApprovalFixture.BOB;
import static dev.warden.server.api.ApprovalFixture.PASSWORD_SUFFIX;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's version 1 is served under {@code /api/v1/} and, as the current version, under {@code
 * /api/}: the same handlers, authentication, query strings, path parameters and errors, and every
 * answer names the version.
 */
class ApiVersionsTest {
  @TempDir Path dir;
  private ApprovalFixture f;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    f = new ApprovalFixture(dir);
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private HttpResponse<String> send(String method, String path, String user, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(f.server() + path)).timeout(Duration.ofSeconds(20));
    if (user != null) {
      b.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(
                      (user + ":" + user + PASSWORD_SUFFIX).getBytes(StandardCharsets.UTF_8)));
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyEndpointAnswersTheSameUnderItsVersionedPath() throws Exception {
    HttpResponse<String> health = send("GET", "/api/v1/health", null, null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"ok\"");
    assertThat(health.headers().firstValue("Warden-API-Version")).contains("1");
    assertThat(send("GET", "/api/health", null, null).headers().firstValue("Warden-API-Version"))
        .contains("1");

    ApprovalRequest request = f.aliceAsks("CREATE INDEX i ON t (c)");
    assertThat(send("GET", "/api/v1/approvals/" + request.id(), null, null).statusCode())
        .isEqualTo(401);
    HttpResponse<String> shown = send("GET", "/api/v1/approvals/" + request.id(), BOB, null);
    assertThat(shown.statusCode()).isEqualTo(200);
    assertThat(shown.body())
        .isEqualTo(send("GET", "/api/approvals/" + request.id(), BOB, null).body());

    String query = URLEncoder.encode("status:pending", StandardCharsets.UTF_8);
    assertThat(send("GET", "/api/v1/approvals?status=pending&q=" + query, BOB, null).body())
        .contains(request.id());
    assertThat(send("POST", "/api/v1/approvals/" + request.id() + "/approve", ALICE, "{}").body())
        .as("the requester may not approve, whichever path they use")
        .contains("error");
    HttpResponse<String> approved =
        send("POST", "/api/v1/approvals/" + request.id() + "/approve", BOB, "{}");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);

    HttpResponse<String> missing = send("GET", "/api/v1/nothing-here", BOB, null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("no such endpoint: /api/nothing-here");
    assertThat(send("GET", "/api/v2/health", null, null).statusCode()).isEqualTo(404);
  }
}

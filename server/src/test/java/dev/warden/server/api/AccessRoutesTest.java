package dev.warden.server.api;

import static dev.warden.server.api.ApprovalFixture.ALICE;
import static dev.warden.server.api.ApprovalFixture.BOB;
import static dev.warden.server.api.ApprovalFixture.CAROL;
import static dev.warden.server.api.ApprovalFixture.DEV;
import static dev.warden.server.api.ApprovalFixture.PASSWORD_SUFFIX;
import static dev.warden.server.api.ApprovalFixture.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.audit.AuditEvent;
import dev.warden.server.audit.AuditJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /api/access} over a real embedded store, and access requests in {@code /api/approvals}.
 */
class AccessRoutesTest {
  @TempDir Path dir;
  private ApprovalFixture f;
  private final AuditJson json = new AuditJson();
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    f = new ApprovalFixture(dir);
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private static String basic(String user) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + user + PASSWORD_SUFFIX).getBytes(StandardCharsets.UTF_8));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(f.server() + path)).timeout(Duration.ofSeconds(20));
  }

  private HttpResponse<String> get(String user, String path) throws Exception {
    return http.send(
        request(path).header("Authorization", basic(user)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String user, String path, String body) throws Exception {
    return http.send(
        request(path)
            .header("Authorization", basic(user))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> ask(String user, String env, String role, String length)
      throws Exception {
    return post(
        user,
        "/api/access",
        json.write(Map.of("env", env, "role", role, "for", length, "reason", "INC-42 hotfix")));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> body(HttpResponse<String> response) {
    return (Map<String, Object>) json.read(response.body());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> access(Map<String, Object> r) {
    return (Map<String, Object>) r.get("access");
  }

  @Test
  void aRequestIsMadeListedApprovedThroughApprovalsAndOpensTheWindow() throws Exception {
    HttpResponse<String> made = ask(ALICE, "production", "writer", "1h30m");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(200);
    Map<String, Object> r = body(made);
    String id = (String) r.get("id");
    assertThat(r)
        .containsEntry("kind", "access")
        .containsEntry("status", "pending")
        .containsEntry("window", "pending")
        .containsEntry("reason", "INC-42 hotfix");
    assertThat(access(r)).containsEntry("role", "writer").containsEntry("duration", "1h30m");
    assertThat(f.events("access-request"))
        .singleElement()
        .satisfies(
            e -> assertThat(e.details()).containsEntry("request", id).containsEntry("via", "api"));

    // Reviewers see it among approval requests, with its kind; the requester cannot approve it.
    HttpResponse<String> listed = get(BOB, "/api/approvals?status=pending");
    assertThat(listed.body()).contains(id).contains("\"kind\":\"access\"");
    assertThat(post(ALICE, "/api/approvals/" + id + "/approve", "{}").statusCode()).isEqualTo(403);
    f.clock.advance(Duration.ofMinutes(3));
    HttpResponse<String> approved = post(BOB, "/api/approvals/" + id + "/approve", "{}");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    Map<String, Object> open = body(approved);
    assertThat(open).containsEntry("status", "approved");
    assertThat(access(open))
        .containsEntry("window_start", ApprovalFixture.START.plus(Duration.ofMinutes(3)).toString())
        .containsEntry("window_end", ApprovalFixture.START.plus(Duration.ofMinutes(93)).toString());

    f.clock.advance(Duration.ofMinutes(10));
    List<?> mine = (List<?>) body(get(ALICE, "/api/access")).get("requests");
    assertThat(mine).hasSize(1);
    @SuppressWarnings("unchecked")
    Map<String, Object> listedOpen = (Map<String, Object>) mine.getFirst();
    assertThat(listedOpen)
        .containsEntry("window", "open")
        .containsEntry("remaining_seconds", 80L * 60);
    // Someone else's list does not show it.
    assertThat((List<?>) body(get(DEV, "/api/access")).get("requests")).isEmpty();

    f.clock.advance(Duration.ofMinutes(80));
    @SuppressWarnings("unchecked")
    Map<String, Object> ended =
        (Map<String, Object>)
            ((List<?>) body(get(ALICE, "/api/access")).get("requests")).getFirst();
    assertThat(ended).containsEntry("window", "ended").containsEntry("status", "used");
  }

  @Test
  void theRequesterEndsAnOpenWindowEarly() throws Exception {
    String id = (String) body(ask(ALICE, "production", "writer", "1h")).get("id");
    assertThat(post(BOB, "/api/approvals/" + id + "/approve", "{}").statusCode()).isEqualTo(200);
    assertThat(post(DEV, "/api/access/" + id + "/cancel", "{}").statusCode()).isEqualTo(403);
    f.clock.advance(Duration.ofMinutes(5));

    HttpResponse<String> cancelled = post(ALICE, "/api/access/" + id + "/cancel", "");
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    assertThat(body(cancelled))
        .containsEntry("status", "cancelled")
        .containsEntry("window", "ended");
    assertThat(access(body(cancelled)))
        .containsEntry("window_end", ApprovalFixture.START.plus(Duration.ofMinutes(5)).toString());
    assertThat(f.approvals.openWindow(ALICE, "production", f.clock.instant())).isEmpty();
    assertThat(post(ALICE, "/api/access/" + id + "/cancel", "{}").statusCode()).isEqualTo(409);
    assertThat(f.events("access-cancel")).hasSize(1);
    // A statement's request is not an access request.
    ApprovalRequest statement = f.aliceAsks("ALTER TABLE t ADD c int");
    assertThat(post(ALICE, "/api/access/" + statement.id() + "/cancel", "{}").statusCode())
        .isEqualTo(404);
  }

  @Test
  void refusalsSayWhy() throws Exception {
    HttpResponse<String> unknownEnv = ask(ALICE, "staging", "writer", "1h");
    assertThat(unknownEnv.statusCode()).isEqualTo(404);
    assertThat(unknownEnv.body()).contains("no environment named staging");
    HttpResponse<String> unknownRole = ask(ALICE, "production", "owner", "1h");
    assertThat(unknownRole.statusCode()).isEqualTo(404);
    assertThat(unknownRole.body()).contains("roles that can be asked for: admin, writer");
    HttpResponse<String> notJit = ask(ALICE, "production", "reader", "1h");
    assertThat(notJit.statusCode()).isEqualTo(400);
    assertThat(notJit.body()).contains("no just-in-time access");
    HttpResponse<String> tooLong = ask(ALICE, "production", "writer", "3h");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.body()).contains("at most 2h");
    HttpResponse<String> badLength = ask(ALICE, "production", "writer", "an hour");
    assertThat(badLength.statusCode()).isEqualTo(400);
    assertThat(badLength.body()).contains("not a duration");
    // carol is no developer: writer is requestable by developers only.
    HttpResponse<String> notRequestable = ask(CAROL, "production", "writer", "1h");
    assertThat(notRequestable.statusCode()).isEqualTo(403);
    assertThat(notRequestable.body()).contains("only members of developers");
    // root is not admitted to production by policy, so not even admin (requestable by anyone).
    HttpResponse<String> notAdmitted = ask(ROOT, "production", "admin", "1h");
    assertThat(notAdmitted.statusCode()).isEqualTo(403);
    assertThat(notAdmitted.body()).contains("may not use environment production");
    HttpResponse<String> noReason =
        post(ALICE, "/api/access", "{\"env\":\"production\",\"role\":\"writer\",\"for\":\"1h\"}");
    assertThat(noReason.statusCode()).isEqualTo(400);
    assertThat(noReason.body()).contains("needs a reason");
    HttpResponse<String> unknownField =
        post(
            ALICE,
            "/api/access",
            "{\"env\":\"production\",\"role\":\"writer\",\"for\":\"1h\",\"x\":1}");
    assertThat(unknownField.statusCode()).isEqualTo(400);
    HttpResponse<String> notJson =
        http.send(
            request("/api/access")
                .header("Authorization", basic(ALICE))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("env=production"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(notJson.statusCode()).isEqualTo(415);
    assertThat(f.approvals.list(dev.warden.core.approval.ApprovalStore.Filter.all())).isEmpty();
    assertThat(f.events("access-request"))
        .hasSize(2)
        .allMatch(e -> !e.success())
        .extracting(e -> e.details().get("reason"))
        .containsExactly("not-requestable", "not-admitted");
  }

  @Test
  void anApproverCannotApproveTheirOwnAccessRequest() throws Exception {
    String id = (String) body(ask(DEV, "production", "admin", "30m")).get("id");
    HttpResponse<String> one = post(BOB, "/api/approvals/" + id + "/approve", "{}");
    assertThat(body(one)).containsEntry("status", "pending");
    HttpResponse<String> two = post(CAROL, "/api/approvals/" + id + "/approve", "{}");
    assertThat(body(two)).containsEntry("status", "approved");
    AuditEvent approve = f.events("approval-approve").getLast();
    assertThat(approve.details()).containsEntry("request", id);
  }
}

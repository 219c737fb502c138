package dev.warden.server.api;

import static dev.warden.server.api.ApprovalFixture.ALICE;
import static dev.warden.server.api.ApprovalFixture.BOB;
import static dev.warden.server.api.ApprovalFixture.CAROL;
import static dev.warden.server.api.ApprovalFixture.DEV;
import static dev.warden.server.api.ApprovalFixture.PASSWORD_SUFFIX;
import static dev.warden.server.api.ApprovalFixture.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
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
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApprovalRoutesTest {
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

  private HttpResponse<String> approve(String user, String id, String body) throws Exception {
    return post(user, "/api/approvals/" + id + "/approve", body);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> body(HttpResponse<String> response) {
    return (Map<String, Object>) json.read(response.body());
  }

  private String error(HttpResponse<String> response) {
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/json");
    return body(response).get("error").toString();
  }

  @SuppressWarnings("unchecked")
  private List<Object> ids(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return ((List<Map<String, Object>>) body(response).get("requests"))
        .stream().map(r -> r.get("id")).toList();
  }

  private Status stored(String id) {
    return f.approvals.find(id).orElseThrow().status();
  }

  @Test
  void reviewersListEveryRequestAndOthersOnlyTheirOwnOrThoseTheyMayReview() throws Exception {
    ApprovalRequest mine = f.aliceAsks("ALTER TABLE orders ADD COLUMN a int");
    f.clock.advance(Duration.ofSeconds(1));
    ApprovalRequest devs =
        f.request(
            ApprovalFixture.identity(DEV, "developers"),
            "ALTER TABLE orders ADD COLUMN b int",
            ApprovalFixture.requirement(1, false, "dba"));

    assertThat(ids(get(BOB, "/api/approvals"))).containsExactly(devs.id(), mine.id());
    assertThat(ids(get(ROOT, "/api/approvals?status=pending")))
        .containsExactly(devs.id(), mine.id());
    assertThat(ids(get(ALICE, "/api/approvals"))).containsExactly(mine.id());
    // Not in approvers or admins, but in the dba group this rule names.
    assertThat(ids(get(CAROL, "/api/approvals"))).containsExactly(devs.id(), mine.id());
    assertThat(ids(get(DEV, "/api/approvals"))).containsExactly(devs.id());
    assertThat(ids(get(DEV, "/api/approvals?requester=alice"))).isEmpty();
    assertThat(ids(get(BOB, "/api/approvals?requester=alice"))).containsExactly(mine.id());
    assertThat(ids(get(BOB, "/api/approvals?env=staging"))).isEmpty();
    assertThat(ids(get(BOB, "/api/approvals?limit=1"))).containsExactly(devs.id());
    assertThat(ids(get(BOB, "/api/approvals?status=approved,denied"))).isEmpty();
    assertThat(ids(get(BOB, "/api/approvals?status=all"))).hasSize(2);

    HttpResponse<String> badStatus = get(BOB, "/api/approvals?status=waiting");
    assertThat(badStatus.statusCode()).isEqualTo(400);
    assertThat(error(badStatus)).contains("status must be all or one or more of pending");
    for (String limit : List.of("0", "1001", "ten")) {
      HttpResponse<String> bad = get(BOB, "/api/approvals?limit=" + limit);
      assertThat(bad.statusCode()).as(limit).isEqualTo(400);
      assertThat(error(bad)).startsWith("limit must be a whole number from 1 to 1000");
    }
  }

  @Test
  void everyEndpointNeedsALogin() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    for (String path : List.of("/api/approvals", "/api/approvals/" + r.id())) {
      HttpResponse<String> response =
          http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(path).isEqualTo(401);
    }
    for (String action : List.of("approve", "deny", "cancel")) {
      HttpResponse<String> response =
          http.send(
              request("/api/approvals/" + r.id() + "/" + action)
                  .header("Content-Type", "application/json")
                  .header(
                      "Authorization",
                      "Basic "
                          + Base64.getEncoder()
                              .encodeToString("bob:wrong".getBytes(StandardCharsets.UTF_8)))
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(action).isEqualTo(401);
    }
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
  }

  @Test
  void showGivesAReviewerEverythingAndRefusesOutsiders() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE orders ADD COLUMN note text");

    HttpResponse<String> shown = get(BOB, "/api/approvals/" + r.id());
    assertThat(shown.statusCode()).isEqualTo(200);
    assertThat(body(shown))
        .containsEntry("id", r.id())
        .containsEntry("status", "pending")
        .containsEntry("requester", ALICE)
        .containsEntry("requester_groups", List.of("developers"))
        .containsEntry("environment", "production")
        .containsEntry("database", "shop")
        .containsEntry("statement", "ALTER TABLE orders ADD COLUMN note text")
        .containsEntry("rule", "prod-ddl")
        .containsEntry("why", "schema changes in production need an approver")
        .containsEntry("reason", "ticket OPS-12")
        .containsEntry("rows", 3L)
        .containsEntry("created", "2026-11-01T12:00:00Z")
        .containsEntry("expires", "2026-11-01T13:00:00Z")
        .containsEntry("reviews", List.of())
        .containsKey("requirement")
        .doesNotContainKey("binding");
    assertThat(get(ALICE, "/api/approvals/" + r.id()).statusCode()).isEqualTo(200);

    HttpResponse<String> outsider = get(DEV, "/api/approvals/" + r.id());
    assertThat(outsider.statusCode()).isEqualTo(403);
    assertThat(error(outsider)).startsWith("user dev may not see " + r.id());

    HttpResponse<String> missing = get(BOB, "/api/approvals/apr_nosuchrequest");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(error(missing)).isEqualTo("no approval request has the id apr_nosuchrequest");
  }

  @Test
  void anApproverApprovesTheApprovalIsUsableOnceAndTheChangeIsAudited() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE orders ADD COLUMN note text");

    HttpResponse<String> approved = approve(BOB, r.id(), "{\"comment\": \"looks fine\"}");
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    Map<String, Object> after = body(approved);
    assertThat(after).containsEntry("status", "approved").containsEntry("approvals", 1L);
    @SuppressWarnings("unchecked")
    Map<String, Object> review = ((List<Map<String, Object>>) after.get("reviews")).getFirst();
    assertThat(review)
        .containsEntry("reviewer", BOB)
        .containsEntry("decision", "approve")
        .containsEntry("comment", "looks fine")
        .containsEntry("break_glass", false);

    // The approval is the service's: alice's very same statement may use it, once.
    assertThat(f.approvals.consume(ALICE, "production", r.binding())).isPresent();
    assertThat(f.approvals.consume(ALICE, "production", r.binding())).isEmpty();

    AuditEvent event = f.events("approval-approve").getFirst();
    assertThat(event.actor()).isEqualTo(BOB);
    assertThat(event.success()).isTrue();
    assertThat(event.details())
        .containsEntry("request", r.id())
        .containsEntry("requester", ALICE)
        .containsEntry("env", "production")
        .containsEntry("rule", "prod-ddl")
        .containsEntry("status", "approved")
        .containsEntry("comment", "looks fine")
        .containsEntry("break_glass", "false")
        .containsEntry("via", "api")
        .containsEntry("source", "127.0.0.1");

    // Decided and used: no more reviews.
    HttpResponse<String> again = approve(CAROL, r.id(), "{}");
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(error(again)).isEqualTo(r.id() + " is already approved and used");
  }

  @Test
  void selfApprovalIsForbiddenAndTheAttemptIsRecorded() throws Exception {
    ApprovalRequest r =
        f.request(
            ApprovalFixture.identity(BOB, "approvers"),
            "ALTER TABLE t ADD c int",
            ApprovalFixture.requirement(1, true, "approvers"));

    HttpResponse<String> self = approve(BOB, r.id(), "{\"comment\":\"mine\",\"break_glass\":true}");
    assertThat(self.statusCode()).isEqualTo(403);
    assertThat(error(self)).contains("bob asked for " + r.id() + " and cannot review it");
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
    AuditEvent attempt = f.events("approval-approve").getFirst();
    assertThat(attempt.success()).isFalse();
    assertThat(attempt.actor()).isEqualTo(BOB);
    assertThat(attempt.details())
        .containsEntry("request", r.id())
        .containsEntry("reason", "self-review");
  }

  @Test
  void someoneOutsideTheApproverGroupsIsForbidden() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    for (String user : List.of(DEV, ROOT)) {
      HttpResponse<String> response = approve(user, r.id(), "{}");
      assertThat(response.statusCode()).as(user).isEqualTo(403);
      assertThat(error(response))
          .isEqualTo(user + " may not review " + r.id() + ": it needs a member of approvers");
      HttpResponse<String> deny = post(user, "/api/approvals/" + r.id() + "/deny", "{}");
      assertThat(deny.statusCode()).as(user).isEqualTo(403);
    }
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
    assertThat(f.events("approval-approve")).allSatisfy(e -> assertThat(e.success()).isFalse());
    assertThat(f.events("approval-deny")).hasSize(2);
  }

  @Test
  void aDenialDecidesAndLaterReviewsConflict() throws Exception {
    ApprovalRequest r =
        f.request(
            ApprovalFixture.identity(ALICE, "developers"),
            "DELETE FROM orders",
            ApprovalFixture.requirement(2, false, "approvers"));
    HttpResponse<String> first = approve(BOB, r.id(), "{}");
    assertThat(body(first)).containsEntry("status", "pending").containsEntry("approvals", 1L);
    HttpResponse<String> twice = approve(BOB, r.id(), "{}");
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(error(twice)).isEqualTo("bob has already reviewed " + r.id());

    HttpResponse<String> denied =
        post(CAROL, "/api/approvals/" + r.id() + "/deny", "{\"comment\":\"no WHERE clause\"}");
    assertThat(denied.statusCode()).isEqualTo(200);
    assertThat(body(denied)).containsEntry("status", "denied");
    assertThat(f.events("approval-deny").getFirst().details())
        .containsEntry("status", "denied")
        .containsEntry("comment", "no WHERE clause");

    HttpResponse<String> late = approve(CAROL, r.id(), "{}");
    assertThat(late.statusCode()).isEqualTo(409);
    assertThat(error(late)).isEqualTo(r.id() + " is already denied");
  }

  @Test
  void anExpiredRequestCannotBeApproved() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    f.clock.advance(Duration.ofHours(1));
    HttpResponse<String> response = approve(BOB, r.id(), "{}");
    assertThat(response.statusCode()).isEqualTo(409);
    assertThat(error(response)).startsWith(r.id() + " has expired");
    assertThat(stored(r.id())).isEqualTo(Status.EXPIRED);
    assertThat(ids(get(BOB, "/api/approvals?status=expired"))).containsExactly(r.id());
  }

  @Test
  void breakGlassNeedsAJustificationAndARuleThatAllowsIt() throws Exception {
    ApprovalRequest r =
        f.request(
            ApprovalFixture.identity(ALICE, "developers"),
            "ALTER TABLE t ADD c int",
            ApprovalFixture.requirement(2, true, "approvers"));
    HttpResponse<String> bare = approve(BOB, r.id(), "{\"break_glass\": true}");
    assertThat(bare.statusCode()).isEqualTo(400);
    assertThat(error(bare)).contains("needs a written justification");
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);

    HttpResponse<String> justified =
        approve(BOB, r.id(), "{\"break_glass\": true, \"comment\": \"outage INC-7\"}");
    assertThat(justified.statusCode()).isEqualTo(200);
    assertThat(body(justified)).containsEntry("status", "approved");
    assertThat(f.events("approval-approve").getLast().details())
        .containsEntry("break_glass", "true")
        .containsEntry("comment", "outage INC-7");

    ApprovalRequest strict =
        f.request(
            ApprovalFixture.identity(ALICE, "developers"),
            "ALTER TABLE u ADD c int",
            ApprovalFixture.requirement(2, false, "approvers"));
    HttpResponse<String> refused =
        approve(BOB, strict.id(), "{\"break_glass\": true, \"comment\": \"outage\"}");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(error(refused)).contains("does not allow break-glass");
  }

  @Test
  void onlyTheRequesterCancels() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    HttpResponse<String> other = post(BOB, "/api/approvals/" + r.id() + "/cancel", "");
    assertThat(other.statusCode()).isEqualTo(403);
    assertThat(error(other)).isEqualTo("only alice may cancel " + r.id());

    HttpResponse<String> mine = post(ALICE, "/api/approvals/" + r.id() + "/cancel", "{}");
    assertThat(mine.statusCode()).isEqualTo(200);
    assertThat(body(mine)).containsEntry("status", "cancelled");
    assertThat(f.events("approval-cancel"))
        .anySatisfy(
            e -> {
              assertThat(e.actor()).isEqualTo(ALICE);
              assertThat(e.success()).isTrue();
            });

    assertThat(approve(BOB, r.id(), "{}").statusCode()).isEqualTo(409);
    assertThat(post(ALICE, "/api/approvals/" + r.id() + "/cancel", "{}").statusCode())
        .isEqualTo(409);
    assertThat(post(ALICE, "/api/approvals/apr_nosuchrequest/cancel", "{}").statusCode())
        .isEqualTo(404);
    assertThat(approve(BOB, "apr_nosuchrequest", "{}").statusCode()).isEqualTo(404);
  }

  @Test
  void badBodiesAreBadRequests() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    for (String body :
        List.of(
            "{\"coment\": \"typo\"}",
            "{\"break_glass\": \"yes\"}",
            "{\"comment\": 5}",
            "[1]",
            "{not json",
            "{\"comment\": \"" + "x".repeat(2001) + "\"}")) {
      HttpResponse<String> response = approve(BOB, r.id(), body);
      assertThat(response.statusCode()).as(body).isEqualTo(400);
      assertThat(error(response)).as(body).isNotBlank();
    }
    assertThat(
            post(ALICE, "/api/approvals/" + r.id() + "/cancel", "{\"comment\":\"x\"}").statusCode())
        .isEqualTo(400);
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
  }

  @Test
  void crossSiteBrowserRequestsAreRefusedBeforeAnythingChanges() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    String path = "/api/approvals/" + r.id() + "/approve";
    // A form another site submits: no JSON content type.
    for (Optional<String> type :
        List.of(
            Optional.<String>empty(),
            Optional.of("text/plain"),
            Optional.of("application/x-www-form-urlencoded"),
            Optional.of("application/jsonx"))) {
      HttpRequest.Builder b =
          request(path)
              .header("Authorization", basic(BOB))
              .POST(HttpRequest.BodyPublishers.ofString("{}"));
      type.ifPresent(t -> b.header("Content-Type", t));
      HttpResponse<String> response = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(type.toString()).isEqualTo(415);
      assertThat(error(response)).contains("Content-Type: application/json");
    }
    // A script on another origin.
    for (String origin : List.of("https://evil.example", "null", "http://127.0.0.1:1")) {
      HttpResponse<String> response =
          http.send(
              request(path)
                  .header("Authorization", basic(BOB))
                  .header("Content-Type", "application/json")
                  .header("Origin", origin)
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(origin).isEqualTo(403);
    }
    HttpResponse<String> fetchMetadata =
        http.send(
            request(path)
                .header("Authorization", basic(BOB))
                .header("Content-Type", "application/json")
                .header("Sec-Fetch-Site", "cross-site")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(fetchMetadata.statusCode()).isEqualTo(403);
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
    assertThat(f.events("approval-approve")).isEmpty();

    // The API's own page (same origin) may.
    HttpResponse<String> same =
        http.send(
            request(path)
                .header("Authorization", basic(BOB))
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Origin", f.server())
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
    assertThat(stored(r.id())).isEqualTo(Status.APPROVED);
  }

  @Test
  void aChangeTheTrailCannotRecordIsRefused() throws Exception {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    f.trail.fail("audit disk has less than 64 MiB free");
    HttpResponse<String> response = approve(BOB, r.id(), "{}");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(error(response))
        .isEqualTo(
            "the audit trail cannot record this approve, so it is refused: audit disk has less"
                + " than 64 MiB free");
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
  }

  @Test
  void withoutApprovalsTheEndpointsDoNotExist() throws Exception {
    ApiServer plain =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(
                f.users,
                new MemorySearch(f.clock, () -> 0),
                f.trail,
                f.trail,
                new AuthThrottle(f.clock),
                f.clock));
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:" + plain.address().getPort() + "/api/approvals"))
                  .header("Authorization", basic(BOB))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(404);
    } finally {
      plain.close();
    }
  }
}

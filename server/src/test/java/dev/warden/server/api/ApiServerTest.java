package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.server.StartupException;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ApiServerTest {
  private static final Instant NOW = Instant.parse("2026-11-01T12:00:00Z");
  private static final String AUDITOR_PASSWORD = "correct horse battery";
  private static final String WRONG_PASSWORD = "canary-wrong-pw-5c1e";

  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private final ChainingTrail trail = new ChainingTrail();
  private final MemoryUsers users =
      new MemoryUsers()
          .add("audrey", AUDITOR_PASSWORD, "auditors")
          .add("root", "admin password", "admins", "dba")
          .add("dev", "developer password", "developers");
  private final MemorySearch search = new MemorySearch(clock, () -> trail.appended().size());
  private final AuditJson json = new AuditJson();
  private final HttpClient http = HttpClient.newHttpClient();
  private ApiServer api;

  @BeforeEach
  void start() throws Exception {
    search.add(hit(1, "2026-11-01T10:00:00Z", "alice", "write", "DELETE FROM orders WHERE id = 1"));
    search.add(hit(2, "2026-11-01T11:00:00Z", "bob", "read", "SELECT * FROM users"));
    search.add(hit(3, "2026-11-01T11:30:00Z", "alice", "read", "SELECT 1"));
    api =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(users, search, trail, trail, new AuthThrottle(clock), clock));
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private static AuditHit hit(long seq, String time, String user, String kind, String text) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", time.replace("Z", ".000000Z"));
    f.put("instance", "test");
    f.put("type", "intent");
    f.put("user", user);
    f.put("env", "production");
    f.put("kinds", List.of(kind));
    f.put("text", text);
    f.put("verdict", "allowed");
    return new AuditHit("w-test00000001", seq, Instant.parse(time), OptionalLong.of(seq + 100), f);
  }

  private URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + api.address().getPort() + pathAndQuery);
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(String pathAndQuery, Optional<String> authorization)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(20)).GET();
    authorization.ifPresent(a -> request.header("Authorization", a));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> asAuditor(String pathAndQuery) throws Exception {
    return get(pathAndQuery, Optional.of(basic("audrey", AUDITOR_PASSWORD)));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> body(HttpResponse<String> response) {
    return (Map<String, Object>) json.read(response.body());
  }

  private static String q(String query) {
    return URLEncoder.encode(query, StandardCharsets.UTF_8);
  }

  private List<AuditEvent> events(String name) {
    List<AuditEvent> out = new ArrayList<>();
    for (AuditRecord r : trail.appended()) {
      if (r instanceof AuditEvent e && e.name().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void healthNeedsNoLoginAndSaysWhyTheTrailIsDown() throws Exception {
    HttpResponse<String> ok = get("/api/health", Optional.empty());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(body(ok)).containsEntry("status", "ok");
    assertThat(ok.headers().firstValue("Cache-Control")).contains("no-store");
    assertThat(ok.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/json");

    trail.fail("audit disk has less than 64 MiB free");
    HttpResponse<String> down = get("/api/health", Optional.empty());
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(body(down))
        .containsEntry("status", "unavailable")
        .containsEntry("reason", "audit trail unavailable: audit disk has less than 64 MiB free");
  }

  @Test
  void anAuditorSearchesNewestFirstAndTheSearchIsRecordedBeforeItRuns() throws Exception {
    HttpResponse<String> response = asAuditor("/api/audit?q=" + q("user:alice") + "&limit=1");
    assertThat(response.statusCode()).isEqualTo(200);
    Map<String, Object> body = body(response);
    assertThat(body).containsEntry("more", true);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> hits = (List<Map<String, Object>>) body.get("hits");
    assertThat(hits).hasSize(1);
    assertThat(hits.getFirst())
        .containsEntry("log_id", "w-test00000001")
        .containsEntry("seq", 3L)
        .containsEntry("outcome_seq", 103L)
        .containsEntry("text", "SELECT 1")
        .containsEntry("user", "alice");

    List<AuditEvent> searches = events("audit-search");
    assertThat(searches).hasSize(1);
    AuditEvent event = searches.getFirst();
    assertThat(event.actor()).isEqualTo("audrey");
    assertThat(event.success()).isTrue();
    assertThat(event.time()).isEqualTo(NOW);
    assertThat(event.details())
        .containsEntry("query", "user:alice")
        .containsEntry("limit", "1")
        .containsEntry("via", "api")
        .containsEntry("source", "127.0.0.1");
    // The search ran after its record was in the trail.
    assertThat(search.recordsWhenAsked).containsExactly(1);

    HttpResponse<String> all = get("/api/audit", Optional.of(basic("root", "admin password")));
    assertThat(all.statusCode()).isEqualTo(200);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> allHits = (List<Map<String, Object>>) body(all).get("hits");
    assertThat(allHits).extracting(h -> h.get("seq")).containsExactly(3L, 2L, 1L);
    assertThat(body(all)).containsEntry("more", false);
    assertThat(search.queries).containsExactly("user:alice", "");
  }

  @Test
  void noCredentialsIsAChallengeNotAFailedLogin() throws Exception {
    HttpResponse<String> response = get("/api/audit?q=x", Optional.empty());
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.headers().firstValue("WWW-Authenticate"))
        .contains("Basic realm=\"warden\", charset=\"UTF-8\"");
    assertThat(body(response).get("error").toString()).contains("authentication required");
    assertThat(get("/api/audit", Optional.of("Bearer abc")).statusCode()).isEqualTo(401);
    assertThat(trail.appended()).isEmpty();
    assertThat(search.queries).isEmpty();
  }

  @Test
  void aWrongPasswordAndAnUnknownUserGetTheSameAnswerAndAreRecorded() throws Exception {
    HttpResponse<String> wrong = get("/api/audit", Optional.of(basic("audrey", WRONG_PASSWORD)));
    HttpResponse<String> unknown = get("/api/audit", Optional.of(basic("mallory", WRONG_PASSWORD)));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(unknown.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).isEqualTo(unknown.body());
    assertThat(search.queries).isEmpty();

    List<AuditEvent> failures = events("authenticate");
    assertThat(failures).hasSize(2);
    assertThat(failures).allSatisfy(e -> assertThat(e.success()).isFalse());
    assertThat(failures).allSatisfy(e -> assertThat(e.actor()).isEmpty());
    assertThat(failures.get(0).details())
        .containsEntry("user", "audrey")
        .containsEntry("reason", "wrong password")
        .containsEntry("source", "127.0.0.1")
        .containsEntry("method", "http-basic");
    assertThat(failures.get(1).details())
        .containsEntry("user", "mallory")
        .containsEntry("reason", "unknown user");
    // The password reaches no record.
    for (ChainedRecord r : trail.chained()) {
      assertThat(new String(r.payload(), StandardCharsets.UTF_8)).doesNotContain(WRONG_PASSWORD);
    }
  }

  @Test
  void aUserOutsideTheAuditGroupsIsForbiddenAndTheAttemptIsRecorded() throws Exception {
    HttpResponse<String> response =
        get("/api/audit?q=" + q("table:salaries"), Optional.of(basic("dev", "developer password")));
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(body(response).get("error").toString())
        .isEqualTo(
            "user dev may not read the audit trail: that needs the group auditors or admins");
    assertThat(search.queries).isEmpty();
    AuditEvent event = events("audit-search").getFirst();
    assertThat(event.success()).isFalse();
    assertThat(event.actor()).isEqualTo("dev");
    assertThat(event.details()).containsEntry("query", "table:salaries");

    HttpResponse<String> tail =
        get("/api/audit/tail", Optional.of(basic("dev", "developer password")));
    assertThat(tail.statusCode()).isEqualTo(403);
  }

  @Test
  void aBadQueryOrLimitIsABadRequestWithTheParsersMessage() throws Exception {
    HttpResponse<String> response = asAuditor("/api/audit?q=" + q("user:alice since:yesterday"));
    assertThat(response.statusCode()).isEqualTo(400);
    Map<String, Object> body = body(response);
    assertThat(body.get("error").toString()).startsWith("audit query, at character ");
    assertThat(body.get("position")).isInstanceOf(Number.class);
    assertThat(search.queries).isEmpty();

    for (String limit : List.of("0", "-3", "ten", "10001", "99999999999")) {
      HttpResponse<String> bad = asAuditor("/api/audit?limit=" + limit);
      assertThat(bad.statusCode()).as(limit).isEqualTo(400);
      assertThat(body(bad).get("error").toString())
          .startsWith("limit must be a whole number from 1 to 10000");
    }
    assertThat(search.queries).isEmpty();
  }

  @Test
  void aSearchTheTrailCannotRecordIsRefused() throws Exception {
    trail.fail("audit disk has less than 64 MiB free");
    HttpResponse<String> response = asAuditor("/api/audit?q=user:alice");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(body(response).get("error").toString())
        .isEqualTo(
            "the audit trail cannot record this search, so it is refused: audit disk has less"
                + " than 64 MiB free");
    assertThat(search.queries).isEmpty();
  }

  @Test
  void unknownPathsAnswerJson() throws Exception {
    HttpResponse<String> response = asAuditor("/api/nothing");
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(body(response).get("error").toString()).contains("no such endpoint");
  }

  @Test
  @Timeout(60)
  void theTailStreamsMatchingRecordsAsTheyAreWritten() throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(uri("/api/audit/tail?q=" + q("event:policy-reload")))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", basic("audrey", AUDITOR_PASSWORD))
            .build();
    HttpResponse<InputStream> response =
        http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/event-stream");
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                      lines.add(line);
                    }
                  } catch (java.io.IOException e) {
                    // closed
                  }
                });
    try {
      assertThat(lines.poll(5, TimeUnit.SECONDS)).isEqualTo(": following the audit trail");
      AuditEvent tailEvent = events("audit-tail").getFirst();
      assertThat(tailEvent.actor()).isEqualTo("audrey");
      assertThat(tailEvent.details()).containsEntry("query", "event:policy-reload");

      trail.append(
          new AuditEvent(NOW, "user-add", true, "root", Optional.empty(), Map.of("user", "x")),
          dev.warden.core.audit.Durability.BOUNDED);
      trail.append(
          new AuditEvent(
              NOW, "policy-reload", true, "", Optional.empty(), Map.of("file", "policy.yaml")),
          dev.warden.core.audit.Durability.BOUNDED);
      long seq = trail.chained().getLast().seq();

      List<String> event = new ArrayList<>();
      String line = lines.poll(5, TimeUnit.SECONDS);
      while (line != null && line.isEmpty()) { // the blank line that ends the comment
        line = lines.poll(5, TimeUnit.SECONDS);
      }
      while (line != null && !line.isEmpty()) {
        event.add(line);
        line = lines.poll(5, TimeUnit.SECONDS);
      }
      assertThat(event).hasSize(3);
      assertThat(event.get(0)).isEqualTo("event: record");
      assertThat(event.get(1)).isEqualTo("id: " + ChainingTrail.LOG_ID + ":" + seq);
      assertThat(event.get(2)).startsWith("data: ");
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) json.read(event.get(2).substring(6));
      assertThat(data)
          .containsEntry("log_id", ChainingTrail.LOG_ID)
          .containsEntry("seq", seq)
          .containsEntry("event", "policy-reload")
          .containsKey("hash");
      // The user-add event did not match and was not sent.
      assertThat(lines.poll(200, TimeUnit.MILLISECONDS)).isNull();
    } finally {
      api.close();
      reader.join(Duration.ofSeconds(5));
    }
  }

  @Test
  void theTailNeedsALogin() throws Exception {
    HttpResponse<String> response = get("/api/audit/tail", Optional.empty());
    assertThat(response.statusCode()).isEqualTo(401);
  }

  @Test
  void aTakenPortIsAClearStartupError() {
    int port = api.address().getPort();
    StartupException e =
        catchThrowableOfType(
            StartupException.class,
            () ->
                ApiServer.start(
                    new HostPort("127.0.0.1", port),
                    new ApiDependencies(
                        users, search, trail, trail, new AuthThrottle(clock), clock)));
    assertThat(e)
        .hasMessage(
            "cannot listen on 127.0.0.1:"
                + port
                + " for the REST API: the address is in use (is another Warden running?); set"
                + " another address with console: in the configuration file");
  }
}

package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.audit.AuditEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's sign-in session: cookie flags, the CSRF token every change needs, sign-out, expiry,
 * the pages' security headers, and that a signed-in reviewer acts through the same API rules.
 */
class ConsoleSessionTest {
  private static final Pattern CSRF = Pattern.compile("\"csrf\"\\s*:\\s*\"([A-Za-z0-9_-]{43})\"");

  @TempDir Path dir;
  private ApprovalFixture fixture;
  private final HttpClient http =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeEach
  void start() throws Exception {
    fixture = new ApprovalFixture(dir);
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  private HttpResponse<String> send(
      String method, String path, String body, String cookie, String csrf) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(fixture.server() + path)).timeout(Duration.ofSeconds(20));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    if (csrf != null) {
      b.header(ConsoleSessions.CSRF_HEADER, csrf);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** Signs in; returns {cookie header value, csrf token}. */
  private String[] signIn(String user) throws Exception {
    HttpResponse<String> r =
        send(
            "POST",
            "/api/session",
            "{\"user\":\"" + user + "\",\"password\":\"" + user + " password\"}",
            null,
            "");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    Matcher m = CSRF.matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    return new String[] {setCookie.substring(0, setCookie.indexOf(';')), m.group(1)};
  }

  @Test
  void signingInSetsAnHttpOnlyLaxCookieAndTheSessionReadsTheApi() throws Exception {
    HttpResponse<String> r =
        send("POST", "/api/session", "{\"user\":\"bob\",\"password\":\"bob password\"}", null, "");
    assertThat(r.statusCode()).isEqualTo(200);
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(setCookie)
        .startsWith(ConsoleSessions.COOKIE + "=")
        .containsIgnoringCase("HttpOnly")
        .containsIgnoringCase("SameSite=Lax")
        .contains("Path=/")
        .doesNotContainIgnoringCase("Secure"); // plain HTTP here; set over HTTPS
    assertThat(r.body()).contains("\"user\":\"bob\"").contains("approvers");

    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    ApprovalRequest request = fixture.aliceAsks("CREATE INDEX i ON t (c)");
    HttpResponse<String> list = send("GET", "/api/approvals", null, cookie, null);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body()).contains(request.id());
    assertThat(send("GET", "/api/session", null, cookie, null).body()).contains("\"user\":\"bob\"");

    AuditEvent signedIn = fixture.events("authenticate").getLast();
    assertThat(signedIn.success()).isTrue();
    assertThat(signedIn.details()).containsEntry("via", "console").containsEntry("user", "bob");
  }

  @Test
  void aWrongPasswordIsRefusedAndRecordedWithoutTheBrowserDialog() throws Exception {
    HttpResponse<String> r =
        send("POST", "/api/session", "{\"user\":\"bob\",\"password\":\"guess\"}", null, "");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
    assertThat(r.body()).contains("wrong user name or password").doesNotContain("guess");
    AuditEvent failed = fixture.events("authenticate").getLast();
    assertThat(failed.success()).isFalse();
    assertThat(failed.details()).containsEntry("reason", "wrong password");
    assertThat(failed.details().toString()).doesNotContain("guess");

    // The console's own calls (with the CSRF header) get no WWW-Authenticate, so the browser
    // shows no password dialog; other clients still get the Basic challenge.
    HttpResponse<String> console = send("GET", "/api/approvals", null, null, "");
    assertThat(console.statusCode()).isEqualTo(401);
    assertThat(console.headers().firstValue("WWW-Authenticate")).isEmpty();
    HttpResponse<String> other = send("GET", "/api/approvals", null, null, null);
    assertThat(other.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
  }

  @Test
  void aChangeNeedsTheSessionsCsrfToken() throws Exception {
    String[] bob = signIn("bob");
    String[] carol = signIn("carol");
    ApprovalRequest request = fixture.aliceAsks("ALTER TABLE t ADD COLUMN c int");
    String path = "/api/approvals/" + request.id() + "/approve";

    HttpResponse<String> none = send("POST", path, "{\"comment\":\"ok\"}", bob[0], null);
    assertThat(none.statusCode()).isEqualTo(403);
    assertThat(none.body()).contains("CSRF");
    HttpResponse<String> foreign = send("POST", path, "{\"comment\":\"ok\"}", bob[0], carol[1]);
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(fixture.approvals.find(request.id()).orElseThrow().status())
        .isEqualTo(ApprovalRequest.Status.PENDING);

    HttpResponse<String> ok = send("POST", path, "{\"comment\":\"ok\"}", bob[0], bob[1]);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    ApprovalRequest after = fixture.approvals.find(request.id()).orElseThrow();
    assertThat(after.status()).isEqualTo(ApprovalRequest.Status.APPROVED);
    assertThat(after.reviews().getFirst().reviewer()).isEqualTo("bob");
  }

  @Test
  void theRequesterSignedInStillCannotApproveTheirOwnRequest() throws Exception {
    String[] alice = signIn("alice");
    ApprovalRequest request = fixture.aliceAsks("CREATE TABLE x (a int)");
    HttpResponse<String> r =
        send(
            "POST",
            "/api/approvals/" + request.id() + "/approve",
            "{\"comment\":\"mine\"}",
            alice[0],
            alice[1]);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(fixture.approvals.find(request.id()).orElseThrow().status())
        .isEqualTo(ApprovalRequest.Status.PENDING);
  }

  @Test
  void signingOutEndsTheSessionAndIdleSessionsExpire() throws Exception {
    String[] bob = signIn("bob");
    assertThat(send("DELETE", "/api/session", null, bob[0], "wrong").statusCode()).isEqualTo(403);
    assertThat(send("DELETE", "/api/session", null, bob[0], bob[1]).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/api/session", null, bob[0], null).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/api/approvals", null, bob[0], null).statusCode()).isEqualTo(401);

    String[] carol = signIn("carol");
    fixture.clock.advance(ConsoleSessions.IDLE.minusMinutes(1));
    assertThat(send("GET", "/api/session", null, carol[0], null).statusCode()).isEqualTo(200);
    fixture.clock.advance(ConsoleSessions.IDLE.plusSeconds(1));
    assertThat(send("GET", "/api/session", null, carol[0], null).statusCode()).isEqualTo(401);
  }

  @Test
  void aRemovedUsersSessionEnds() throws Exception {
    String[] dev = signIn("dev");
    assertThat(send("GET", "/api/session", null, dev[0], null).statusCode()).isEqualTo(200);
    fixture.users.remove("dev");
    assertThat(send("GET", "/api/session", null, dev[0], null).statusCode()).isEqualTo(401);
  }

  @Test
  void pagesAreServedWithAStrictContentSecurityPolicyAndNoExternalResources() throws Exception {
    for (String path : new String[] {"/login", "/approvals", "/approvals/apr_abc"}) {
      HttpResponse<String> r = send("GET", path, null, null, null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
      assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
          .isEqualTo(ConsoleRoutes.PAGE_POLICY)
          .contains("script-src 'self'")
          .doesNotContain("unsafe");
      assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
      assertThat(r.body()).doesNotContain("http://").doesNotContain("https://");
    }
    HttpResponse<String> script = send("GET", "/assets/console.js", null, null, null);
    assertThat(script.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/javascript");
    // Text from the API is never written as markup.
    assertThat(script.body()).doesNotContain("innerHTML").doesNotContain("insertAdjacentHTML");
    assertThat(send("GET", "/", null, null, null).statusCode()).isEqualTo(302);
  }
}

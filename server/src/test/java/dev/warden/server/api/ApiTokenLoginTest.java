package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramAccounts;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.server.config.HostPort;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import dev.warden.server.identity.oidc.OidcVerifier;
import dev.warden.store.embedded.EmbeddedStore;
import dev.warden.testkit.oidc.MockIdentityProvider;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reviewers and scripts reach the REST API as any Warden identity, not only a local user: a service
 * token as the password of its name (revoked or expired ones refused, and one acting for the
 * requester never approving), or a token from the identity provider as the password of the name it
 * proves. The console's sign-in stays with local users.
 */
class ApiTokenLoginTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;
  private final ApprovalFixture.ManualClock clock = new ApprovalFixture.ManualClock(Instant.now());
  private final ChainingTrail trail = new ChainingTrail();
  private final MemoryUsers users = new MemoryUsers().add("alice", "alice password", "developers");
  private MockIdentityProvider idp;
  private OidcVerifier verifier;
  private EmbeddedStore store;
  private Approvals approvals;
  private ApiServer api;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    idp = MockIdentityProvider.start(clock);
    verifier =
        new OidcVerifier(
            List.of(
                OidcProviderSettings.builder("test", idp.issuer(), List.of("warden"))
                    .clientId("warden-cli")
                    .build()),
            clock);
    store = EmbeddedStore.open(dir, "test", clock);
    approvals = new Approvals(store.approvals(), clock, RANDOM);
    ScramAccounts accounts =
        ScramAccounts.firstOf(
            List.of(ScramAccounts.of(users), ServiceTokens.accounts(store.serviceTokens(), clock)));
    api =
        ApiServer.start(
            new HostPort("127.0.0.1", 0),
            new ApiDependencies(
                    users,
                    new MemorySearch(clock, () -> trail.appended().size()),
                    trail,
                    trail,
                    new AuthThrottle(clock),
                    clock)
                .withLogins(accounts, verifier)
                .withApprovals(approvals));
  }

  @AfterEach
  void stop() throws Exception {
    api.close();
    approvals.close();
    store.close();
    verifier.close();
    idp.close();
  }

  private String token(String name, Set<String> groups, Optional<String> onBehalfOf) {
    Secret secret = ServiceTokens.generate(RANDOM);
    store
        .serviceTokens()
        .create(
            ServiceToken.issue(
                name,
                groups,
                onBehalfOf,
                clock.instant(),
                Optional.of(clock.instant().plus(Duration.ofDays(1))),
                "test",
                ScramCredentials.derive(secret, RANDOM, 4096),
                ""),
            ServiceTokenStore.NameCheck.NONE);
    return new String(secret.bytes(), StandardCharsets.UTF_8);
  }

  private ApprovalRequest aliceAsks() {
    return approvals.request(
        new Approvals.Draft(
            ApprovalFixture.identity("alice", "developers"),
            "production",
            "shop",
            "CREATE INDEX i ON t (c)",
            "fp",
            Approvals.binding(ApprovalFixture.BINDING_KEY, "CREATE INDEX i ON t (c)", List.of()),
            "prod-ddl",
            "schema changes need an approver",
            Optional.empty(),
            OptionalLong.empty(),
            ApprovalRequirement.DEFAULT));
  }

  private HttpResponse<String> approve(String user, String password, String id) throws Exception {
    String basic =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + api.address().getPort()
                        + "/api/approvals/"
                        + id
                        + "/approve"))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"ok\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private AuditEvent lastAuthenticationFailure() {
    AuditEvent last = null;
    for (AuditRecord r : trail.appended()) {
      if (r instanceof AuditEvent e && e.name().equals("authenticate") && !e.success()) {
        last = e;
      }
    }
    return last;
  }

  @Test
  void aServiceTokenOfAnApproverApprovesWithItsSecretAsThePassword() throws Exception {
    String secret = token("release-bot", Set.of("approvers"), Optional.empty());
    ApprovalRequest request = aliceAsks();
    assertThat(approve("release-bot", "wdt_wrong" + secret.substring(9), request.id()).statusCode())
        .isEqualTo(401);
    HttpResponse<String> ok = approve("release-bot", secret, request.id());
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    ApprovalRequest after = approvals.find(request.id()).orElseThrow();
    assertThat(after.status()).isEqualTo(ApprovalRequest.Status.APPROVED);
    assertThat(after.reviews().getFirst().reviewer()).isEqualTo("release-bot");
  }

  @Test
  void aTokenActingForTheRequesterNeverApprovesTheirRequest() throws Exception {
    String secret = token("alice-agent", Set.of("approvers"), Optional.of("alice"));
    ApprovalRequest request = aliceAsks();
    HttpResponse<String> refused = approve("alice-agent", secret, request.id());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("alice");
    assertThat(approvals.find(request.id()).orElseThrow().status())
        .isEqualTo(ApprovalRequest.Status.PENDING);
  }

  @Test
  void aRevokedOrExpiredTokenIsRefusedEvenWithItsSecret() throws Exception {
    String revoked = token("old-bot", Set.of("approvers"), Optional.empty());
    store.serviceTokens().revoke("old-bot", clock.instant());
    ApprovalRequest request = aliceAsks();
    assertThat(approve("old-bot", revoked, request.id()).statusCode()).isEqualTo(401);
    assertThat(lastAuthenticationFailure().details()).containsEntry("reason", "revoked");

    String expiring = token("short-bot", Set.of("approvers"), Optional.empty());
    clock.advance(Duration.ofDays(2));
    assertThat(approve("short-bot", expiring, request.id()).statusCode()).isEqualTo(401);
    assertThat(lastAuthenticationFailure().details()).containsEntry("reason", "expired");
    assertThat(lastAuthenticationFailure().details().toString()).doesNotContain(expiring);
  }

  @Test
  void aTokenFromTheIdentityProviderApprovesAsThePersonItProves() throws Exception {
    ApprovalRequest request = aliceAsks();
    String bobs =
        idp.token()
            .email("bob@corp.example")
            .emailVerified(true)
            .groups("approvers")
            .expiresAt(clock.instant().plusSeconds(600))
            .sign();
    // The token proves bob, not carol: refused for another name.
    assertThat(approve("carol@corp.example", bobs, request.id()).statusCode()).isEqualTo(401);
    assertThat(lastAuthenticationFailure().details()).containsEntry("reason", "user-mismatch");
    assertThat(lastAuthenticationFailure().details().toString()).doesNotContain(bobs);

    HttpResponse<String> ok = approve("bob@corp.example", bobs, request.id());
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(approvals.find(request.id()).orElseThrow().reviews().getFirst().reviewer())
        .isEqualTo("bob@corp.example");
  }

  @Test
  void anExpiredProviderTokenIsRefused() throws Exception {
    ApprovalRequest request = aliceAsks();
    String late =
        idp.token()
            .email("bob@corp.example")
            .emailVerified(true)
            .groups("approvers")
            .expiresAt(clock.instant().plusSeconds(60))
            .sign();
    clock.advance(Duration.ofMinutes(10));
    assertThat(approve("bob@corp.example", late, request.id()).statusCode()).isEqualTo(401);
    assertThat(lastAuthenticationFailure().details()).containsEntry("reason", "expired");
  }

  @Test
  void theConsoleSignsInPeopleWithTheirPasswordNotTokens() throws Exception {
    String secret = token("release-bot", Set.of("approvers"), Optional.empty());
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + api.address().getPort() + "/api/session"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"user\":\"release-bot\",\"password\":\"" + secret + "\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
    assertThat(r.body()).contains("REST API").doesNotContain(secret);
  }
}

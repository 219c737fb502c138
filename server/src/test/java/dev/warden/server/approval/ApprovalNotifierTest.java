package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Review;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.ApprovalNotifications;
import dev.warden.store.embedded.EmbeddedStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ApprovalNotifierTest {
  private static final Instant NOW = Instant.parse("2026-11-01T12:00:00Z");
  private static final String HOOK_SECRET = "canary-hook-secret-8d2f";
  private static final List<Duration> FAST = List.of(Duration.ofMillis(10), Duration.ofMillis(10));

  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private final AuditJson json = new AuditJson();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  static ApprovalRequest request(Status status, List<Review> reviews, String statement) {
    return new ApprovalRequest(
        "apr_k3x9q2m7v4ab",
        "alice",
        Set.of("developers"),
        "production",
        "shop",
        statement,
        "fp-1",
        "binding-hash",
        "prod-ddl",
        "schema changes in production need an approver",
        Optional.of("ticket OPS-12"),
        OptionalLong.of(42),
        ApprovalRequirement.DEFAULT,
        NOW,
        NOW.plus(Duration.ofHours(1)),
        status,
        reviews,
        Optional.empty());
  }

  static ApprovalRequest pending() {
    return request(Status.PENDING, List.of(), "ALTER TABLE orders ADD COLUMN note text");
  }

  private Receiver receiver(int failures) throws Exception {
    Receiver r = new Receiver(failures);
    open.add(r);
    return r;
  }

  private ApprovalNotifier notifier(ApprovalNotifications config, int capacity) {
    ApprovalNotifier n =
        new ApprovalNotifier(
            config, clock, HttpClient.newHttpClient(), Duration.ofSeconds(20), FAST, capacity);
    open.add(n);
    return n;
  }

  private static String hmac(String secret, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> object(byte[] body) {
    return (Map<String, Object>) json.read(new String(body, StandardCharsets.UTF_8));
  }

  @Test
  void aNewRequestIsPostedSignedWithEverythingAReviewerNeeds() throws Exception {
    Receiver hook = receiver(0);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(
                    new ApprovalNotifications.Webhook(
                        hook.url("/hook?token=t0k"), Optional.of(Secret.of(HOOK_SECRET)))),
                List.of(),
                Optional.of(URI.create("https://warden.corp.example/"))),
            100);

    notifier.changed(pending());

    Receiver.Received got = hook.next();
    assertThat(got).isNotNull();
    assertThat(got.path()).isEqualTo("/hook?token=t0k");
    assertThat(got.header("Content-Type")).isEqualTo("application/json");
    assertThat(got.header("X-Warden-Event")).isEqualTo("approval-requested");
    assertThat(got.header("X-Warden-Delivery")).isEqualTo("apr_k3x9q2m7v4ab:approval-requested:0");
    // The receiver can check the body came from Warden: HMAC-SHA-256 of the exact bytes.
    assertThat(got.header("X-Warden-Signature")).isEqualTo(hmac(HOOK_SECRET, got.body()));
    byte[] tampered = got.body().clone();
    tampered[tampered.length / 2] ^= 1;
    assertThat(hmac(HOOK_SECRET, tampered)).isNotEqualTo(got.header("X-Warden-Signature"));
    assertThat(hmac("another secret", got.body())).isNotEqualTo(got.header("X-Warden-Signature"));

    Map<String, Object> payload = object(got.body());
    assertThat(payload)
        .containsEntry("event", "approval-requested")
        .containsEntry("time", "2026-11-01T12:00:00Z")
        .containsEntry("link", "https://warden.corp.example/approvals/apr_k3x9q2m7v4ab");
    @SuppressWarnings("unchecked")
    Map<String, Object> request = (Map<String, Object>) payload.get("request");
    assertThat(request)
        .containsEntry("id", "apr_k3x9q2m7v4ab")
        .containsEntry("status", "pending")
        .containsEntry("requester", "alice")
        .containsEntry("environment", "production")
        .containsEntry("database", "shop")
        .containsEntry("statement", "ALTER TABLE orders ADD COLUMN note text")
        .containsEntry("rule", "prod-ddl")
        .containsEntry("why", "schema changes in production need an approver")
        .containsEntry("reason", "ticket OPS-12")
        .containsEntry("rows", 42L)
        .containsEntry("expires", "2026-11-01T13:00:00Z")
        .doesNotContainKey("binding");
    @SuppressWarnings("unchecked")
    Map<String, Object> requirement = (Map<String, Object>) request.get("requirement");
    assertThat(requirement)
        .containsEntry("summary", "1 approval from approvers; break-glass allowed")
        .containsEntry("approver_groups", List.of("approvers"));
    // The secret itself is never sent.
    assertThat(new String(got.body(), StandardCharsets.UTF_8)).doesNotContain(HOOK_SECRET);
  }

  @Test
  void aWebhookWithoutASecretIsPostedUnsigned() throws Exception {
    Receiver hook = receiver(0);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(new ApprovalNotifications.Webhook(hook.url("/h"), Optional.empty())),
                List.of(),
                Optional.empty()),
            100);
    notifier.changed(pending());
    Receiver.Received got = hook.next();
    assertThat(got.header("X-Warden-Signature")).isNull();
    assertThat(object(got.body())).doesNotContainKey("link");
  }

  @Test
  void aFailingReceiverGetsTheSameSignedDeliveryAgainUntilItAccepts() throws Exception {
    Receiver hook = receiver(2);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(
                    new ApprovalNotifications.Webhook(
                        hook.url("/h"), Optional.of(Secret.of(HOOK_SECRET)))),
                List.of(),
                Optional.empty()),
            100);
    ApprovalRequest approved =
        request(
            Status.APPROVED,
            List.of(new Review("bob", Set.of("approvers"), true, NOW, "looks fine", false)),
            "ALTER TABLE orders ADD COLUMN note text");

    notifier.changed(approved);

    Receiver.Received got = hook.next();
    assertThat(got).isNotNull();
    assertThat(hook.refused).hasSize(2);
    for (Receiver.Received failed : hook.refused) {
      assertThat(failed.body()).isEqualTo(got.body());
      assertThat(failed.header("X-Warden-Delivery")).isEqualTo(got.header("X-Warden-Delivery"));
    }
    assertThat(got.header("X-Warden-Delivery")).isEqualTo("apr_k3x9q2m7v4ab:approval-approved:1");
    assertThat(got.header("X-Warden-Signature")).isEqualTo(hmac(HOOK_SECRET, got.body()));
    while (notifier.delivered() == 0) { // the receiver keeps the body before it answers
      Thread.sleep(10);
    }
    assertThat(notifier.delivered()).isEqualTo(1);
    assertThat(notifier.dropped()).isZero();
  }

  @Test
  void aReceiverThatNeverAcceptsIsGivenUpAfterTheRetries() throws Exception {
    Receiver hook = receiver(Integer.MAX_VALUE);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(new ApprovalNotifications.Webhook(hook.url("/h"), Optional.empty())),
                List.of(),
                Optional.empty()),
            100);
    notifier.changed(pending());
    while (notifier.dropped() == 0) {
      Thread.sleep(10);
    }
    // The first attempt and one per backoff step.
    assertThat(hook.refused).hasSize(1 + FAST.size());
    assertThat(notifier.delivered()).isZero();
  }

  @Test
  void aStuckReceiverNeverBlocksTheCallerAndTheQueueIsBounded() throws Exception {
    Receiver hook = receiver(0);
    CountDownLatch release = new CountDownLatch(1);
    hook.hold = release;
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(new ApprovalNotifications.Webhook(hook.url("/h"), Optional.empty())),
                List.of(),
                Optional.empty()),
            3);

    for (int i = 0; i < 10; i++) {
      notifier.changed(pending()); // returns although the receiver answers nothing
    }
    assertThat(notifier.dropped()).isEqualTo(7);

    release.countDown();
    for (int i = 0; i < 3; i++) {
      assertThat(hook.next()).isNotNull();
    }
    while (notifier.delivered() < 3) {
      Thread.sleep(10);
    }
    assertThat(notifier.dropped()).isEqualTo(7);
  }

  @Test
  void slackGetsATextAndBlocksWithApproveAndDenyLinksToTheConsole() throws Exception {
    Receiver slack = receiver(0);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(),
                List.of(slack.url("/services/T000/B000/XXXX")),
                Optional.of(URI.create("https://warden.corp.example"))),
            100);
    // A statement and a reason written to ping everyone and forge a link.
    ApprovalRequest hostile =
        new ApprovalRequest(
            "apr_k3x9q2m7v4ab",
            "alice",
            Set.of(),
            "production",
            "shop",
            "DROP TABLE x /* <!channel> <https://evil.example|click> ``` */",
            "fp",
            "b",
            "prod-ddl",
            "why",
            Optional.of("<!here> & more"),
            OptionalLong.empty(),
            ApprovalRequirement.DEFAULT,
            NOW,
            NOW.plusSeconds(3600),
            Status.PENDING,
            List.of(),
            Optional.empty());

    notifier.changed(hostile);

    Receiver.Received got = slack.next();
    assertThat(got.header("X-Warden-Signature")).isNull();
    Map<String, Object> message = object(got.body());
    assertThat(message.get("text").toString())
        .isEqualTo(
            "Approval requested (apr_k3x9q2m7v4ab): alice wants to run a statement in production");
    String text = new String(got.body(), StandardCharsets.UTF_8);
    assertThat(text)
        .doesNotContain("<!channel>")
        .doesNotContain("<!here>")
        .doesNotContain("<https://evil")
        .contains("&lt;!channel&gt;")
        .contains("&lt;!here&gt; &amp; more");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> blocks = (List<Map<String, Object>>) message.get("blocks");
    Map<String, Object> actions =
        blocks.stream().filter(b -> "actions".equals(b.get("type"))).findFirst().orElseThrow();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> buttons = (List<Map<String, Object>>) actions.get("elements");
    assertThat(buttons)
        .extracting(b -> b.get("url"))
        .containsExactly(
            "https://warden.corp.example/approvals/apr_k3x9q2m7v4ab?decision=approve",
            "https://warden.corp.example/approvals/apr_k3x9q2m7v4ab?decision=deny",
            "https://warden.corp.example/approvals/apr_k3x9q2m7v4ab");
    // The statement's code block is not ended early by a fence inside it.
    String code =
        blocks.stream()
            .map(b -> String.valueOf(((Map<?, ?>) b.getOrDefault("text", Map.of())).get("text")))
            .filter(t -> t.startsWith("```"))
            .findFirst()
            .orElseThrow();
    assertThat(code.substring(3, code.length() - 3)).doesNotContain("```");
  }

  @Test
  void aDecisionInSlackHasNoButtonsToActAndWithoutAPublicUrlNamesTheCommand() throws Exception {
    Receiver slack = receiver(0);
    ApprovalNotifier linked =
        notifier(
            new ApprovalNotifications(
                List.of(),
                List.of(slack.url("/a")),
                Optional.of(URI.create("https://warden.corp.example"))),
            100);
    linked.changed(
        request(
            Status.DENIED,
            List.of(new Review("bob", Set.of("approvers"), false, NOW, "not now", false)),
            "DELETE FROM orders"));
    Map<String, Object> denied = object(slack.next().body());
    assertThat(denied.get("text").toString())
        .isEqualTo("Denied (apr_k3x9q2m7v4ab): alice's statement in production");
    assertThat(json.write(denied))
        .contains("denied by bob: not now")
        .doesNotContain("decision=approve");

    ApprovalNotifier unlinked =
        notifier(
            new ApprovalNotifications(List.of(), List.of(slack.url("/b")), Optional.empty()), 100);
    unlinked.changed(pending());
    String text = json.write(object(slack.next().body()));
    assertThat(text)
        .contains("warden approvals approve apr_k3x9q2m7v4ab")
        .doesNotContain("\"actions\"");
  }

  @Test
  void aUsedApprovalIsNotAnnounced() throws Exception {
    Receiver hook = receiver(0);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(new ApprovalNotifications.Webhook(hook.url("/h"), Optional.empty())),
                List.of(),
                Optional.empty()),
            100);
    notifier.changed(request(Status.USED, List.of(), "DELETE FROM orders"));
    notifier.changed(request(Status.CANCELLED, List.of(), "DELETE FROM orders"));
    Receiver.Received got = hook.next();
    assertThat(got.header("X-Warden-Event")).isEqualTo("approval-cancelled");
    assertThat(hook.arrived.get()).isEqualTo(1);
  }

  @Test
  void hookedOnTheServiceItTellsOfTheRequestAndTheDecisionButNotTheUse(@TempDir Path data)
      throws Exception {
    Receiver hook = receiver(0);
    ApprovalNotifier notifier =
        notifier(
            new ApprovalNotifications(
                List.of(
                    new ApprovalNotifications.Webhook(
                        hook.url("/h"), Optional.of(Secret.of(HOOK_SECRET)))),
                List.of(),
                Optional.empty()),
            100);
    EmbeddedStore store = EmbeddedStore.open(data, "test", clock);
    open.add(store);
    Approvals approvals = new Approvals(store.approvals(), clock, new SecureRandom());
    open.add(approvals);
    approvals.onChange(notifier::changed);

    String binding = Approvals.binding(new byte[32], "DROP TABLE t", List.of());
    ApprovalRequest made =
        approvals.request(
            new Approvals.Draft(
                new Identity("alice", Set.of("developers"), AuthMethod.SCRAM_SHA_256),
                "production",
                "shop",
                "DROP TABLE t",
                "fp",
                binding,
                "prod-ddl",
                "why",
                Optional.empty(),
                OptionalLong.empty(),
                ApprovalRequirement.DEFAULT));
    Receiver.Received requested = hook.next();
    assertThat(requested.header("X-Warden-Event")).isEqualTo("approval-requested");
    assertThat(requested.header("X-Warden-Signature"))
        .isEqualTo(hmac(HOOK_SECRET, requested.body()));
    assertThat(object(requested.body()).get("request").toString()).contains(made.id());

    approvals.review(
        made.id(),
        new Identity("bob", Set.of("approvers"), AuthMethod.SCRAM_SHA_256),
        true,
        "ok",
        false);
    Receiver.Received decided = hook.next();
    assertThat(decided.header("X-Warden-Event")).isEqualTo("approval-approved");
    assertThat(decided.header("X-Warden-Signature")).isEqualTo(hmac(HOOK_SECRET, decided.body()));

    assertThat(approvals.consume("alice", "production", binding)).isPresent();
    approvals.cancel(
        approvals
            .request(
                new Approvals.Draft(
                    new Identity("alice", Set.of("developers"), AuthMethod.SCRAM_SHA_256),
                    "production",
                    "shop",
                    "DROP TABLE u",
                    "fp",
                    Approvals.binding(new byte[32], "DROP TABLE u", List.of()),
                    "prod-ddl",
                    "why",
                    Optional.empty(),
                    OptionalLong.empty(),
                    ApprovalRequirement.DEFAULT))
            .id(),
        new Identity("alice", Set.of("developers"), AuthMethod.SCRAM_SHA_256));
    // The use was not announced: next come the second request and its cancellation.
    assertThat(hook.next().header("X-Warden-Event")).isEqualTo("approval-requested");
    assertThat(hook.next().header("X-Warden-Event")).isEqualTo("approval-cancelled");
  }

  @Test
  void theConfigurationPrintsNoSecretAndNoSlackToken() {
    ApprovalNotifications config =
        new ApprovalNotifications(
            List.of(
                new ApprovalNotifications.Webhook(
                    URI.create("https://hooks.example/x?token=canary-q-1"),
                    Optional.of(Secret.of(HOOK_SECRET)))),
            List.of(URI.create("https://hooks.slack.com/services/T0/B0/canary-slack-2")),
            Optional.empty());
    assertThat(config.toString())
        .doesNotContain(HOOK_SECRET)
        .doesNotContain("canary-q-1")
        .doesNotContain("canary-slack-2")
        .contains("https://hooks.slack.com");
  }
}

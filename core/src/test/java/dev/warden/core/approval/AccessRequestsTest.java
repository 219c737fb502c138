package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Access requests: time-boxed elevation to a named role, reviewed as any request. */
class AccessRequestsTest {
  private static final Instant T0 = Instant.parse("2026-03-04T10:00:00Z");

  private final InMemoryApprovalStore store = new InMemoryApprovalStore();
  private final TestClock clock = new TestClock(T0);
  private final Approvals approvals = new Approvals(store, clock, new SecureRandom());
  private final List<ApprovalRequest> changes = new CopyOnWriteArrayList<>();

  private final Identity alice = person("alice", "dev");
  private final Identity bob = person("bob", "approvers");
  private final Identity carol = person("carol", "approvers", "dba");
  private final Identity mallory = person("mallory", "contractors");

  private static final Upstream DB =
      new Upstream(
          "db.internal",
          5432,
          Optional.empty(),
          "warden",
          Secret.of(""),
          TlsMode.DISABLE,
          Optional.empty());

  private final Environments environments =
      new Environments(
          List.of(
              new Environment(
                  "production",
                  Set.of("production"),
                  List.of("app"),
                  DB,
                  List.of(
                      new RoleMapping(
                          Set.of("dev", "contractors"),
                          Set.of(),
                          "app_ro",
                          Secret.of("ro"),
                          Optional.of("reader"),
                          Optional.empty()),
                      new RoleMapping(
                          Set.of(),
                          Set.of(),
                          "app_rw",
                          Secret.of("rw"),
                          Optional.of("writer"),
                          Optional.of(
                              new JustInTime(
                                  Set.of("approvers"),
                                  1,
                                  Duration.ofHours(2),
                                  Set.of("dev"),
                                  false))),
                      new RoleMapping(
                          Set.of(),
                          Set.of(),
                          "app_admin",
                          Secret.of("admin"),
                          Optional.of("admin"),
                          Optional.of(
                              new JustInTime(
                                  Set.of("approvers", "dba"),
                                  2,
                                  Duration.ofHours(1),
                                  Set.of(),
                                  true)))))));

  AccessRequestsTest() {
    approvals.onChange(changes::add);
  }

  @AfterEach
  void close() {
    approvals.close();
  }

  private static Identity person(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  private ApprovalRequest ask(Identity who, String role, Duration duration) {
    return approvals.requestAccess(
        environments,
        new Approvals.AccessDraft(who, "production", role, duration, Optional.of("INC-7 hotfix")));
  }

  private static void refused(AccessRequestException.Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(AccessRequestException.class)
        .satisfies(e -> assertThat(((AccessRequestException) e).reason()).isEqualTo(reason));
  }

  @Test
  void aRequestIsPendingWithItsRoleAndDurationAndNoWindowYet() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofHours(1));

    assertThat(r.kind()).isEqualTo(ApprovalRequest.Kind.ACCESS);
    assertThat(r.status()).isEqualTo(Status.PENDING);
    assertThat(r.access()).contains(ApprovalRequest.Access.asked("writer", Duration.ofHours(1)));
    assertThat(r.reason()).contains("INC-7 hotfix");
    assertThat(r.requirement().approverGroups()).containsExactly("approvers");
    assertThat(r.requirement().breakGlass()).isFalse();
    assertThat(r.rule()).isEqualTo(Approvals.ACCESS_RULE);
    assertThat(r.why()).contains("writer", "production", "1h");
    assertThat(r.expires()).isEqualTo(T0.plus(ApprovalRequirement.DEFAULT.lifetime()));
    assertThat(store.find(r.id())).contains(r);
    assertThat(changes).containsExactly(r);
    assertThat(approvals.openWindow("alice", "production", T0)).isEmpty();
  }

  @Test
  void approvalOpensTheWindowAtApprovalTimeForTheDurationAskedFor() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofMinutes(30));
    clock.advance(Duration.ofMinutes(5));
    Instant approvedAt = clock.instant();

    ApprovalRequest approved = approvals.review(r.id(), bob, true, "go", false);

    assertThat(approved.status()).isEqualTo(Status.APPROVED);
    ApprovalRequest.Access window = approved.access().orElseThrow();
    assertThat(window.start()).contains(approvedAt);
    assertThat(window.end()).contains(approvedAt.plus(Duration.ofMinutes(30)));
    assertThat(approved.expires()).isEqualTo(approvedAt.plus(Duration.ofMinutes(30)));
    assertThat(approvals.openWindow("alice", "production", approvedAt)).contains(approved);
    assertThat(approvals.openWindows(approvedAt)).containsExactly(approved);
    // Only alice's, only there.
    assertThat(approvals.openWindow("bob", "production", approvedAt)).isEmpty();
    assertThat(approvals.openWindow("alice", "staging", approvedAt)).isEmpty();
  }

  @Test
  void theWindowEndsAfterItsDurationAndIsMarkedUsed() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofMinutes(30));
    ApprovalRequest approved = approvals.review(r.id(), bob, true, "", false);
    clock.advance(Duration.ofMinutes(30).minusNanos(1));
    assertThat(approvals.openWindow("alice", "production", clock.instant())).contains(approved);

    clock.advance(Duration.ofNanos(1));
    assertThat(approvals.openWindow("alice", "production", clock.instant())).isEmpty();
    List<ApprovalRequest> ended = approvals.expireDue();

    assertThat(ended).hasSize(1);
    ApprovalRequest used = ended.getFirst();
    assertThat(used.status()).isEqualTo(Status.USED);
    assertThat(used.used()).contains(approved.access().orElseThrow().end().orElseThrow());
    assertThat(used.access()).isEqualTo(approved.access());
    assertThat(changes.getLast()).isEqualTo(used);
  }

  @Test
  void theRequesterCanEndAnOpenWindowEarly() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofHours(1));
    approvals.review(r.id(), bob, true, "", false);
    clock.advance(Duration.ofMinutes(10));

    ApprovalRequest cancelled = approvals.cancel(r.id(), alice);

    assertThat(cancelled.status()).isEqualTo(Status.CANCELLED);
    assertThat(cancelled.access().orElseThrow().end()).contains(clock.instant());
    assertThat(approvals.openWindow("alice", "production", clock.instant())).isEmpty();
    assertThatThrownBy(() -> approvals.cancel(r.id(), alice)).isInstanceOf(ApprovalException.class);
  }

  @Test
  void aWindowThatEndedCannotBeCancelled() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofMinutes(5));
    approvals.review(r.id(), bob, true, "", false);
    clock.advance(Duration.ofMinutes(6));

    assertThatThrownBy(() -> approvals.cancel(r.id(), alice))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(ApprovalException.Reason.NOT_PENDING);
              assertThat(e.getMessage()).contains("access window has already ended");
            });
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.USED);
  }

  @Test
  void theReviewRulesAreThoseOfAnyRequest() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofHours(1));
    // Never the requester, nor someone acting for them, nor someone outside the approver groups.
    assertThatThrownBy(
            () -> approvals.review(r.id(), person("alice", "approvers"), true, "", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.SELF_REVIEW));
    Identity agent =
        new Identity(
            "bot",
            Set.of("approvers"),
            AuthMethod.SERVICE_TOKEN,
            Optional.of("alice"),
            Optional.empty());
    assertThatThrownBy(() -> approvals.review(r.id(), agent, true, "", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.SELF_REVIEW));
    assertThatThrownBy(() -> approvals.review(r.id(), mallory, true, "", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.NOT_AN_APPROVER));
    // Break-glass only where the role allows it.
    assertThatThrownBy(() -> approvals.review(r.id(), bob, true, "urgent", true))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e ->
                assertThat(e.reason()).isEqualTo(ApprovalException.Reason.BREAK_GLASS_NOT_ALLOWED));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.PENDING);
  }

  @Test
  void minApprovalsAndBreakGlassFollowTheRole() {
    ApprovalRequest r = ask(alice, "admin", Duration.ofMinutes(20));
    ApprovalRequest once = approvals.review(r.id(), bob, true, "", false);
    assertThat(once.status()).isEqualTo(Status.PENDING);
    assertThat(once.access().orElseThrow().start()).isEmpty();
    ApprovalRequest twice = approvals.review(r.id(), carol, true, "", false);
    assertThat(twice.status()).isEqualTo(Status.APPROVED);
    assertThat(twice.access().orElseThrow().start()).contains(clock.instant());

    ApprovalRequest other = ask(alice, "admin", Duration.ofMinutes(20));
    ApprovalRequest glass = approvals.review(other.id(), bob, true, "INC-7 outage", true);
    assertThat(glass.status()).isEqualTo(Status.APPROVED);
    assertThat(glass.access().orElseThrow().end())
        .contains(clock.instant().plus(Duration.ofMinutes(20)));
  }

  @Test
  void oneDenialDecidesAndNoWindowOpens() {
    ApprovalRequest r = ask(alice, "admin", Duration.ofMinutes(20));
    approvals.review(r.id(), bob, true, "", false);
    ApprovalRequest denied = approvals.review(r.id(), carol, false, "no", false);
    assertThat(denied.status()).isEqualTo(Status.DENIED);
    assertThat(denied.access().orElseThrow().start()).isEmpty();
    assertThat(approvals.openWindow("alice", "production", clock.instant())).isEmpty();
  }

  @Test
  void aPendingRequestExpiresAndCannotBeApprovedThen() {
    ApprovalRequest r = ask(alice, "writer", Duration.ofHours(1));
    clock.advance(ApprovalRequirement.DEFAULT.lifetime());
    assertThatThrownBy(() -> approvals.review(r.id(), bob, true, "", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.EXPIRED));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
    assertThat(approvals.openWindow("alice", "production", clock.instant())).isEmpty();
  }

  @Test
  void theDurationIsCappedByTheRolesMaxDuration() {
    assertThat(ask(alice, "writer", Duration.ofHours(2)).status()).isEqualTo(Status.PENDING);
    refused(
        AccessRequestException.Reason.BAD_DURATION,
        () -> ask(alice, "writer", Duration.ofHours(2).plusSeconds(1)));
    assertThatThrownBy(() -> ask(alice, "writer", Duration.ofHours(3)))
        .hasMessageContaining("at most 2h")
        .hasMessageContaining("not 3h");
    refused(
        AccessRequestException.Reason.BAD_DURATION,
        () -> ask(alice, "writer", Duration.ofSeconds(30)));
  }

  @Test
  void refusalsForUnknownPlacesRolesAndThoseWhoMayNotAsk() {
    refused(
        AccessRequestException.Reason.UNKNOWN_ENVIRONMENT,
        () ->
            approvals.requestAccess(
                environments,
                new Approvals.AccessDraft(
                    alice, "nowhere", "writer", Duration.ofHours(1), Optional.of("x"))));
    refused(
        AccessRequestException.Reason.UNKNOWN_ROLE, () -> ask(alice, "root", Duration.ofHours(1)));
    assertThatThrownBy(() -> ask(alice, "root", Duration.ofHours(1)))
        .hasMessageContaining("roles that can be asked for: admin, writer");
    refused(
        AccessRequestException.Reason.NOT_JUST_IN_TIME,
        () -> ask(alice, "reader", Duration.ofHours(1)));
    // writer is requestable by dev only; admin by anyone (the environment's admission decides).
    refused(
        AccessRequestException.Reason.NOT_REQUESTABLE,
        () -> ask(mallory, "writer", Duration.ofHours(1)));
    assertThat(ask(mallory, "admin", Duration.ofHours(1)).status()).isEqualTo(Status.PENDING);
    refused(
        AccessRequestException.Reason.REASON_REQUIRED,
        () ->
            approvals.requestAccess(
                environments,
                new Approvals.AccessDraft(
                    alice, "production", "writer", Duration.ofHours(1), Optional.of("  "))));
    assertThat(store.list(ApprovalStore.Filter.all())).hasSize(1);
  }

  @Test
  void ofSeveralOpenWindowsTheOneEndingLastIsAnswered() {
    ApprovalRequest shortOne = ask(alice, "writer", Duration.ofMinutes(10));
    ApprovalRequest longOne = ask(alice, "admin", Duration.ofMinutes(50));
    approvals.review(shortOne.id(), bob, true, "", false);
    approvals.review(longOne.id(), bob, true, "", false);
    ApprovalRequest longOpen = approvals.review(longOne.id(), carol, true, "", false);

    assertThat(approvals.openWindow("alice", "production", clock.instant())).contains(longOpen);
  }

  @Test
  void aStatementsApprovalIsNeverAWindow() {
    approvals.request(
        new Approvals.Draft(
            alice,
            "production",
            "app",
            "DELETE FROM t",
            "fp",
            "b1",
            "r",
            "why",
            Optional.empty(),
            java.util.OptionalLong.empty(),
            ApprovalRequirement.DEFAULT));
    ApprovalRequest statement = store.list(ApprovalStore.Filter.all()).getFirst();
    ApprovalRequest approved = approvals.review(statement.id(), bob, true, "", false);
    assertThat(approved.access()).isEmpty();
    assertThat(approved.expires()).isEqualTo(statement.expires());
    assertThat(approvals.openWindows(clock.instant())).isEmpty();
  }

  @Test
  void durationsAreWrittenAsPeopleWriteThem() {
    assertThat(JustInTime.parseDuration("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(JustInTime.parseDuration("90m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(JustInTime.parseDuration(" 1h30m ")).isEqualTo(Duration.ofMinutes(90));
    assertThat(JustInTime.parseDuration("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(JustInTime.format(Duration.ofMinutes(90))).isEqualTo("1h30m");
    for (String bad : List.of("", "1", "h", "1x", "30m1h", "1h1h", "-1h", "1.5h", "1 h")) {
      assertThatThrownBy(() -> JustInTime.parseDuration(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("duration");
    }
  }
}

package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalException.Reason;
import dev.warden.core.approval.ApprovalRequest.Review;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement.Wait;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The rules of approving, over a store kept in memory. */
class ApprovalsTest {
  private static final Instant T0 = Instant.parse("2026-03-04T10:00:00Z");
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();
  private static final Duration HANG = Duration.ofSeconds(30);

  private final InMemoryApprovalStore store = new InMemoryApprovalStore();
  private final TestClock clock = new TestClock(T0);
  private final Approvals approvals = new Approvals(store, clock, new SecureRandom());
  private final List<ApprovalRequest> changes = new CopyOnWriteArrayList<>();

  private final Identity alice = person("alice", "dev");
  private final Identity bob = person("bob", "approvers");
  private final Identity carol = person("carol", "approvers");
  private final Identity dave = person("dave", "approvers");

  ApprovalsTest() {
    approvals.onChange(changes::add);
  }

  @AfterEach
  void close() {
    approvals.close();
  }

  private static Identity person(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  private static ApprovalRequirement requirement(
      Set<String> groups, int min, boolean allOf, boolean reasonRequired, boolean breakGlass) {
    return new ApprovalRequirement(
        groups,
        min,
        allOf,
        Wait.ERROR,
        Duration.ofMinutes(10),
        Duration.ofHours(1),
        reasonRequired,
        breakGlass);
  }

  private static Approvals.Draft draft(
      Identity who, String environment, String text, ApprovalRequirement requirement) {
    return new Approvals.Draft(
        who,
        environment,
        "app",
        text,
        "fp-" + text.length(),
        Approvals.binding(KEY, text, List.of()),
        "schema-changes",
        "schema changes in production need approval",
        Optional.of("release 42"),
        OptionalLong.of(3),
        requirement);
  }

  private ApprovalRequest ask(String text) {
    return approvals.request(draft(alice, "production", text, ApprovalRequirement.DEFAULT));
  }

  private ApprovalRequest ask(String text, ApprovalRequirement requirement) {
    return approvals.request(draft(alice, "production", text, requirement));
  }

  private static void refused(Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(ApprovalException.class)
        .satisfies(e -> assertThat(((ApprovalException) e).reason()).isEqualTo(reason));
  }

  // --- making a request ---

  @Test
  void aRequestIsPendingBoundAndOpenForItsLifetime() {
    ApprovalRequest r = ask("ALTER TABLE t ADD c int");

    assertThat(r.id()).matches("apr_[a-z2-7]{12}");
    assertThat(r.status()).isEqualTo(Status.PENDING);
    assertThat(r.requester()).isEqualTo("alice");
    assertThat(r.requesterGroups()).containsExactly("dev");
    assertThat(r.environment()).isEqualTo("production");
    assertThat(r.binding()).isEqualTo(Approvals.binding(KEY, "ALTER TABLE t ADD c int", List.of()));
    assertThat(r.created()).isEqualTo(T0);
    assertThat(r.expires()).isEqualTo(T0.plus(Duration.ofHours(1)));
    assertThat(r.reason()).contains("release 42");
    assertThat(r.rows()).hasValue(3);
    assertThat(r.reviews()).isEmpty();
    assertThat(r.used()).isEmpty();
    assertThat(store.find(r.id())).contains(r);
    assertThat(changes).containsExactly(r);
  }

  @Test
  void anAutomaticApprovalIsStoredUsedAndNamesItsRule() {
    Approvals.Draft d =
        draft(alice, "production", "DELETE FROM t WHERE id = 1", ApprovalRequirement.DEFAULT);
    ApprovalRequest r = approvals.autoApprove(d, "small-deletes");

    assertThat(r.status()).isEqualTo(Status.USED);
    assertThat(r.used()).contains(T0);
    assertThat(r.reviews())
        .singleElement()
        .satisfies(
            review -> {
              assertThat(review.reviewer()).isEqualTo(Approvals.AUTOMATIC_REVIEWER);
              assertThat(review.comment()).isEqualTo("auto-approved by rule small-deletes");
            });
    assertThat(store.find(r.id())).contains(r);
    assertThat(changes).containsExactly(r);
    // Already used: it does not also let the statement run a second time.
    assertThat(approvals.consume("alice", "production", d.binding())).isEmpty();
  }

  @Test
  void thePersonAnAgentActsForCannotApproveTheAgentsRequest() {
    Identity agent =
        new Identity(
            "claude-for-bob",
            Set.of("agents"),
            AuthMethod.SERVICE_TOKEN,
            Optional.of("bob"),
            Optional.empty());
    ApprovalRequest r =
        approvals.request(
            draft(agent, "production", "DELETE FROM t WHERE id = 9", ApprovalRequirement.DEFAULT));
    assertThat(r.requesterOnBehalfOf()).contains("bob");
    assertThat(store.find(r.id()).orElseThrow().requesterOnBehalfOf()).contains("bob");
    refused(
        Reason.SELF_REVIEW,
        () -> approvals.review(r.id(), person("bob", "approvers"), true, "mine", false));
    assertThat(approvals.review(r.id(), person("carol", "approvers"), true, "", false).status())
        .isEqualTo(Status.APPROVED);
    assertThat(store.find(r.id()).orElseThrow().requesterOnBehalfOf()).contains("bob");
  }

  @Test
  void idsAreDistinct() {
    Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < 200; i++) {
      ids.add(ask("SELECT " + i).id());
    }
    assertThat(ids).hasSize(200);
  }

  @Test
  void theSameStatementSentAgainWhileItWaitsGetsTheSameRequest() {
    ApprovalRequest first = ask("DROP INDEX i");
    clock.advance(Duration.ofMinutes(5));

    assertThat(ask("DROP INDEX i")).isEqualTo(first);
    assertThat(changes).hasSize(1);
    assertThat(store.list(ApprovalStore.Filter.all())).hasSize(1);
  }

  @Test
  void anotherStatementEnvironmentOrRequesterMakesAnotherRequest() {
    ApprovalRequest first = ask("DROP INDEX i");

    assertThat(ask("DROP INDEX j").id()).isNotEqualTo(first.id());
    assertThat(
            approvals
                .request(draft(alice, "staging", "DROP INDEX i", ApprovalRequirement.DEFAULT))
                .id())
        .isNotEqualTo(first.id());
    assertThat(
            approvals
                .request(
                    draft(
                        person("erin", "dev"),
                        "production",
                        "DROP INDEX i",
                        ApprovalRequirement.DEFAULT))
                .id())
        .isNotEqualTo(first.id());
    assertThat(store.list(ApprovalStore.Filter.all())).hasSize(4);
  }

  @Test
  void aDecidedRequestIsNotReturnedForTheSameStatement() {
    ApprovalRequest first = ask("DROP INDEX i");
    approvals.review(first.id(), bob, false, "no", false);

    ApprovalRequest second = ask("DROP INDEX i");

    assertThat(second.id()).isNotEqualTo(first.id());
    assertThat(second.status()).isEqualTo(Status.PENDING);
  }

  @Test
  void anExpiredPendingRequestIsMarkedAndReplacedByANewOne() {
    ApprovalRequest first = ask("DROP INDEX i");
    clock.advance(Duration.ofHours(1));

    ApprovalRequest second = ask("DROP INDEX i");

    assertThat(second.id()).isNotEqualTo(first.id());
    assertThat(store.find(first.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
    assertThat(changes)
        .extracting(ApprovalRequest::status)
        .containsExactly(Status.PENDING, Status.EXPIRED, Status.PENDING);
  }

  @Test
  void aRequirementThatNeedsAReasonRefusesARequestWithoutOne() {
    ApprovalRequirement needsReason = requirement(Set.of("approvers"), 1, false, true, false);
    for (Optional<String> none : List.of(Optional.<String>empty(), Optional.of("  \t "))) {
      Approvals.Draft d = draft(alice, "production", "TRUNCATE t", needsReason);
      Approvals.Draft noReason =
          new Approvals.Draft(
              d.requester(),
              d.environment(),
              d.database(),
              d.statement(),
              d.fingerprint(),
              d.binding(),
              d.rule(),
              d.why(),
              none,
              d.rows(),
              d.requirement());
      assertThatThrownBy(() -> approvals.request(noReason))
          .isInstanceOf(ApprovalException.class)
          .hasMessageContaining("/* reason: ... */")
          .satisfies(
              e -> assertThat(((ApprovalException) e).reason()).isEqualTo(Reason.REASON_REQUIRED));
    }
    assertThat(store.list(ApprovalStore.Filter.all())).isEmpty();
    assertThat(ask("TRUNCATE t", needsReason).reason()).contains("release 42");
  }

  @Test
  void badDraftsAreRefusedWithAClearMessage() {
    Approvals.Draft d = draft(alice, "production", "TRUNCATE t", ApprovalRequirement.DEFAULT);
    assertThatThrownBy(
            () ->
                new Approvals.Draft(
                    d.requester(),
                    " ",
                    d.database(),
                    d.statement(),
                    d.fingerprint(),
                    d.binding(),
                    d.rule(),
                    d.why(),
                    d.reason(),
                    d.rows(),
                    d.requirement()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("environment must not be blank");
    assertThatThrownBy(
            () ->
                new Approvals.Draft(
                    d.requester(),
                    d.environment(),
                    d.database(),
                    d.statement(),
                    d.fingerprint(),
                    d.binding(),
                    d.rule(),
                    d.why(),
                    Optional.of("x".repeat(2001)),
                    d.rows(),
                    d.requirement()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 2000");
    assertThatThrownBy(
            () ->
                new Approvals.Draft(
                    d.requester(),
                    d.environment(),
                    d.database(),
                    d.statement(),
                    d.fingerprint(),
                    d.binding(),
                    d.rule(),
                    d.why(),
                    d.reason(),
                    OptionalLong.of(-1),
                    d.requirement()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rows must not be negative");
  }

  // --- reviewing ---

  @Test
  void oneApprovalFromTheGroupApprovesAndKeepsTheExpiry() {
    ApprovalRequest r = ask("CREATE INDEX i ON t (c)");
    clock.advance(Duration.ofMinutes(20));

    ApprovalRequest approved = approvals.review(r.id(), bob, true, "looks fine", false);

    assertThat(approved.status()).isEqualTo(Status.APPROVED);
    assertThat(approved.expires()).isEqualTo(r.expires());
    assertThat(approved.reviews())
        .containsExactly(
            new Review(
                "bob",
                Set.of("approvers"),
                true,
                T0.plus(Duration.ofMinutes(20)),
                "looks fine",
                false));
    assertThat(store.find(r.id())).contains(approved);
    assertThat(changes).last().isEqualTo(approved);
  }

  @Test
  void unknownIdsAreRefused() {
    refused(Reason.NOT_FOUND, () -> approvals.review("apr_aaaaaaaaaaaa", bob, true, "", false));
  }

  @Test
  void theRequesterNeverReviewsTheirOwnRequestNotEvenByBreakGlass() {
    Identity aliceApprover = person("alice", "approvers", "dev");
    ApprovalRequest r =
        approvals.request(
            draft(aliceApprover, "production", "DROP TABLE t", ApprovalRequirement.DEFAULT));

    refused(Reason.SELF_REVIEW, () -> approvals.review(r.id(), aliceApprover, true, "", false));
    refused(Reason.SELF_REVIEW, () -> approvals.review(r.id(), aliceApprover, false, "", false));
    refused(
        Reason.SELF_REVIEW,
        () -> approvals.review(r.id(), aliceApprover, true, "prod is down", true));
    refused(
        Reason.SELF_REVIEW,
        () -> approvals.review(r.id(), person("ALICE", "approvers"), true, "", false));
    Identity agent =
        new Identity(
            "alice-agent",
            Set.of("approvers"),
            AuthMethod.SERVICE_TOKEN,
            Optional.of("alice"),
            Optional.empty());
    refused(Reason.SELF_REVIEW, () -> approvals.review(r.id(), agent, true, "", false));
    assertThat(store.find(r.id()).orElseThrow()).isEqualTo(r);
  }

  @Test
  void onlyMembersOfAnApproverGroupReview() {
    ApprovalRequest r = ask("DROP TABLE t");

    assertThatThrownBy(() -> approvals.review(r.id(), person("erin", "dev"), true, "", false))
        .isInstanceOf(ApprovalException.class)
        .hasMessage("erin may not review " + r.id() + ": it needs a member of approvers");
    refused(
        Reason.NOT_AN_APPROVER,
        () -> approvals.review(r.id(), person("erin", "dev"), true, "urgent", true));
    refused(
        Reason.NOT_AN_APPROVER, () -> approvals.review(r.id(), person("frank"), false, "", false));
    assertThat(store.find(r.id()).orElseThrow()).isEqualTo(r);
  }

  @Test
  void aReviewerReviewsOnce() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("approvers"), 2, false, false, true));
    approvals.review(r.id(), bob, true, "", false);

    refused(Reason.ALREADY_REVIEWED, () -> approvals.review(r.id(), bob, true, "", false));
    refused(Reason.ALREADY_REVIEWED, () -> approvals.review(r.id(), bob, false, "", false));
    refused(Reason.ALREADY_REVIEWED, () -> approvals.review(r.id(), bob, true, "now", true));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.PENDING);
  }

  @Test
  void approvalsCountDistinctReviewersUpToTheMinimum() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("approvers"), 3, false, false, false));

    assertThat(approvals.review(r.id(), bob, true, "", false).status()).isEqualTo(Status.PENDING);
    assertThat(approvals.review(r.id(), carol, true, "", false).status()).isEqualTo(Status.PENDING);
    ApprovalRequest done = approvals.review(r.id(), dave, true, "", false);

    assertThat(done.status()).isEqualTo(Status.APPROVED);
    assertThat(done.reviews()).extracting(Review::reviewer).containsExactly("bob", "carol", "dave");
  }

  @Test
  void aDenialDecidesAtOnce() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("approvers"), 2, false, false, false));
    approvals.review(r.id(), bob, true, "", false);

    ApprovalRequest denied = approvals.review(r.id(), carol, false, "not during the sale", false);

    assertThat(denied.status()).isEqualTo(Status.DENIED);
    assertThat(denied.reviews())
        .last()
        .satisfies(
            rv -> {
              assertThat(rv.approve()).isFalse();
              assertThat(rv.comment()).isEqualTo("not during the sale");
            });
    assertThatThrownBy(() -> approvals.review(r.id(), dave, true, "", false))
        .isInstanceOf(ApprovalException.class)
        .hasMessage(r.id() + " is already denied")
        .satisfies(e -> assertThat(((ApprovalException) e).reason()).isEqualTo(Reason.NOT_PENDING));
  }

  @Test
  void anApprovedRequestTakesNoMoreReviews() {
    ApprovalRequest r = ask("DROP TABLE t");
    approvals.review(r.id(), bob, true, "", false);

    refused(Reason.NOT_PENDING, () -> approvals.review(r.id(), carol, false, "", false));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.APPROVED);
  }

  @Test
  void allOfGroupsNeedsAnApproverFromEachGroup() {
    ApprovalRequirement both = requirement(Set.of("dba", "security"), 1, true, false, false);
    assertThat(both.minApprovals()).isEqualTo(2);
    ApprovalRequest r = ask("DROP TABLE t", both);

    approvals.review(r.id(), person("dan", "dba"), true, "", false);
    ApprovalRequest twoDbas = approvals.review(r.id(), person("dora", "dba"), true, "", false);
    assertThat(twoDbas.status()).isEqualTo(Status.PENDING);

    ApprovalRequest done = approvals.review(r.id(), person("sam", "security"), true, "", false);
    assertThat(done.status()).isEqualTo(Status.APPROVED);
  }

  @Test
  void aReviewerInTwoGroupsCountsForBothButOnceTowardTheMinimum() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("dba", "security"), 1, true, false, false));

    ApprovalRequest one =
        approvals.review(r.id(), person("pat", "dba", "security"), true, "", false);
    assertThat(one.status()).isEqualTo(Status.PENDING);

    ApprovalRequest two = approvals.review(r.id(), person("quinn", "dba"), true, "", false);
    assertThat(two.status()).isEqualTo(Status.APPROVED);
  }

  @Test
  void anyOfGroupsTakesApprovalsFromEitherGroup() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("dba", "security"), 2, false, false, false));

    approvals.review(r.id(), person("dan", "dba"), true, "", false);
    assertThat(approvals.review(r.id(), person("dora", "dba"), true, "", false).status())
        .isEqualTo(Status.APPROVED);
  }

  @Test
  void breakGlassApprovesAloneAndIsMarked() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("dba", "security"), 3, true, false, true));

    ApprovalRequest done =
        approvals.review(r.id(), person("dan", "dba"), true, "  outage INC-7, restoring  ", true);

    assertThat(done.status()).isEqualTo(Status.APPROVED);
    assertThat(done.reviews())
        .singleElement()
        .satisfies(
            rv -> {
              assertThat(rv.breakGlass()).isTrue();
              assertThat(rv.comment()).isEqualTo("outage INC-7, restoring");
            });
  }

  @Test
  void breakGlassNeedsAJustificationAndARuleThatAllowsIt() {
    ApprovalRequest allowed =
        ask("DROP TABLE a", requirement(Set.of("approvers"), 2, false, false, true));
    ApprovalRequest notAllowed =
        ask("DROP TABLE b", requirement(Set.of("approvers"), 2, false, false, false));

    refused(
        Reason.JUSTIFICATION_REQUIRED, () -> approvals.review(allowed.id(), bob, true, " ", true));
    refused(
        Reason.JUSTIFICATION_REQUIRED, () -> approvals.review(allowed.id(), bob, true, null, true));
    refused(
        Reason.BREAK_GLASS_NOT_ALLOWED,
        () -> approvals.review(notAllowed.id(), bob, true, "outage", true));
    refused(
        Reason.BREAK_GLASS_NOT_ALLOWED,
        () -> approvals.review(allowed.id(), bob, false, "outage", true));
    assertThat(store.find(allowed.id()).orElseThrow()).isEqualTo(allowed);
    assertThat(store.find(notAllowed.id()).orElseThrow()).isEqualTo(notAllowed);
  }

  @Test
  void aReviewAfterExpiryIsRefusedAndMarksTheRequestExpired() {
    ApprovalRequest r = ask("DROP TABLE t");
    clock.advance(Duration.ofHours(1));

    refused(Reason.EXPIRED, () -> approvals.review(r.id(), bob, true, "", false));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
    assertThat(changes).last().extracting(ApprovalRequest::status).isEqualTo(Status.EXPIRED);
    refused(Reason.EXPIRED, () -> approvals.review(r.id(), carol, true, "outage", true));
  }

  @Test
  void aReviewJustBeforeExpiryCounts() {
    ApprovalRequest r = ask("DROP TABLE t");
    clock.advance(Duration.ofHours(1).minusNanos(1));

    assertThat(approvals.review(r.id(), bob, true, "", false).status()).isEqualTo(Status.APPROVED);
  }

  @Test
  void tooLongCommentsAreRefused() {
    ApprovalRequest r = ask("DROP TABLE t");
    assertThatThrownBy(() -> approvals.review(r.id(), bob, true, "x".repeat(2001), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 2000");
  }

  @Test
  void reviewsThatRaceAreBothKept() {
    ApprovalRequest r =
        ask("DROP TABLE t", requirement(Set.of("approvers"), 2, false, false, false));
    // Carol's approval lands between Bob's read and Bob's write: Bob's write must not erase it.
    store.beforeNextReplace(() -> approvals.review(r.id(), carol, true, "", false));

    ApprovalRequest done = approvals.review(r.id(), bob, true, "", false);

    assertThat(done.status()).isEqualTo(Status.APPROVED);
    assertThat(done.reviews()).extracting(Review::reviewer).containsExactly("carol", "bob");
  }

  @Test
  void aRequestThatKeepsChangingGivesUpWithAConflict() {
    ApprovalRequest r = ask("DROP TABLE t");
    int[] n = {0};
    store.beforeEveryReplace(
        () -> {
          ApprovalRequest now = store.find(r.id()).orElseThrow();
          store.overwrite(
              new ApprovalRequest(
                  now.id(),
                  now.requester(),
                  now.requesterGroups(),
                  now.environment(),
                  now.database(),
                  now.statement(),
                  now.fingerprint(),
                  now.binding(),
                  now.rule(),
                  "changed " + n[0]++,
                  now.reason(),
                  now.rows(),
                  now.requirement(),
                  now.created(),
                  now.expires(),
                  now.status(),
                  now.reviews(),
                  now.used()));
        });

    refused(Reason.CONFLICT, () -> approvals.review(r.id(), bob, true, "", false));
    assertThat(n[0]).isEqualTo(5);
    assertThat(store.find(r.id()).orElseThrow().reviews()).isEmpty();
  }

  @Test
  void aFailingListenerDoesNotUndoTheChangeOrStopTheOthers() {
    List<ApprovalRequest> seen = new ArrayList<>();
    approvals.onChange(
        r -> {
          throw new IllegalStateException("audit down");
        });
    approvals.onChange(seen::add);
    ApprovalRequest r = ask("DROP TABLE t");

    ApprovalRequest approved = approvals.review(r.id(), bob, true, "", false);

    assertThat(store.find(r.id())).contains(approved);
    assertThat(seen).containsExactly(r, approved);
  }

  @Test
  void satisfiedCountsOnlyApprovals() {
    ApprovalRequirement two = requirement(Set.of("approvers"), 2, false, false, false);
    Review yes = new Review("bob", Set.of("approvers"), true, T0, "", false);
    Review no = new Review("carol", Set.of("approvers"), false, T0, "", false);
    Review yesAgain = new Review("bob", Set.of("approvers"), true, T0, "", false);

    assertThat(Approvals.satisfied(two, List.of(yes, no))).isFalse();
    assertThat(Approvals.satisfied(two, List.of(yes, yesAgain))).isFalse();
    assertThat(
            Approvals.satisfied(
                two, List.of(yes, new Review("dave", Set.of("approvers"), true, T0, "", false))))
        .isTrue();
  }

  // --- using an approval ---

  private ApprovalRequest approved(String text) {
    ApprovalRequest r = ask(text);
    return approvals.review(r.id(), bob, true, "", false);
  }

  private Optional<ApprovalRequest> use(String text) {
    return approvals.consume("alice", "production", Approvals.binding(KEY, text, List.of()));
  }

  @Test
  void anApprovalIsUsedOnce() {
    ApprovalRequest r = approved("DELETE FROM t WHERE id = 1");
    clock.advance(Duration.ofMinutes(3));

    Optional<ApprovalRequest> used = use("DELETE FROM t WHERE id = 1");

    assertThat(used)
        .hasValueSatisfying(
            u -> {
              assertThat(u.id()).isEqualTo(r.id());
              assertThat(u.status()).isEqualTo(Status.USED);
              assertThat(u.used()).contains(T0.plus(Duration.ofMinutes(3)));
            });
    assertThat(use("DELETE FROM t WHERE id = 1")).isEmpty();
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.USED);
    assertThat(changes).last().isEqualTo(used.get());
  }

  @Test
  void nothingButAnApprovedRequestForExactlyThatStatementIsUsed() {
    ApprovalRequest pending = ask("DELETE FROM t WHERE id = 2");
    approved("DELETE FROM t WHERE id = 1");

    assertThat(use("DELETE FROM t WHERE id = 2")).isEmpty();
    assertThat(use("DELETE FROM t WHERE id = 1 ")).isEmpty();
    assertThat(approvals.consume("bob", "production", pending.binding())).isEmpty();
    String binding = Approvals.binding(KEY, "DELETE FROM t WHERE id = 1", List.of());
    assertThat(approvals.consume("bob", "production", binding)).isEmpty();
    assertThat(approvals.consume("alice", "staging", binding)).isEmpty();
    assertThat(approvals.consume("alice", "production", binding)).isPresent();
  }

  @Test
  void anApprovalNotUsedInTimeExpires() {
    ApprovalRequest r = approved("DELETE FROM t WHERE id = 1");
    clock.advance(Duration.ofHours(1));

    assertThat(use("DELETE FROM t WHERE id = 1")).isEmpty();
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
  }

  @Test
  void deniedAndCancelledRequestsAreNotUsed() {
    ApprovalRequest denied = ask("DELETE FROM a");
    approvals.review(denied.id(), bob, false, "", false);
    ApprovalRequest cancelled = approved("DELETE FROM b");
    approvals.cancel(cancelled.id(), alice);

    assertThat(use("DELETE FROM a")).isEmpty();
    assertThat(use("DELETE FROM b")).isEmpty();
  }

  @Test
  void ofSessionsRacingForOneApprovalExactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int round = 0; round < 50; round++) {
        String text = "DELETE FROM t WHERE id = " + round;
        approved(text);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Optional<ApprovalRequest>>> racers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          racers.add(
              pool.submit(
                  () -> {
                    start.await();
                    return use(text);
                  }));
        }
        start.countDown();
        int winners = 0;
        for (Future<Optional<ApprovalRequest>> f : racers) {
          if (f.get(HANG.toSeconds(), TimeUnit.SECONDS).isPresent()) {
            winners++;
          }
        }
        assertThat(winners).as("round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // --- status ---

  @Test
  void statusTellsTheNewestRequestForTheStatement() {
    String binding = Approvals.binding(KEY, "DROP TABLE t", List.of());
    assertThat(approvals.status("alice", "production", binding)).isEmpty();

    ApprovalRequest first = ask("DROP TABLE t");
    assertThat(approvals.status("alice", "production", binding)).contains(first);

    approvals.review(first.id(), bob, false, "use a migration", false);
    assertThat(approvals.status("alice", "production", binding))
        .hasValueSatisfying(
            r -> {
              assertThat(r.status()).isEqualTo(Status.DENIED);
              assertThat(r.reviews()).last().extracting(Review::reviewer).isEqualTo("bob");
            });

    clock.advance(Duration.ofSeconds(1));
    ApprovalRequest second = ask("DROP TABLE t");
    assertThat(approvals.status("alice", "production", binding)).contains(second);
    assertThat(approvals.status("bob", "production", binding)).isEmpty();
  }

  @Test
  void statusAppliesExpiry() {
    ApprovalRequest r = ask("DROP TABLE t");
    clock.advance(Duration.ofHours(2));

    assertThat(approvals.status("alice", "production", r.binding()))
        .hasValueSatisfying(s -> assertThat(s.status()).isEqualTo(Status.EXPIRED));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
  }

  // --- cancel, list, expiry ---

  @Test
  void onlyTheRequesterCancelsAnOpenRequest() {
    ApprovalRequest r = ask("DROP TABLE t");

    refused(Reason.NOT_REQUESTER, () -> approvals.cancel(r.id(), bob));
    ApprovalRequest cancelled = approvals.cancel(r.id(), alice);

    assertThat(cancelled.status()).isEqualTo(Status.CANCELLED);
    refused(Reason.NOT_PENDING, () -> approvals.cancel(r.id(), alice));
    refused(Reason.NOT_PENDING, () -> approvals.review(r.id(), bob, true, "", false));
    refused(Reason.NOT_FOUND, () -> approvals.cancel("apr_nope", alice));
  }

  @Test
  void expireDueMarksOpenRequestsPastTheirTime() {
    ApprovalRequest pending = ask("DROP TABLE a");
    ApprovalRequest approved = approved("DROP TABLE b");
    ApprovalRequest denied = ask("DROP TABLE c");
    approvals.review(denied.id(), bob, false, "", false);
    clock.advance(Duration.ofMinutes(30));
    ApprovalRequest young = ask("DROP TABLE d");
    assertThat(approvals.expireDue()).isEmpty();

    clock.advance(Duration.ofMinutes(30));
    List<ApprovalRequest> expired = approvals.expireDue();

    assertThat(expired)
        .extracting(ApprovalRequest::id)
        .containsExactlyInAnyOrder(pending.id(), approved.id());
    assertThat(expired).allSatisfy(r -> assertThat(r.status()).isEqualTo(Status.EXPIRED));
    assertThat(approvals.find(denied.id()).orElseThrow().status()).isEqualTo(Status.DENIED);
    assertThat(approvals.find(young.id()).orElseThrow().status()).isEqualTo(Status.PENDING);
    assertThat(approvals.expireDue()).isEmpty();
  }

  @Test
  void listIsTheStoresNewestFirst() {
    ApprovalRequest a = ask("DROP TABLE a");
    clock.advance(Duration.ofSeconds(1));
    ApprovalRequest b = ask("DROP TABLE b");
    approvals.review(b.id(), bob, true, "", false);

    assertThat(approvals.list(ApprovalStore.Filter.all()))
        .extracting(ApprovalRequest::id)
        .containsExactly(b.id(), a.id());
    assertThat(
            approvals.list(
                new ApprovalStore.Filter(
                    List.of(Status.PENDING),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    10)))
        .extracting(ApprovalRequest::id)
        .containsExactly(a.id());
  }

  // --- waiting for a decision ---

  @Test
  void decidedCompletesWhenAReviewerHereDecides() throws Exception {
    ApprovalRequest r = ask("DROP TABLE t");
    CompletableFuture<ApprovalRequest> waiting = approvals.decided(r.id());
    CompletableFuture<ApprovalRequest> other = approvals.decided(r.id());
    assertThat(waiting).isNotDone();

    approvals.review(r.id(), bob, false, "no", false);

    assertThat(waiting.get(HANG.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(Status.DENIED);
    assertThat(other.get(HANG.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(Status.DENIED);
  }

  @Test
  void decidedSeesADecisionMadeByAnotherProcess() throws Exception {
    ApprovalRequest r = ask("DROP TABLE t");
    CompletableFuture<ApprovalRequest> waiting = approvals.decided(r.id());

    // The CLI: its own service over the same store; nothing here is told of its change.
    try (Approvals cli = new Approvals(store, clock, new SecureRandom())) {
      cli.review(r.id(), bob, true, "", false);
    }

    assertThat(waiting.get(HANG.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(Status.APPROVED);
  }

  @Test
  void decidedCompletesAtExpiry() throws Exception {
    ApprovalRequest r = ask("DROP TABLE t");
    CompletableFuture<ApprovalRequest> waiting = approvals.decided(r.id());

    clock.advance(Duration.ofHours(1));

    assertThat(waiting.get(HANG.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(Status.EXPIRED);
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
  }

  @Test
  void decidedOnADecidedRequestCompletesAtOnce() throws Exception {
    ApprovalRequest r = approved("DROP TABLE t");

    assertThat(approvals.decided(r.id()).get(HANG.toSeconds(), TimeUnit.SECONDS)).isEqualTo(r);
  }

  @Test
  void decidedOnAnUnknownIdFails() {
    CompletableFuture<ApprovalRequest> waiting = approvals.decided("apr_unknown");

    assertThatThrownBy(() -> waiting.get(HANG.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(ApprovalException.class)
        .hasMessage("no approval request has the id apr_unknown");
  }

  @Test
  void oneWaiterGivingUpLeavesTheOthersWaiting() throws Exception {
    ApprovalRequest r = ask("DROP TABLE t");
    CompletableFuture<ApprovalRequest> gaveUp = approvals.decided(r.id());
    CompletableFuture<ApprovalRequest> stays = approvals.decided(r.id());

    gaveUp.cancel(false);
    approvals.review(r.id(), bob, true, "", false);

    assertThat(stays.get(HANG.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(Status.APPROVED);
    assertThat(gaveUp).isCancelled();
  }

  @Test
  void closingCancelsTheWaits() {
    ApprovalRequest r = ask("DROP TABLE t");
    CompletableFuture<ApprovalRequest> waiting = approvals.decided(r.id());

    approvals.close();

    assertThat(waiting).isCancelled();
    assertThat(approvals.decided(r.id())).isCompletedExceptionally();
  }

  // --- binding ---

  private static String bind(String text, byte[]... parameters) {
    return Approvals.binding(KEY, text, Arrays.asList(parameters));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theBindingIsAStableKeyedHash() {
    String one = bind("DELETE FROM t WHERE id = $1", b("1"));

    assertThat(one).matches("[0-9a-f]{64}");
    assertThat(bind("DELETE FROM t WHERE id = $1", b("1"))).isEqualTo(one);
    assertThat(
            Approvals.binding(
                "another key of 32 bytes, really!".getBytes(),
                "DELETE FROM t WHERE id = $1",
                List.of(b("1"))))
        .isNotEqualTo(one);
  }

  @Test
  void anyChangeToTheTextOrParametersChangesTheBinding() {
    Set<String> all = new java.util.HashSet<>();
    List<String> bindings =
        List.of(
            bind("DELETE FROM t WHERE id = $1", b("1")),
            bind("DELETE FROM t WHERE id = $1", b("2")),
            bind("DELETE FROM t WHERE id = $1 ", b("1")),
            bind("delete from t where id = $1", b("1")),
            bind("DELETE FROM t WHERE id = $1", (byte[]) null),
            bind("DELETE FROM t WHERE id = $1", b("")),
            bind("DELETE FROM t WHERE id = $1"),
            bind("DELETE FROM t WHERE id = $1", b("1"), b("")),
            bind("DELETE FROM t WHERE id = $1", b("1"), (byte[]) null),
            bind("DELETE FROM t WHERE id = $1", b("ab")),
            bind("DELETE FROM t WHERE id = $1", b("a"), b("b")),
            bind("DELETE FROM t WHERE id = $1a", b("b")),
            bind("DELETE FROM t WHERE id = $", b("1a")),
            bind("x", b(""), (byte[]) null),
            bind("x", null, b("")));
    all.addAll(bindings);

    assertThat(all).hasSameSizeAs(bindings);
  }

  @Test
  void approvedTextWithChangedParametersIsNotUsed() {
    String text = "DELETE FROM t WHERE id = $1";
    ApprovalRequest r =
        approvals.request(
            new Approvals.Draft(
                alice,
                "production",
                "app",
                text,
                "fp",
                bind(text, b("1")),
                "r",
                "why",
                Optional.empty(),
                OptionalLong.empty(),
                ApprovalRequirement.DEFAULT));
    approvals.review(r.id(), bob, true, "", false);

    assertThat(approvals.consume("alice", "production", bind(text, b("2")))).isEmpty();
    assertThat(approvals.consume("alice", "production", bind(text, (byte[]) null))).isEmpty();
    assertThat(approvals.consume("alice", "production", bind(text, b("1")))).isPresent();
  }

  @Test
  void aShortBindingKeyIsRefused() {
    assertThatThrownBy(() -> Approvals.binding(new byte[15], "x", List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the binding key must be at least 16 bytes, got 15");
  }
}

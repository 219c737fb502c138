package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Review;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.ApprovalStore.Filter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link ApprovalStore} passes: the embedded SQLite store now, the shared
 * PostgreSQL store later. A subclass says how to open a handle on the store under test.
 */
public abstract class ApprovalStoreContract {
  protected static final Instant T0 = Instant.parse("2026-03-04T10:00:00Z");

  /** An open store. */
  public interface Handle extends AutoCloseable {
    ApprovalStore approvals();

    @Override
    void close();
  }

  /**
   * Opens a new handle on the store under test. Within one test every handle reaches the same data,
   * as two processes sharing the store would; each test starts with an empty store.
   */
  protected abstract Handle openHandle();

  protected static final ApprovalRequirement STRICT =
      new ApprovalRequirement(
          Set.of("dba", "security team", "/corp/approvers,eu"),
          4,
          true,
          ApprovalRequirement.Wait.HOLD,
          Duration.ofSeconds(90),
          Duration.ofMinutes(45).plusNanos(7),
          true,
          false);

  protected static ApprovalRequest request(
      String id, String requester, String environment, String binding, Instant created) {
    return new ApprovalRequest(
        id,
        requester,
        Set.of("dev"),
        environment,
        "app",
        "DELETE FROM t WHERE id = $1",
        "fp1",
        binding,
        "big-deletes",
        "deletes need approval",
        Optional.empty(),
        OptionalLong.empty(),
        ApprovalRequirement.DEFAULT,
        created,
        created.plus(Duration.ofHours(1)),
        Status.PENDING,
        List.of(),
        Optional.empty());
  }

  protected static ApprovalRequest with(
      ApprovalRequest r, Status status, List<Review> reviews, Optional<Instant> used) {
    return new ApprovalRequest(
        r.id(),
        r.requester(),
        r.requesterGroups(),
        r.environment(),
        r.database(),
        r.statement(),
        r.fingerprint(),
        r.binding(),
        r.rule(),
        r.why(),
        r.reason(),
        r.rows(),
        r.requirement(),
        r.created(),
        r.expires(),
        status,
        reviews,
        used);
  }

  private static Review review(String who, boolean approve, Instant at, boolean breakGlass) {
    return new Review(who, Set.of("dba", "on call"), approve, at, "ok — «fine»\n", breakGlass);
  }

  @Test
  void aNewStoreHasNoRequests() {
    try (Handle h = openHandle()) {
      assertThat(h.approvals().list(Filter.all())).isEmpty();
      assertThat(h.approvals().find("apr_aaaaaaaaaaaa")).isEmpty();
      assertThat(h.approvals().byBinding("alice", "production", "b")).isEmpty();
    }
  }

  @Test
  void createKeepsEveryFieldExactly() {
    Instant created = Instant.parse("2026-03-04T10:00:00.123456789Z");
    ApprovalRequest full =
        new ApprovalRequest(
            "apr_full2345abcd",
            "alice@corp.example",
            Set.of("dev", "/corp/eng,platform", "Ünïcode group", ""),
            "production",
            "app db",
            "UPDATE t SET note = 'x''y\u0000z' WHERE id = 1 -- 😀",
            "fp:abc",
            "0f".repeat(32),
            "schema-changes",
            "changes over 100 rows need approval",
            Optional.of("ticket OPS-1, \"urgent\"\nsecond line"),
            OptionalLong.of(1_234_567_890_123L),
            STRICT,
            created,
            created.plus(STRICT.lifetime()),
            Status.USED,
            List.of(
                review("bob", true, created.plusSeconds(1), false),
                review("carol", true, created.plusNanos(2_000_000_001L), true)),
            Optional.of(created.plusSeconds(3).plusNanos(1)));
    ApprovalRequest bare = request("apr_bare2345abcd", "bob", "staging", "b", T0);
    try (Handle h = openHandle()) {
      h.approvals().create(full);
      h.approvals().create(bare);
      assertThat(h.approvals().find(full.id())).contains(full);
      assertThat(h.approvals().find(bare.id())).contains(bare);
    }
    try (Handle h = openHandle()) {
      assertThat(h.approvals().find(full.id())).contains(full);
      assertThat(h.approvals().list(Filter.all())).containsExactly(full, bare);
    }
  }

  @Test
  void anIdIsUsedOnce() {
    ApprovalRequest first = request("apr_same2345abcd", "alice", "production", "b1", T0);
    ApprovalRequest second = request("apr_same2345abcd", "bob", "staging", "b2", T0.plusSeconds(1));
    try (Handle h = openHandle()) {
      h.approvals().create(first);
      assertThatThrownBy(() -> h.approvals().create(second))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("apr_same2345abcd");
      assertThat(h.approvals().list(Filter.all())).containsExactly(first);
    }
  }

  @Test
  void replaceSwapsOnlyWhatIsStillAsExpected() {
    ApprovalRequest r = request("apr_cas12345abcd", "alice", "production", "b", T0);
    ApprovalRequest approved =
        with(
            r,
            Status.APPROVED,
            List.of(review("bob", true, T0.plusSeconds(5), false)),
            Optional.empty());
    ApprovalRequest denied =
        with(
            r,
            Status.DENIED,
            List.of(review("carol", false, T0.plusSeconds(6), false)),
            Optional.empty());
    ApprovalRequest used =
        with(approved, Status.USED, approved.reviews(), Optional.of(T0.plusSeconds(9)));
    try (Handle h = openHandle()) {
      h.approvals().create(r);

      assertThat(h.approvals().replace(r, approved)).isTrue();
      assertThat(h.approvals().replace(r, denied)).as("stale expectation").isFalse();
      assertThat(h.approvals().find(r.id())).contains(approved);
      assertThat(h.approvals().replace(approved, used)).isTrue();
      assertThat(h.approvals().replace(approved, used)).as("used once").isFalse();
      assertThat(h.approvals().find(r.id())).contains(used);

      ApprovalRequest unknown = request("apr_none2345abcd", "alice", "production", "b", T0);
      assertThat(
              h.approvals()
                  .replace(unknown, with(unknown, Status.USED, List.of(), Optional.empty())))
          .isFalse();
      assertThat(h.approvals().find(unknown.id())).isEmpty();
      assertThatThrownBy(() -> h.approvals().replace(used, unknown))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(h.approvals().find(r.id())).contains(used);
    }
  }

  @Test
  void aChangeMadeThroughAnotherHandleMakesAnExpectationStale() {
    ApprovalRequest r = request("apr_two12345abcd", "alice", "production", "b", T0);
    ApprovalRequest viaCli =
        with(
            r,
            Status.DENIED,
            List.of(review("bob", false, T0.plusSeconds(1), false)),
            Optional.empty());
    try (Handle server = openHandle();
        Handle cli = openHandle()) {
      server.approvals().create(r);
      assertThat(cli.approvals().replace(r, viaCli)).isTrue();

      assertThat(
              server.approvals().replace(r, with(r, Status.CANCELLED, List.of(), Optional.empty())))
          .isFalse();
      assertThat(server.approvals().find(r.id())).contains(viaCli);
    }
  }

  @Test
  void ofRacingReplacementsExactlyOneWins() throws Exception {
    int racers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    List<Handle> handles = new ArrayList<>();
    try {
      for (int i = 0; i < racers; i++) {
        handles.add(openHandle());
      }
      for (int round = 0; round < 10; round++) {
        ApprovalRequest r = request("apr_race" + round + "xyzabcd", "alice", "p", "b", T0);
        handles.getFirst().approvals().create(r);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
          Handle h = handles.get(i);
          ApprovalRequest mine = with(r, Status.USED, List.of(), Optional.of(T0.plusSeconds(i)));
          results.add(
              pool.submit(
                  () -> {
                    start.await();
                    return h.approvals().replace(r, mine);
                  }));
        }
        start.countDown();
        int wins = 0;
        for (Future<Boolean> f : results) {
          wins += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
        }
        assertThat(wins).as("round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
      handles.forEach(Handle::close);
    }
  }

  @Test
  void listIsNewestFirstAndFiltered() {
    ApprovalRequest a = request("apr_aaaa2345abcd", "alice", "production", "b1", T0);
    ApprovalRequest b =
        with(
            request("apr_bbbb2345abcd", "bob", "production", "b2", T0.plusMillis(500)),
            Status.APPROVED,
            List.of(),
            Optional.empty());
    ApprovalRequest c = request("apr_cccc2345abcd", "alice", "staging", "b3", T0.plusSeconds(1));
    // Same instant as c, stored after it: newer.
    ApprovalRequest d =
        with(
            request("apr_dddd2345abcd", "alice", "production", "b4", T0.plusSeconds(1)),
            Status.DENIED,
            List.of(),
            Optional.empty());
    try (Handle h = openHandle()) {
      for (ApprovalRequest r : List.of(a, b, c, d)) {
        h.approvals().create(r);
      }
      ApprovalStore s = h.approvals();

      assertThat(s.list(Filter.all())).containsExactly(d, c, b, a);
      assertThat(s.list(filter(List.of(Status.PENDING), null, null, null, 100)))
          .containsExactly(c, a);
      assertThat(s.list(filter(List.of(Status.APPROVED, Status.DENIED), null, null, null, 100)))
          .containsExactly(d, b);
      assertThat(s.list(filter(List.of(), "alice", null, null, 100))).containsExactly(d, c, a);
      assertThat(s.list(filter(List.of(), null, "production", null, 100))).containsExactly(d, b, a);
      assertThat(s.list(filter(List.of(), "alice", "production", null, 100))).containsExactly(d, a);
      assertThat(s.list(filter(List.of(), null, null, T0.plusMillis(500), 100)))
          .containsExactly(d, c, b);
      assertThat(s.list(filter(List.of(), null, null, T0.plusMillis(501), 100)))
          .containsExactly(d, c);
      assertThat(s.list(filter(List.of(), null, null, null, 2))).containsExactly(d, c);
      assertThat(s.list(filter(List.of(Status.USED), null, null, null, 100))).isEmpty();
      assertThat(s.list(filter(List.of(), "nobody", null, null, 100))).isEmpty();
    }
  }

  @Test
  void timesOrderByInstantNotByHowTheyArePrinted() {
    // 10:00:00Z prints shorter than 10:00:00.5Z; the later one must still list first.
    ApprovalRequest whole = request("apr_whol2345abcd", "alice", "p", "b", T0);
    ApprovalRequest half = request("apr_half2345abcd", "alice", "p", "b", T0.plusMillis(500));
    ApprovalRequest nano = request("apr_nano2345abcd", "alice", "p", "b", T0.plusNanos(1));
    try (Handle h = openHandle()) {
      h.approvals().create(half);
      h.approvals().create(whole);
      h.approvals().create(nano);

      assertThat(h.approvals().list(Filter.all())).containsExactly(half, nano, whole);
      assertThat(h.approvals().byBinding("alice", "p", "b")).containsExactly(half, nano, whole);
      assertThat(h.approvals().list(filter(List.of(), null, null, T0.plusNanos(1), 100)))
          .containsExactly(half, nano);
    }
  }

  @Test
  void byBindingFindsExactlyThatRequesterEnvironmentAndBinding() {
    ApprovalRequest mine = request("apr_mine2345abcd", "alice", "production", "b", T0);
    ApprovalRequest mineLater =
        request("apr_mil22345abcd", "alice", "production", "b", T0.plusSeconds(9));
    List<ApprovalRequest> others =
        List.of(
            request("apr_oth12345abcd", "Alice", "production", "b", T0),
            request("apr_oth22345abcd", "alice", "Production", "b", T0),
            request("apr_oth32345abcd", "alice", "production", "B", T0),
            request("apr_oth42345abcd", "alice", "production", "b ", T0));
    try (Handle h = openHandle()) {
      h.approvals().create(mine);
      others.forEach(h.approvals()::create);
      h.approvals().create(mineLater);

      assertThat(h.approvals().byBinding("alice", "production", "b"))
          .containsExactly(mineLater, mine);
    }
  }

  /** A pending access request of {@code requester} for {@code role} in {@code environment}. */
  protected static ApprovalRequest access(
      String id, String requester, String environment, String role, Instant created) {
    return new ApprovalRequest(
        id,
        requester,
        Set.of("dev"),
        environment,
        "",
        "",
        "",
        "access:" + role,
        "just-in-time",
        "an access window as role " + role + " needs approval",
        Optional.of("INC-7"),
        OptionalLong.empty(),
        ApprovalRequirement.DEFAULT,
        created,
        created.plus(Duration.ofHours(1)),
        Status.PENDING,
        List.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.of(ApprovalRequest.Access.asked(role, Duration.ofMinutes(90))));
  }

  /** {@code r} approved at {@code at}, its window open from then. */
  protected static ApprovalRequest opened(ApprovalRequest r, Instant at) {
    ApprovalRequest.Access window = r.access().orElseThrow().openedAt(at);
    return new ApprovalRequest(
        r.id(),
        r.requester(),
        r.requesterGroups(),
        r.environment(),
        r.database(),
        r.statement(),
        r.fingerprint(),
        r.binding(),
        r.rule(),
        r.why(),
        r.reason(),
        r.rows(),
        r.requirement(),
        r.created(),
        window.end().orElseThrow(),
        Status.APPROVED,
        List.of(new Review("bob", Set.of("approvers"), true, at, "", false)),
        Optional.empty(),
        r.requesterOnBehalfOf(),
        Optional.of(window));
  }

  @Test
  void anAccessRequestKeepsItsKindRoleDurationAndWindow() {
    try (Handle h = openHandle()) {
      ApprovalRequest asked = access("apr_acc12345abcd", "alice", "production", "writer", T0);
      h.approvals().create(asked);
      assertThat(h.approvals().find(asked.id())).contains(asked);
      assertThat(h.approvals().find(asked.id()).orElseThrow().kind())
          .isEqualTo(ApprovalRequest.Kind.ACCESS);

      ApprovalRequest open = opened(asked, T0.plusSeconds(60).plusNanos(5));
      assertThat(h.approvals().replace(asked, open)).isTrue();
      ApprovalRequest read = h.approvals().find(asked.id()).orElseThrow();
      assertThat(read).isEqualTo(open);
      assertThat(read.access().orElseThrow().end())
          .contains(T0.plusSeconds(60 + 90 * 60).plusNanos(5));
    }
  }

  @Test
  void listFiltersByKind() {
    try (Handle h = openHandle()) {
      ApprovalRequest statement = request("apr_stm12345abcd", "alice", "production", "b", T0);
      ApprovalRequest access = access("apr_acc12345abcd", "alice", "production", "writer", T0);
      h.approvals().create(statement);
      h.approvals().create(access);
      Filter all = Filter.all();
      assertThat(h.approvals().list(all)).containsExactlyInAnyOrder(statement, access);
      assertThat(
              h.approvals()
                  .list(
                      new Filter(
                          List.of(),
                          Optional.empty(),
                          Optional.empty(),
                          Optional.empty(),
                          100,
                          Optional.of(ApprovalRequest.Kind.ACCESS))))
          .containsExactly(access);
      assertThat(
              h.approvals()
                  .list(
                      new Filter(
                          List.of(),
                          Optional.empty(),
                          Optional.empty(),
                          Optional.empty(),
                          100,
                          Optional.of(ApprovalRequest.Kind.STATEMENT))))
          .containsExactly(statement);
    }
  }

  @Test
  void openWindowsAreTheApprovedAccessRequestsWhoseWindowHoldsTheTimeEndingLastFirst() {
    try (Handle h = openHandle()) {
      ApprovalRequest early = access("apr_acc1aaaaaaaa", "alice", "production", "writer", T0);
      ApprovalRequest late = access("apr_acc2aaaaaaaa", "alice", "production", "admin", T0);
      ApprovalRequest elsewhere = access("apr_acc3aaaaaaaa", "alice", "staging", "writer", T0);
      ApprovalRequest bobs = access("apr_acc4aaaaaaaa", "bob", "production", "writer", T0);
      ApprovalRequest pending = access("apr_acc5aaaaaaaa", "alice", "production", "writer", T0);
      for (ApprovalRequest r : List.of(early, late, elsewhere, bobs, pending)) {
        h.approvals().create(r);
      }
      ApprovalRequest earlyOpen = opened(early, T0);
      ApprovalRequest lateOpen = opened(late, T0.plusSeconds(600));
      ApprovalRequest elsewhereOpen = opened(elsewhere, T0);
      ApprovalRequest bobsOpen = opened(bobs, T0);
      assertThat(h.approvals().replace(early, earlyOpen)).isTrue();
      assertThat(h.approvals().replace(late, lateOpen)).isTrue();
      assertThat(h.approvals().replace(elsewhere, elsewhereOpen)).isTrue();
      assertThat(h.approvals().replace(bobs, bobsOpen)).isTrue();
      ApprovalStore store = h.approvals();
      Instant inBoth = T0.plusSeconds(700);

      assertThat(store.openWindows(Optional.of("alice"), Optional.of("production"), inBoth))
          .containsExactly(lateOpen, earlyOpen);
      assertThat(store.openWindows(Optional.empty(), Optional.empty(), inBoth))
          .containsExactlyInAnyOrder(lateOpen, earlyOpen, elsewhereOpen, bobsOpen);
      // Before a window's start, and from its end on, it is not open.
      assertThat(store.openWindows(Optional.of("alice"), Optional.of("production"), T0))
          .containsExactly(earlyOpen);
      Instant earlyEnd = earlyOpen.access().orElseThrow().end().orElseThrow();
      assertThat(store.openWindows(Optional.of("alice"), Optional.of("production"), earlyEnd))
          .containsExactly(lateOpen);
      // A window no longer approved (ended, withdrawn) is not open.
      ApprovalRequest used =
          new ApprovalRequest(
              lateOpen.id(),
              lateOpen.requester(),
              lateOpen.requesterGroups(),
              lateOpen.environment(),
              lateOpen.database(),
              lateOpen.statement(),
              lateOpen.fingerprint(),
              lateOpen.binding(),
              lateOpen.rule(),
              lateOpen.why(),
              lateOpen.reason(),
              lateOpen.rows(),
              lateOpen.requirement(),
              lateOpen.created(),
              lateOpen.expires(),
              Status.CANCELLED,
              lateOpen.reviews(),
              Optional.empty(),
              Optional.empty(),
              lateOpen.access().map(a -> a.endedAt(T0.plusSeconds(650))));
      assertThat(store.replace(lateOpen, used)).isTrue();
      assertThat(store.openWindows(Optional.of("alice"), Optional.of("production"), inBoth))
          .containsExactly(earlyOpen);
      // Statements' approvals are never windows.
      assertThat(store.openWindows(Optional.empty(), Optional.of("production"), inBoth))
          .doesNotContain(used)
          .allMatch(r -> r.kind() == ApprovalRequest.Kind.ACCESS);
    }
  }

  protected static Filter filter(
      List<Status> status, String requester, String environment, Instant since, int limit) {
    return new Filter(
        status,
        Optional.ofNullable(requester),
        Optional.ofNullable(environment),
        Optional.ofNullable(since),
        limit);
  }
}

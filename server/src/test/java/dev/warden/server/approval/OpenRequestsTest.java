package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.store.embedded.EmbeddedStore;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-memory index of open approval requests, over the embedded store: read from the store when
 * made, kept current by every change of this process, and asked without the store; a requester with
 * nothing open costs not even the binding's hash.
 */
class OpenRequestsTest {
  private static final byte[] KEY = new byte[32];
  private static final Identity ALICE =
      new Identity("alice", Set.of("dev"), AuthMethod.SCRAM_SHA_256);
  private static final Identity BOB =
      new Identity("bob", Set.of("approvers"), AuthMethod.SCRAM_SHA_256);

  @TempDir Path data;
  private EmbeddedStore store;
  private Approvals approvals;

  private Approvals approvals() {
    store = EmbeddedStore.open(data, "test", Clock.systemUTC());
    approvals = new Approvals(store.approvals(), Clock.systemUTC(), new SecureRandom());
    return approvals;
  }

  @AfterEach
  void close() throws Exception {
    if (approvals != null) {
      approvals.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private static String binding(String text) {
    return Approvals.binding(KEY, text, List.of());
  }

  private ApprovalRequest request(String text) {
    return approvals.request(
        new Approvals.Draft(
            ALICE,
            "prod",
            "shop",
            text,
            "fp",
            binding(text),
            "production-row-limit",
            "it changed more than 1000 rows",
            Optional.empty(),
            OptionalLong.of(1500),
            ApprovalRequirement.DEFAULT));
  }

  private static Supplier<String> never() {
    return () -> {
      throw new AssertionError("the binding was computed for a requester with nothing open");
    };
  }

  @Test
  void followsEachRequestFromPendingThroughApprovedToUsed() {
    OpenRequests open = OpenRequests.of(approvals());
    String delete = "DELETE FROM items WHERE id <= 1500";
    assertThat(open.mayHave("alice", "prod", never())).isFalse();

    ApprovalRequest made = request(delete);
    assertThat(open.mayHave("alice", "prod", () -> binding(delete))).isTrue();
    assertThat(open.mayHave("alice", "prod", () -> binding(delete + " "))).isFalse();
    assertThat(open.mayHave("alice", "staging", never())).isFalse();
    assertThat(open.mayHave("bob", "prod", never())).isFalse();

    approvals.review(made.id(), BOB, true, "", false);
    assertThat(open.mayHave("alice", "prod", () -> binding(delete))).isTrue();

    assertThat(approvals.consume("alice", "prod", binding(delete))).isPresent();
    assertThat(open.mayHave("alice", "prod", never())).isFalse();
  }

  @Test
  void aDeniedOrCancelledRequestLeavesIt() {
    OpenRequests open = OpenRequests.of(approvals());
    ApprovalRequest denied = request("UPDATE a");
    ApprovalRequest cancelled = request("UPDATE b");
    approvals.review(denied.id(), BOB, false, "no", false);
    assertThat(open.mayHave("alice", "prod", () -> binding("UPDATE a"))).isFalse();
    assertThat(open.mayHave("alice", "prod", () -> binding("UPDATE b"))).isTrue();
    approvals.cancel(cancelled.id(), ALICE);
    assertThat(open.mayHave("alice", "prod", never())).isFalse();
  }

  @Test
  void madeLaterItReadsTheOpenRequestsFromTheStore() {
    approvals();
    ApprovalRequest pending = request("DELETE a");
    ApprovalRequest approved = request("DELETE b");
    approvals.review(approved.id(), BOB, true, "", false);
    ApprovalRequest denied = request("DELETE c");
    approvals.review(denied.id(), BOB, false, "", false);
    assertThat(pending.status()).isEqualTo(ApprovalRequest.Status.PENDING);

    OpenRequests open = OpenRequests.of(approvals);
    assertThat(open.mayHave("alice", "prod", () -> binding("DELETE a"))).isTrue();
    assertThat(open.mayHave("alice", "prod", () -> binding("DELETE b"))).isTrue();
    assertThat(open.mayHave("alice", "prod", () -> binding("DELETE c"))).isFalse();
  }

  @Test
  void tooManyOpenToReadAtOnceAnswersMaybeForEveryone() {
    OpenRequests open = new OpenRequests();
    ApprovalRequest one = approvalsWithOne();
    open.load(java.util.Collections.nCopies(OpenRequests.LOAD_LIMIT, one));
    assertThat(open.mayHave("carol", "prod", () -> binding("anything"))).isTrue();
  }

  private ApprovalRequest approvalsWithOne() {
    approvals();
    return request("DELETE d");
  }
}

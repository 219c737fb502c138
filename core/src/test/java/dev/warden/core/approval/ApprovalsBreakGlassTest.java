package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalException.Reason;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests for a statement a guardrail denies ({@link ApprovalRequirement#breakGlassOnly}): only a
 * break-glass approval, with its justification, by an approver who is not the requester, lets it
 * through; an ordinary approval is refused and changes nothing; a denial works as for any request.
 */
class ApprovalsBreakGlassTest {
  private static final Instant T0 = Instant.parse("2026-03-04T10:00:00Z");
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();
  private static final ApprovalRequirement ONLY_BREAK_GLASS =
      ApprovalRequirement.breakGlassOnly(Set.of("approvers"), Duration.ofHours(1));

  private final InMemoryApprovalStore store = new InMemoryApprovalStore();
  private final Approvals approvals = new Approvals(store, new TestClock(T0), new SecureRandom());

  private final Identity alice = person("alice", "dev", "approvers");
  private final Identity bob = person("bob", "approvers");
  private final Identity carol = person("carol", "approvers");
  private final Identity eve = person("eve", "dev");

  @AfterEach
  void close() {
    approvals.close();
  }

  private static Identity person(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.SCRAM_SHA_256);
  }

  private ApprovalRequest ask(String text, Optional<String> reason) {
    return approvals.request(
        new Approvals.Draft(
            alice,
            "production",
            "app",
            text,
            "fp",
            Approvals.binding(KEY, text, List.of()),
            "production-drop",
            "Warden refused this statement: DROP is not allowed in production",
            reason,
            OptionalLong.empty(),
            ONLY_BREAK_GLASS));
  }

  private static void refused(Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOf(ApprovalException.class)
        .satisfies(e -> assertThat(((ApprovalException) e).reason()).isEqualTo(reason));
  }

  @Test
  void anOrdinaryApprovalIsRefusedAndChangesNothing() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    assertThatThrownBy(() -> approvals.review(r.id(), bob, true, "looks fine", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.BREAK_GLASS_REQUIRED);
              assertThat(e.getMessage())
                  .contains("production-drop")
                  .contains("only a break-glass approval")
                  .contains(r.id());
            });
    assertThat(store.find(r.id()).orElseThrow()).isEqualTo(r);
  }

  @Test
  void breakGlassWithoutAJustificationIsRefused() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    refused(Reason.JUSTIFICATION_REQUIRED, () -> approvals.review(r.id(), bob, true, "  ", true));
    refused(Reason.JUSTIFICATION_REQUIRED, () -> approvals.review(r.id(), bob, true, null, true));
    assertThat(store.find(r.id()).orElseThrow()).isEqualTo(r);
  }

  @Test
  void breakGlassWithAJustificationApprovesAloneAndIsMarked() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    ApprovalRequest done = approvals.review(r.id(), bob, true, "INC-9: table is corrupt", true);
    assertThat(done.status()).isEqualTo(Status.APPROVED);
    assertThat(done.reviews())
        .singleElement()
        .satisfies(
            rv -> {
              assertThat(rv.reviewer()).isEqualTo("bob");
              assertThat(rv.breakGlass()).isTrue();
              assertThat(rv.comment()).isEqualTo("INC-9: table is corrupt");
            });
    String binding = Approvals.binding(KEY, "DROP TABLE t", List.of());
    assertThat(approvals.consume("alice", "production", binding)).isPresent();
    assertThat(approvals.consume("alice", "production", binding)).as("once").isEmpty();
  }

  @Test
  void theRequesterNeverApprovesNotEvenAsBreakGlass() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    refused(Reason.SELF_REVIEW, () -> approvals.review(r.id(), alice, true, "urgent", true));
    refused(Reason.SELF_REVIEW, () -> approvals.review(r.id(), alice, true, "", false));
    assertThat(store.find(r.id()).orElseThrow().status()).isEqualTo(Status.PENDING);
  }

  @Test
  void onlyTheApproverGroupsMayBreakTheGlass() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    refused(Reason.NOT_AN_APPROVER, () -> approvals.review(r.id(), eve, true, "urgent", true));
  }

  @Test
  void anyApproverMayDenyItWithoutBreakGlass() {
    ApprovalRequest r = ask("DROP TABLE t", Optional.of("INC-9"));
    ApprovalRequest denied = approvals.review(r.id(), carol, false, "restore instead", false);
    assertThat(denied.status()).isEqualTo(Status.DENIED);
    refused(Reason.NOT_PENDING, () -> approvals.review(r.id(), bob, true, "urgent", true));
  }

  @Test
  void noRequestIsMadeWithoutAReason() {
    refused(Reason.REASON_REQUIRED, () -> ask("DROP TABLE t", Optional.empty()));
    refused(Reason.REASON_REQUIRED, () -> ask("DROP TABLE t", Optional.of("   ")));
    assertThat(approvals.list(ApprovalStore.Filter.all())).isEmpty();
  }
}

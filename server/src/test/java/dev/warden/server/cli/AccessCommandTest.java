package dev.warden.server.cli;

import static dev.warden.server.api.ApprovalFixture.ALICE;
import static dev.warden.server.api.ApprovalFixture.BOB;
import static dev.warden.server.api.ApprovalFixture.PASSWORD_SUFFIX;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.server.api.ApprovalFixture;
import dev.warden.server.audit.AuditJson;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden access} against a running REST API over a real embedded store. */
class AccessCommandTest {
  @TempDir Path dir;
  private ApprovalFixture f;

  @BeforeEach
  void start() throws Exception {
    f = new ApprovalFixture(dir.resolve("data"));
  }

  @AfterEach
  void stop() {
    f.close();
  }

  /** {@code warden ARGS --server URL --as USER}, the password on standard input. */
  private CliRun as(String user, String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--server";
    all[args.length + 1] = f.server();
    all[args.length + 2] = "--as";
    all[args.length + 3] = user;
    return CliRun.run(dir, user + PASSWORD_SUFFIX + "\n", all);
  }

  private List<ApprovalRequest> stored() {
    return f.approvals.list(ApprovalStore.Filter.all());
  }

  @Test
  void requestListApproveAndCancel() {
    CliRun asked =
        as(
            ALICE,
            "access",
            "request",
            "--env",
            "production",
            "--role",
            "writer",
            "--for",
            "1h",
            "--reason",
            "INC-42: fix the orders");
    assertThat(asked.exitCode()).as(asked.err()).isZero();
    ApprovalRequest r = stored().getFirst();
    assertThat(asked.out())
        .startsWith("requested " + r.id() + ": role writer in production for 1h")
        .contains("1 approval from approvers")
        .contains("warden approvals approve " + r.id());
    assertThat(r.access().orElseThrow().role()).isEqualTo("writer");
    assertThat(r.reason()).contains("INC-42: fix the orders");

    CliRun pending = as(ALICE, "access", "list");
    assertThat(pending.exitCode()).as(pending.err()).isZero();
    assertThat(pending.out().split("\n")[0])
        .contains("ID", "STATUS", "ENV", "ROLE", "FOR", "WINDOW");
    assertThat(pending.out().split("\n")[1])
        .startsWith(r.id())
        .contains("pending", "production", "writer", "1h", "waits for 1 approval from approvers");

    // Reviewers see the kind, role and duration among approval requests.
    CliRun shown = as(BOB, "approvals", "show", r.id());
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    assertThat(shown.out())
        .contains("kind:        access")
        .contains("role:        writer")
        .contains("duration:    1h from approval")
        .doesNotContain("statement:");
    CliRun listed = as(BOB, "approvals", "list");
    assertThat(listed.out()).contains("access: role writer for 1h");
    CliRun approved = as(BOB, "approvals", "approve", r.id());
    assertThat(approved.exitCode()).as(approved.err()).isZero();
    assertThat(approved.out()).contains("approved " + r.id()).contains("log in as writer until");

    f.clock.advance(Duration.ofMinutes(15));
    CliRun open = as(ALICE, "access", "list");
    assertThat(open.out()).contains("approved").contains("open, 45m left (until ");

    CliRun cancelled = as(ALICE, "access", "cancel", r.id());
    assertThat(cancelled.exitCode()).as(cancelled.err()).isZero();
    assertThat(cancelled.out()).contains("ended the window " + r.id() + " for role writer");
    assertThat(f.approvals.find(r.id()).orElseThrow().status()).isEqualTo(Status.CANCELLED);
    assertThat(as(ALICE, "access", "list").out()).contains("cancelled").contains("ended ");
  }

  @Test
  void waitWaitsForTheDecisionAndSaysWhoDenied() throws Exception {
    CompletableFuture<CliRun> waiting =
        CompletableFuture.supplyAsync(
            () ->
                as(
                    ALICE,
                    "access",
                    "request",
                    "--env",
                    "production",
                    "--role",
                    "writer",
                    "--for",
                    "30m",
                    "--reason",
                    "INC-43",
                    "--wait"));
    ApprovalRequest r = awaitStored();
    f.approvals.review(
        r.id(), ApprovalFixture.identity(BOB, "approvers"), false, "use the job", false);
    CliRun denied = waiting.get();
    assertThat(denied.exitCode()).isEqualTo(Main.FAILED);
    assertThat(denied.err()).contains(r.id() + " was not approved: denied by bob: use the job");

    CompletableFuture<CliRun> again =
        CompletableFuture.supplyAsync(
            () ->
                as(
                    ALICE,
                    "access",
                    "request",
                    "--env",
                    "production",
                    "--role",
                    "writer",
                    "--for",
                    "30m",
                    "--reason",
                    "INC-43",
                    "--wait",
                    "--json"));
    ApprovalRequest second = awaitNewerThan(r);
    f.approvals.review(second.id(), ApprovalFixture.identity(BOB, "approvers"), true, "", false);
    CliRun approved = again.get();
    assertThat(approved.exitCode()).as(approved.err()).isZero();
    @SuppressWarnings("unchecked")
    Map<String, Object> json = (Map<String, Object>) new AuditJson().read(approved.out().strip());
    assertThat(json).containsEntry("status", "approved").containsEntry("kind", "access");
  }

  @Test
  void mistakesAreCaughtBeforeAnyRequestAndRefusalsAreShownAsTheServerWordsThem() {
    CliRun badLength =
        as(
            ALICE,
            "access",
            "request",
            "--env",
            "production",
            "--role",
            "writer",
            "--for",
            "an hour",
            "--reason",
            "x");
    assertThat(badLength.exitCode()).isEqualTo(Main.USAGE);
    assertThat(badLength.err()).contains("--for:").contains("not a duration");
    CliRun noReason =
        as(ALICE, "access", "request", "--env", "production", "--role", "writer", "--for", "1h");
    assertThat(noReason.exitCode()).isEqualTo(Main.USAGE);
    CliRun tooLong =
        as(
            ALICE,
            "access",
            "request",
            "--env",
            "production",
            "--role",
            "writer",
            "--for",
            "5h",
            "--reason",
            "x");
    assertThat(tooLong.exitCode()).isEqualTo(Main.FAILED);
    assertThat(tooLong.err()).contains("at most 2h");
    CliRun badId = as(ALICE, "access", "cancel", "nope");
    assertThat(badId.exitCode()).isEqualTo(Main.USAGE);
    assertThat(badId.err()).contains("'nope' is not a request id; they look like apr_");
    assertThat(stored()).isEmpty();
    assertThat(as(ALICE, "access", "list").out()).isEqualTo("No access requests.\n");
  }

  private ApprovalRequest awaitStored() throws InterruptedException {
    return awaitNewerThan(null);
  }

  private ApprovalRequest awaitNewerThan(ApprovalRequest before) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<ApprovalRequest> newest =
          stored().stream()
              .filter(r -> r.status() == Status.PENDING)
              .filter(r -> before == null || !r.id().equals(before.id()))
              .findFirst();
      if (newest.isPresent()) {
        return newest.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no pending request appeared");
  }
}

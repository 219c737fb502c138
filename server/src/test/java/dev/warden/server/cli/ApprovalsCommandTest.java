package dev.warden.server.cli;

import static dev.warden.server.api.ApprovalFixture.ALICE;
import static dev.warden.server.api.ApprovalFixture.BOB;
import static dev.warden.server.api.ApprovalFixture.PASSWORD_SUFFIX;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.audit.AuditEvent;
import dev.warden.server.api.ApprovalFixture;
import dev.warden.server.audit.AuditJson;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code warden approvals} against a running REST API over a real embedded store. */
class ApprovalsCommandTest {
  @TempDir Path dir;
  private ApprovalFixture f;
  private final AuditJson json = new AuditJson();

  @BeforeEach
  void start() throws Exception {
    f = new ApprovalFixture(dir.resolve("data"));
  }

  @AfterEach
  void stop() {
    f.close();
  }

  /** Runs {@code warden approvals ...} with {@code stdin}, as Main would once it registers it. */
  private CliRun run(String stdin, Map<String, String> environment, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Terminal terminal =
        new Terminal(
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            environment,
            dir,
            Optional.empty());
    CommandLine line = Main.commandLine(terminal);
    if (!line.getSubcommands().containsKey("approvals")) {
      line.addSubcommand(ApprovalsCommand.command(terminal));
      // As Main does after registering its commands: they then write to the terminal.
      line.setOut(new java.io.PrintWriter(terminal.out(), true, StandardCharsets.UTF_8));
      line.setErr(new java.io.PrintWriter(terminal.err(), true, StandardCharsets.UTF_8));
    }
    int code = line.execute(args);
    return new CliRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** As {@code user}, the password on standard input. */
  private CliRun as(String user, String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--server";
    all[args.length + 1] = f.server();
    all[args.length + 2] = "--as";
    all[args.length + 3] = user;
    return run(user + PASSWORD_SUFFIX + "\n", Map.of(), all);
  }

  private Status stored(String id) {
    return f.approvals.find(id).orElseThrow().status();
  }

  @Test
  void aReviewerListsPendingRequestsAsATableOrJson() {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE orders ADD COLUMN note text");

    CliRun table = as(BOB, "approvals", "list");
    assertThat(table.exitCode()).as(table.err()).isZero();
    String[] lines = table.out().split("\n");
    assertThat(lines[0]).startsWith("ID").contains("STATUS", "REQUESTER", "ENV", "RULE");
    assertThat(lines[1])
        .startsWith(r.id())
        .contains("pending", "alice", "production", "2026-11-01T12:00:00Z", "prod-ddl")
        .contains("ALTER TABLE orders ADD COLUMN note text");

    CliRun jsonLines = as(BOB, "approvals", "list", "--json");
    assertThat(jsonLines.exitCode()).isZero();
    @SuppressWarnings("unchecked")
    Map<String, Object> one = (Map<String, Object>) json.read(jsonLines.out().strip());
    assertThat(one).containsEntry("id", r.id()).containsEntry("requester", ALICE);

    CliRun none = as(BOB, "approvals", "list", "--status", "approved");
    assertThat(none.exitCode()).isZero();
    assertThat(none.out()).isEqualTo("No approved approval requests.\n");
  }

  @Test
  void showPrintsEveryFactAReviewerNeedsWithTerminalControlsEscaped() {
    ApprovalRequest r = f.aliceAsks("UPDATE t SET a = '\u001b[2J'\nWHERE id = 1");
    CliRun shown = as(BOB, "approvals", "show", r.id());
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    assertThat(shown.out())
        .contains("id:          " + r.id())
        .contains("status:      pending")
        .contains("requester:   alice (developers)")
        .contains("environment: production")
        .contains("database:    shop")
        .contains("rule:        prod-ddl")
        .contains("why:         schema changes in production need an approver")
        .contains("reason:      ticket OPS-12")
        .contains("rows:        3 would change")
        .contains("needs:       1 approval from approvers; break-glass allowed")
        .contains("expires:     2026-11-01T13:00:00Z")
        .contains("statement:\n  UPDATE t SET a = '\\u001B[2J'\n  WHERE id = 1")
        .doesNotContain("\u001b");

    CliRun asJson = as(BOB, "approvals", "show", r.id(), "--json");
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = (Map<String, Object>) json.read(asJson.out().strip());
    assertThat(parsed).containsEntry("id", r.id()).containsEntry("status", "pending");
  }

  @Test
  void anApproverApprovesWithACommentAndTheRequesterIsToldWhatNext() {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    CliRun approved = as(BOB, "approvals", "approve", r.id(), "--comment", "fine by me");
    assertThat(approved.exitCode()).as(approved.err()).isZero();
    assertThat(approved.out())
        .isEqualTo(
            "approved "
                + r.id()
                + ": alice may run the statement once, until 2026-11-01T13:00:00Z\n");
    assertThat(stored(r.id())).isEqualTo(Status.APPROVED);
    AuditEvent event = f.events("approval-approve").getFirst();
    assertThat(event.actor()).isEqualTo(BOB);
    assertThat(event.details()).containsEntry("comment", "fine by me");

    CliRun again = as("carol", "approvals", "approve", r.id());
    assertThat(again.exitCode()).isEqualTo(Main.FAILED);
    assertThat(again.err()).isEqualTo("warden: " + r.id() + " is already approved\n");
  }

  @Test
  void aPartialApprovalSaysWhatIsStillNeeded() {
    ApprovalRequest r =
        f.request(
            ApprovalFixture.identity(ALICE, "developers"),
            "DELETE FROM orders WHERE id < 100",
            ApprovalFixture.requirement(2, false, "approvers"));
    CliRun first = as(BOB, "approvals", "approve", r.id());
    assertThat(first.out())
        .isEqualTo(
            "approval of "
                + r.id()
                + " recorded; 1 so far, it still needs 2 approvals from approvers\n");
    CliRun denied = as("carol", "approvals", "deny", r.id(), "--comment", "too broad", "--json");
    assertThat(denied.exitCode()).isZero();
    @SuppressWarnings("unchecked")
    Map<String, Object> after = (Map<String, Object>) json.read(denied.out().strip());
    assertThat(after).containsEntry("status", "denied");
  }

  @Test
  void selfApprovalAndNonApproversAreRefusedWithTheServersReason() {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    CliRun self = as(ALICE, "approvals", "approve", r.id());
    assertThat(self.exitCode()).isEqualTo(Main.FAILED);
    assertThat(self.err())
        .isEqualTo(
            "warden: alice asked for " + r.id() + " and cannot review it; another approver must\n");
    CliRun outsider = as(ApprovalFixture.DEV, "approvals", "deny", r.id());
    assertThat(outsider.exitCode()).isEqualTo(Main.FAILED);
    assertThat(outsider.err())
        .isEqualTo("warden: dev may not review " + r.id() + ": it needs a member of approvers\n");
    assertThat(stored(r.id())).isEqualTo(Status.PENDING);
  }

  @Test
  void breakGlassNeedsAJustificationBeforeAnyPasswordIsAsked() {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    CliRun bare =
        run(
            "",
            Map.of(),
            "approvals",
            "approve",
            r.id(),
            "--break-glass",
            "--server",
            f.server(),
            "--as",
            BOB);
    assertThat(bare.exitCode()).isEqualTo(Main.USAGE);
    assertThat(bare.err()).contains("--break-glass needs a justification");

    CliRun deny = as(BOB, "approvals", "deny", r.id(), "--break-glass");
    assertThat(deny.exitCode()).isEqualTo(Main.USAGE);
    assertThat(deny.err()).contains("Unknown option: '--break-glass'");

    CliRun glass =
        as(BOB, "approvals", "approve", r.id(), "--break-glass", "--comment", "outage INC-7");
    assertThat(glass.exitCode()).as(glass.err()).isZero();
    assertThat(f.events("approval-approve").getFirst().details())
        .containsEntry("break_glass", "true");
  }

  @Test
  void theRequesterCancelsThroughThePasswordInTheEnvironment() {
    ApprovalRequest r = f.aliceAsks("ALTER TABLE t ADD c int");
    CliRun cancelled =
        run(
            "",
            Map.of("WARDEN_PASSWORD", ALICE + PASSWORD_SUFFIX, "WARDEN_USER", ALICE),
            "approvals",
            "cancel",
            r.id(),
            "--server",
            f.server());
    assertThat(cancelled.exitCode()).as(cancelled.err()).isZero();
    assertThat(cancelled.out()).isEqualTo("cancelled " + r.id() + "\n");
    assertThat(stored(r.id())).isEqualTo(Status.CANCELLED);
  }

  @Test
  void mistakesAreClearErrors() {
    CliRun badId = as(BOB, "approvals", "show", "1234");
    assertThat(badId.exitCode()).isEqualTo(Main.USAGE);
    assertThat(badId.err()).contains("'1234' is not an approval request id");

    CliRun missing = as(BOB, "approvals", "show", "apr_nosuchrequest");
    assertThat(missing.exitCode()).isEqualTo(Main.FAILED);
    assertThat(missing.err())
        .isEqualTo("warden: no approval request has the id apr_nosuchrequest\n");

    CliRun wrong =
        run(
            "not the password\n",
            Map.of(),
            "approvals",
            "list",
            "--server",
            f.server(),
            "--as",
            BOB);
    assertThat(wrong.exitCode()).isEqualTo(Main.FAILED);
    assertThat(wrong.err()).startsWith("warden: the server refused the login");

    CliRun flag = as(BOB, "approvals", "list", "--password", "x");
    assertThat(flag.exitCode()).isEqualTo(Main.USAGE);

    CliRun status = as(BOB, "approvals", "list", "--status", "pending;drop");
    assertThat(status.exitCode()).isEqualTo(Main.USAGE);

    CliRun noUser = run("", Map.of(), "approvals", "list", "--server", f.server());
    assertThat(noUser.exitCode()).isEqualTo(Main.USAGE);
    assertThat(noUser.err()).contains("--as NAME");

    CliRun noSub = run("", Map.of(), "approvals");
    assertThat(noSub.exitCode()).isEqualTo(Main.USAGE);
    assertThat(noSub.err()).contains("missing subcommand");
  }

  @Test
  void aServerThatIsNotThereIsSaidSo() {
    f.api.close();
    CliRun down = as(BOB, "approvals", "list");
    assertThat(down.exitCode()).isEqualTo(Main.FAILED);
    assertThat(down.err()).startsWith("warden: cannot reach Warden's API at http://127.0.0.1:");
  }
}

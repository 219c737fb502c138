package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.Redactor;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's {@link ApprovalGate}: looks for an approved request for exactly the statement and
 * parameters (and uses it, once), lets the policy's automatic approval rules decide with the rows a
 * change would change, or makes a request and refuses the statement with its id and what to do (or,
 * in hold mode, waits for the reviewers' decision). Runs on virtual threads, never the caller's.
 *
 * <p>A statement a {@code break_glass} deny rule refused ({@link
 * ApprovalRequirement#breakGlassOnly()}) is refused at once, as the rule words it and with a hint
 * on asking for break-glass, when the requester gave no reason: no request, nothing stored. With a
 * reason, a request is made (never approved automatically, its rows measured only where a
 * rolled-back run undoes everything) for a reviewer to let it through once as break-glass.
 *
 * <p>A change that went over a row limit whose rule lets it wait for approval ({@link
 * Decision#rowLimitApproval()}) is asked about with the rows it changed, already rolled back by the
 * proxy (or kept, when an automatic approval approves it); such requests are never held. Sent
 * again, the statement looks for its approval in an index of open requests in memory ({@link
 * #mayHaveApproval}), so that the statements without one cost no store query, and uses it ({@link
 * #useApproval}) to run once without the limit.
 */
public final class ApprovalGateway implements ApprovalGate, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApprovalGateway.class);

  /** {@code /* reason: ... *}{@code /} anywhere in the text gives the requester's reason. */
  private static final Pattern REASON =
      Pattern.compile("/\\*\\s*reason\\s*:\\s*(.{1,1000}?)\\s*\\*/", Pattern.CASE_INSENSITIVE);

  /**
   * Automatic approval: the name of the policy rule that approves this statement without a person,
   * given the rows it would change (-1 when not measured) and the requester's reason, if any.
   */
  @FunctionalInterface
  public interface AutoApprover {
    AutoApprover NONE = (decision, session, rows, reason) -> Optional.empty();

    Optional<String> approve(
        Decision decision, SessionContext session, long rows, Optional<String> reason);
  }

  /**
   * Measures the rows a change would change by running it where it can be undone and rolling it
   * back; empty when it cannot be measured (not a single change, parameters, an error).
   */
  @FunctionalInterface
  public interface RowCounter {
    RowCounter NONE = (session, decision, text, parameters) -> OptionalLong.empty();

    OptionalLong count(
        SessionContext session, Decision decision, String text, List<byte[]> parameters);
  }

  private final Approvals approvals;
  private final byte[] bindingKey;
  private final Redactor redactor;
  private final AutoApprover autoApprover;
  private final RowCounter rows;
  private final Optional<URI> links;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final OpenRequests open;

  /**
   * @param approvals the requests and their rules
   * @param bindingKey the secret that keys {@link Approvals#binding}, the same across restarts
   * @param redactor what reviewers see of a statement is redacted as the audit trail stores it
   * @param autoApprover the policy's automatic approvals
   * @param rows measures a change's rows
   * @param links where reviewers open a request ({@code links/ID}), when Warden has an address for
   *     people
   */
  public ApprovalGateway(
      Approvals approvals,
      byte[] bindingKey,
      Redactor redactor,
      AutoApprover autoApprover,
      RowCounter rows,
      Optional<URI> links) {
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.bindingKey = bindingKey.clone();
    this.redactor = Objects.requireNonNull(redactor, "redactor");
    this.autoApprover = Objects.requireNonNull(autoApprover, "autoApprover");
    this.rows = Objects.requireNonNull(rows, "rows");
    this.links = Objects.requireNonNull(links, "links");
    this.open = OpenRequests.of(approvals);
  }

  @Override
  public CompletableFuture<Answer> check(Question question) {
    if (question.requirement().breakGlassOnly()
        && reason(question.text()).or(question::reason).filter(r -> !r.isBlank()).isEmpty()) {
      // A guardrail's denial, and no reason to put before a reviewer: refused as the guardrail
      // words it, at once, with nothing stored; the hint says how to ask for break-glass.
      return CompletableFuture.completedFuture(
          new Answer.Refused(breakGlassHint(question.refusal(), question.requirement()), ""));
    }
    return CompletableFuture.supplyAsync(() -> overLimit(question, decide(question)), executor);
  }

  /**
   * Answered from the index of open requests, without the store: only a statement whose requester
   * has a request open for exactly its text and parameters gets true.
   */
  @Override
  public boolean mayHaveApproval(SessionContext session, String text, List<byte[]> parameters) {
    return open.mayHave(
        session.identity().name(),
        session.environment().name(),
        () -> Approvals.binding(bindingKey, text, parameters));
  }

  @Override
  public CompletableFuture<Optional<Answer.Approved>> useApproval(
      SessionContext session, String text, List<byte[]> parameters) {
    return CompletableFuture.supplyAsync(
        () ->
            approvals
                .consume(
                    session.identity().name(),
                    session.environment().name(),
                    Approvals.binding(bindingKey, text, parameters))
                .map(used -> new Answer.Approved(used.id(), how(used))),
        executor);
  }

  /**
   * The answer about a change that went over its row limit (an allowed statement asked about, see
   * {@link dev.warden.core.gate.Decision#rowLimitApproval()}), worded for it: it changed that many
   * rows and was rolled back, and the request waits; {@code answer} as it is for anything else.
   */
  private static Answer overLimit(Question question, Answer answer) {
    if (!(question.decision().verdict() instanceof Verdict.Allow)
        || !(answer instanceof Answer.Refused no)) {
      return answer;
    }
    Verdict.Deny limit = question.refusal();
    String changed =
        question.rows().isPresent() ? " It changed " + question.rows().getAsLong() + " rows" : "";
    if (no.requestId().isEmpty()) {
      return new Answer.Refused(
          new Verdict.Deny(
              no.deny().sqlState(),
              limit.message()
                  + "."
                  + changed
                  + (changed.isEmpty() ? " " : "; ")
                  + no.deny().message(),
              no.deny().hint()),
          "");
    }
    ApprovalRequirement r = question.requirement();
    return new Answer.Refused(
        new Verdict.Deny(
            no.deny().sqlState(),
            limit.message()
                + "."
                + changed
                + (changed.isEmpty() ? " Request " : ": request ")
                + no.requestId()
                + " waits for "
                + (r.minApprovals() == 1 ? "a reviewer" : r.minApprovals() + " reviewers")
                + " in "
                + String.join(", ", new java.util.TreeSet<>(r.approverGroups()))
                + "; once it is approved, send the same statement again (it runs once, without"
                + " the limit)",
            no.deny().hint().replace("Nothing was run.", "Nothing was changed.")),
        no.requestId());
  }

  /** The guardrail's refusal, its hint followed by how to ask a reviewer for break-glass. */
  static Verdict.Deny breakGlassHint(Verdict.Deny refusal, ApprovalRequirement requirement) {
    String how =
        "A reviewer in "
            + String.join(" or ", new TreeSet<>(requirement.approverGroups()))
            + " can let it through once as break-glass: give your reason, /* reason: ... */ in"
            + " the statement or SET warden.reason = '...' before it, and send it again to make a"
            + " request.";
    return new Verdict.Deny(
        refusal.sqlState(),
        refusal.message(),
        refusal.hint().isBlank() ? how : refusal.hint().strip() + " " + how);
  }

  private Answer decide(Question question) {
    SessionContext session = question.session();
    Decision decision = question.decision();
    String text = question.text();
    List<byte[]> parameters = question.parameters();
    ApprovalRequirement requirement = question.requirement();
    String requester = session.identity().name();
    String environment = session.environment().name();
    String binding = Approvals.binding(bindingKey, text, parameters);
    Optional<ApprovalRequest> used = approvals.consume(requester, environment, binding);
    if (used.isPresent()) {
      return new Answer.Approved(used.get().id(), how(used.get()));
    }
    Optional<String> reason = reason(text).or(question::reason);
    Optional<ApprovalRequest> latest = approvals.status(requester, environment, binding);
    boolean breakGlassOnly = requirement.breakGlassOnly();
    OptionalLong measured;
    if (question.rows().isPresent()) {
      measured = question.rows();
    } else if (latest.filter(r -> r.status() == ApprovalRequest.Status.PENDING).isPresent()) {
      measured = latest.get().rows();
    } else if (breakGlassOnly && !measurable(decision)) {
      measured = OptionalLong.empty();
    } else {
      measured = rows.count(session, decision, text, parameters);
    }
    // What a guardrail denies, only a person lets through.
    Optional<String> auto =
        breakGlassOnly
            ? Optional.empty()
            : autoApprover.approve(decision, session, measured.orElse(-1), reason);
    Approvals.Draft draft =
        new Approvals.Draft(
            session.identity(),
            environment,
            session.database(),
            redactor.redact(text, LexicalSettings.DEFAULT),
            decision.analysis().fingerprint(),
            binding,
            decision.rule(),
            question.refusal().message(),
            reason,
            measured,
            requirement);
    if (auto.isPresent()) {
      ApprovalRequest request = approvals.autoApprove(draft, auto.get());
      return new Answer.Approved(request.id(), "auto-approved by rule " + auto.get());
    }
    ApprovalRequest request;
    try {
      request = approvals.request(draft);
    } catch (ApprovalException e) {
      return new Answer.Refused(
          new Verdict.Deny(
              "42501",
              "Warden refused this statement: it needs approval (rule \""
                  + decision.rule()
                  + "\"), and "
                  + e.getMessage(),
              "Give a reason, e.g. /* reason: the ticket it is for */ in the statement, or"
                  + " SET warden.reason = 'the ticket it is for' before it, and send it again."),
          "");
    }
    if (requirement.waiting() == ApprovalRequirement.Wait.HOLD) {
      return hold(request, requirement, binding, question.notice());
    }
    return refused(request);
  }

  /** Hold mode: the client is told it waits, and the statement runs once the request is decided. */
  private Answer hold(
      ApprovalRequest request,
      ApprovalRequirement requirement,
      String binding,
      Consumer<String> notice) {
    notice.accept(
        "Warden: this statement waits for approval: request "
            + request.id()
            + " (up to "
            + human(requirement.holdTimeout())
            + ")"
            + link(request).map(l -> "; reviewers: " + l).orElse(""));
    CompletableFuture<ApprovalRequest> decided = approvals.decided(request.id());
    ApprovalRequest now;
    try {
      now = decided.get(requirement.holdTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      decided.cancel(false);
      return new Answer.Refused(
          new Verdict.Deny(
              "57014",
              "Warden refused this statement: no reviewer decided on request "
                  + request.id()
                  + " within "
                  + human(requirement.holdTimeout()),
              "Nothing was run. The request stays open until "
                  + request.expires()
                  + "; once it is approved, send the same statement again."),
          request.id());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return refused(request);
    } catch (Exception e) {
      log.warn("waiting for approval request {} failed", request.id(), e);
      return refused(request);
    }
    if (now.status() == ApprovalRequest.Status.APPROVED) {
      Optional<ApprovalRequest> used =
          approvals.consume(request.requester(), request.environment(), binding);
      if (used.isPresent()) {
        return new Answer.Approved(used.get().id(), how(used.get()));
      }
    }
    return refused(now);
  }

  /**
   * Whether a statement a guardrail denied may be measured before a reviewer lets it through: only
   * when a rolled-back run undoes all it does. Not for what runs code Warden cannot see or acts
   * outside the database (dynamic SQL, user functions, side effects, COPY with a program or a
   * server file, ...), which measuring would run before anyone approved it.
   */
  static boolean measurable(Decision decision) {
    for (Statement statement : decision.analysis().statements()) {
      if (!MEASURABLE.containsAll(statement.flags())) {
        return false;
      }
    }
    return true;
  }

  /** The flags of a denied statement that a rolled-back measurement undoes entirely. */
  private static final Set<StatementFlag> MEASURABLE =
      EnumSet.of(StatementFlag.UNBOUNDED, StatementFlag.LOCKS);

  /** The refusal for a request that is not (or no longer) approved. */
  private Answer refused(ApprovalRequest request) {
    String who = String.join(", ", request.requirement().approverGroups());
    boolean breakGlassOnly = request.requirement().breakGlassOnly();
    String message =
        switch (request.status()) {
          case PENDING ->
              breakGlassOnly
                  ? request.why()
                      + "; request "
                      + request.id()
                      + " was made with your reason: only a break-glass approval by a reviewer in "
                      + who
                      + " can let it through; once it is approved, send the same statement again"
                      + " (it runs once)"
                  : "Warden: this statement needs approval (rule \""
                      + request.rule()
                      + "\"): request "
                      + request.id()
                      + " waits for "
                      + (request.requirement().minApprovals() == 1
                          ? "a reviewer"
                          : request.requirement().minApprovals() + " reviewers")
                      + " in "
                      + who
                      + "; once it is approved, send the same statement again (it runs once)";
          case DENIED ->
              "Warden: request "
                  + request.id()
                  + " for this statement was denied"
                  + request.reviews().stream()
                      .filter(r -> !r.approve())
                      .findFirst()
                      .map(
                          r ->
                              " by "
                                  + r.reviewer()
                                  + (r.comment().isBlank() ? "" : ": " + r.comment()))
                      .orElse("");
          case EXPIRED ->
              "Warden: request " + request.id() + " for this statement expired undecided";
          default -> "Warden: request " + request.id() + " for this statement is " + lower(request);
        };
    String hint =
        breakGlassOnly
            ? "Nothing was run. Reviewers: warden approvals approve "
                + request.id()
                + " --break-glass --comment \"justification\""
                + link(request).map(l -> " or " + l).orElse("")
                + "; it is reviewed after the fact."
            : "Nothing was run. Reviewers: warden approvals approve "
                + request.id()
                + link(request).map(l -> " or " + l).orElse("")
                + ". Give a reason with /* reason: ... */ in the statement or SET"
                + " warden.reason = '...' before it.";
    return new Answer.Refused(new Verdict.Deny("42501", message, hint), request.id());
  }

  private Optional<String> link(ApprovalRequest request) {
    return links.map(base -> base.resolve("approvals/" + request.id()).toString());
  }

  /**
   * Who let the statement through, for the audit trail: {@code approved by alice, bob}, or {@code
   * break-glass by carol} when a break-glass approval decided.
   */
  static String how(ApprovalRequest request) {
    Optional<ApprovalRequest.Review> breakGlass =
        request.reviews().stream().filter(r -> r.approve() && r.breakGlass()).findFirst();
    if (breakGlass.isPresent()) {
      return "break-glass by " + breakGlass.get().reviewer();
    }
    List<String> approvers =
        request.reviews().stream()
            .filter(ApprovalRequest.Review::approve)
            .map(ApprovalRequest.Review::reviewer)
            .toList();
    return approvers.isEmpty() ? "approved" : "approved by " + String.join(", ", approvers);
  }

  private static String lower(ApprovalRequest request) {
    return request.status().name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The reason a {@code /* reason: ... *}{@code /} comment gives, if the text has one. */
  static Optional<String> reason(String text) {
    Matcher m = REASON.matcher(text);
    return m.find() ? Optional.of(m.group(1).strip()).filter(r -> !r.isEmpty()) : Optional.empty();
  }

  private static String human(Duration d) {
    if (d.toSeconds() % 3600 == 0) {
      return d.toHours() + " h";
    }
    if (d.toSeconds() % 60 == 0) {
      return d.toMinutes() + " min";
    }
    return d.toSeconds() + " s";
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

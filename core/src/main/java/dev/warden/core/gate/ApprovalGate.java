package dev.warden.core.gate;

import dev.warden.core.approval.ApprovalRequirement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * What a proxy asks when policy says a statement needs approval: has exactly this statement, with
 * exactly these parameters, been approved for this identity (then it runs, once), or is a request
 * to be made (then it is refused, or held until decided)? Protocol-neutral; the server implements
 * it over {@code Approvals}, the policy's automatic approvals and notifications.
 *
 * <p>Answers complete off the caller's thread when they need the store or a reviewer; a proxy holds
 * the statement meanwhile.
 */
public interface ApprovalGate {
  /** No approvals: every statement that needs one is refused as its decision says. */
  ApprovalGate NONE =
      question -> CompletableFuture.completedFuture(new Answer.Refused(question.refusal(), ""));

  /**
   * Decides whether a statement that needs approval may run.
   *
   * @param question what is asked
   */
  CompletableFuture<Answer> check(Question question);

  /**
   * Whether a request for exactly this statement may be open (pending or approved) for {@code
   * session}'s identity in its environment: answered from memory, on the caller's thread, without
   * blocking, for every statement whose change over its row limit would wait for approval ({@link
   * Decision#rowLimitApproval()}). False means there is certainly no approval to use, and the
   * statement runs under its limit; true means {@link #useApproval} is worth asking. Gates that
   * keep no such requests answer false.
   *
   * @param text the statement text exactly as the client sent it
   * @param parameters its bind parameters as sent (null for SQL NULL); empty for simple queries
   */
  default boolean mayHaveApproval(SessionContext session, String text, List<byte[]> parameters) {
    return false;
  }

  /**
   * Uses an approval of exactly this statement, if one is approved and unused: then it runs once,
   * without the row limit it went over when it was asked about. Completes empty when there is none
   * (the statement then runs under its limit). Completes off the caller's thread when it needs the
   * store.
   */
  default CompletableFuture<Optional<Answer.Approved>> useApproval(
      SessionContext session, String text, List<byte[]> parameters) {
    return CompletableFuture.completedFuture(Optional.empty());
  }

  /**
   * What a proxy asks about.
   *
   * @param session who asks, where
   * @param decision the policy's decision for the statement
   * @param requirement which approval it needs: {@code decision.approval()} for a statement policy
   *     makes wait, or another (e.g. for a change over its row limit)
   * @param refusal what the client is told where the statement cannot be approved (the decision's
   *     refusal, or the row limit's)
   * @param text the statement text exactly as the client sent it
   * @param parameters its bind parameters as sent (null for SQL NULL); empty for simple queries
   * @param reason the reason the requester gave for the session ({@code SET warden.reason}); a
   *     {@code /* reason: ... *}{@code /} comment in {@code text} is the gate's to find
   * @param rows the rows the change changes, when the proxy already measured them (by running it
   *     and rolling it back); empty when not
   * @param notice called (on any thread) with a message for the client while it waits, in hold
   *     mode; the proxy sends it as a notice
   */
  record Question(
      SessionContext session,
      Decision decision,
      ApprovalRequirement requirement,
      Verdict.Deny refusal,
      String text,
      List<byte[]> parameters,
      Optional<String> reason,
      OptionalLong rows,
      Consumer<String> notice) {
    public Question {
      Objects.requireNonNull(session, "session");
      Objects.requireNonNull(decision, "decision");
      Objects.requireNonNull(requirement, "requirement");
      Objects.requireNonNull(refusal, "refusal");
      Objects.requireNonNull(text, "text");
      parameters = Collections.unmodifiableList(new ArrayList<>(parameters));
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(rows, "rows");
      Objects.requireNonNull(notice, "notice");
    }

    /**
     * The question for a statement whose decision requires approval ({@link Decision#approval()}
     * present), with no reason given for the session and nothing measured.
     */
    public static Question of(
        SessionContext session,
        Decision decision,
        String text,
        List<byte[]> parameters,
        Consumer<String> notice) {
      return new Question(
          session,
          decision,
          decision.approval().orElseThrow(),
          (Verdict.Deny) decision.verdict(),
          text,
          parameters,
          Optional.empty(),
          OptionalLong.empty(),
          notice);
    }
  }

  /** The answer. */
  sealed interface Answer {
    /**
     * It may run: an approval was used (or an automatic approval rule approved it).
     *
     * @param requestId the request whose approval was used
     * @param how for the audit trail: {@code approved by alice}, {@code auto-approved by rule
     *     small-deletes}, {@code break-glass by bob}
     */
    record Approved(String requestId, String how) implements Answer {
      public Approved {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(how, "how");
      }
    }

    /**
     * It must not run (yet): {@code deny} says why and, when a request was made or is pending, its
     * id and what to do.
     */
    record Refused(Verdict.Deny deny, String requestId) implements Answer {
      public Refused {
        Objects.requireNonNull(deny, "deny");
        Objects.requireNonNull(requestId, "requestId");
      }
    }
  }
}

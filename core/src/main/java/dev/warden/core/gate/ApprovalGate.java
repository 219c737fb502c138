package dev.warden.core.gate;

import java.util.List;
import java.util.Objects;
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
      (session, decision, text, parameters, notice) ->
          CompletableFuture.completedFuture(
              new Answer.Refused((Verdict.Deny) decision.verdict(), ""));

  /**
   * Decides whether a statement that {@code decision} says needs approval may run.
   *
   * @param session who asks, where
   * @param decision the decision with {@link Decision#approval()} present
   * @param text the statement text exactly as the client sent it
   * @param parameters its bind parameters as sent (null for SQL NULL); empty for simple queries
   * @param notice called (on any thread) with a message for the client while it waits, in hold
   *     mode; the proxy sends it as a notice
   */
  CompletableFuture<Answer> check(
      SessionContext session,
      Decision decision,
      String text,
      List<byte[]> parameters,
      Consumer<String> notice);

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

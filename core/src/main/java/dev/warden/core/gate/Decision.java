package dev.warden.core.gate;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.statement.Analysis;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The decision point's answer for one statement, with what it was based on.
 *
 * @param verdict whether it may run
 * @param analysis what the statement does (for a function call, a one-statement analysis of it)
 * @param rule the name of the policy rule that decided, or {@code ""} for the default
 * @param observed true when the statement would have been refused but runs because its environment
 *     is in observe-only mode; the audit trail records it as such
 * @param rowLimit the most rows an UPDATE, DELETE or MERGE in it may change; beyond that the proxy
 *     rolls the statement back and refuses it with {@link #rowLimitDenial}
 * @param rowLimitDenial the refusal a statement over {@link #rowLimit} gets
 * @param reusable whether this decision holds for later executions of the same prepared statement
 *     in the same session: false when it depends on the time or when the policy changes
 * @param masking what to mask in the statement's results for the identity that runs it
 * @param approval present when policy requires approval: {@code verdict} is then the refusal a
 *     client gets where approvals are not handled, and the proxy instead looks for an approved
 *     request for exactly this statement, or makes one, as the requirement says
 * @param rowLimitApproval present when a change over {@link #rowLimit} waits for approval rather
 *     than being refused for good: the proxy still rolls it back, then asks for an approval that
 *     meets this requirement (with {@link #rowLimitDenial} as the refusal where it cannot ask), and
 *     the same statement sent again once approved runs once without the limit
 */
public record Decision(
    Verdict verdict,
    Analysis analysis,
    String rule,
    boolean observed,
    OptionalLong rowLimit,
    Verdict.Deny rowLimitDenial,
    long policyVersion,
    boolean reusable,
    ResultMasking masking,
    Optional<ApprovalRequirement> approval,
    Optional<ApprovalRequirement> rowLimitApproval) {
  public Decision {
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(analysis, "analysis");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(rowLimit, "rowLimit");
    if (rowLimit.isPresent()) {
      Objects.requireNonNull(rowLimitDenial, "rowLimitDenial");
    }
    Objects.requireNonNull(masking, "masking");
    Objects.requireNonNull(approval, "approval");
    if (approval.isPresent() && !(verdict instanceof Verdict.Deny)) {
      throw new IllegalArgumentException(
          "a decision that requires approval refuses until approved");
    }
    Objects.requireNonNull(rowLimitApproval, "rowLimitApproval");
    if (rowLimitApproval.isPresent() && rowLimit.isEmpty()) {
      throw new IllegalArgumentException("only a row limit can be lifted by a row-limit approval");
    }
  }

  /** A decision whose row limit, if any, is final: a change over it is refused. */
  public Decision(
      Verdict verdict,
      Analysis analysis,
      String rule,
      boolean observed,
      OptionalLong rowLimit,
      Verdict.Deny rowLimitDenial,
      long policyVersion,
      boolean reusable,
      ResultMasking masking,
      Optional<ApprovalRequirement> approval) {
    this(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        masking,
        approval,
        Optional.empty());
  }

  /** A decision that needs no approval. */
  public Decision(
      Verdict verdict,
      Analysis analysis,
      String rule,
      boolean observed,
      OptionalLong rowLimit,
      Verdict.Deny rowLimitDenial,
      long policyVersion,
      boolean reusable,
      ResultMasking masking) {
    this(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        masking,
        Optional.empty());
  }

  /** A decision that masks nothing. */
  public Decision(
      Verdict verdict,
      Analysis analysis,
      String rule,
      boolean observed,
      OptionalLong rowLimit,
      Verdict.Deny rowLimitDenial,
      long policyVersion,
      boolean reusable) {
    this(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        ResultMasking.NONE);
  }

  /** This decision with {@code masking}. */
  public Decision withMasking(ResultMasking masking) {
    return new Decision(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        masking,
        approval,
        rowLimitApproval);
  }

  /** This refusal, to be lifted by an approval that meets {@code requirement}. */
  public Decision withApproval(ApprovalRequirement requirement) {
    return new Decision(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        masking,
        Optional.of(requirement),
        rowLimitApproval);
  }

  /**
   * This decision, whose change over its row limit waits for an approval that meets {@code
   * requirement} instead of being refused for good.
   */
  public Decision withRowLimitApproval(ApprovalRequirement requirement) {
    return new Decision(
        verdict,
        analysis,
        rule,
        observed,
        rowLimit,
        rowLimitDenial,
        policyVersion,
        reusable,
        masking,
        approval,
        Optional.of(requirement));
  }

  /** An allow with nothing behind it: no policy, no limits. */
  public static Decision allow(Analysis analysis) {
    return new Decision(Verdict.ALLOW, analysis, "", false, OptionalLong.empty(), null, 0, true);
  }
}

package dev.warden.core.approval;

import java.util.Objects;

/**
 * A request could not be made, reviewed or cancelled, with a {@link Reason} a channel (proxy, CLI,
 * REST) can turn into its own kind of error and a message that a person can read as it is.
 */
public final class ApprovalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** No request has that id. */
    NOT_FOUND,
    /** The request was already decided, used or cancelled. */
    NOT_PENDING,
    /** The request expired before it was decided. */
    EXPIRED,
    /** The reviewer is the requester (or acts on the requester's behalf); never allowed. */
    SELF_REVIEW,
    /** The reviewer is in none of the requirement's approver groups. */
    NOT_AN_APPROVER,
    /** The reviewer has already approved or denied this request. */
    ALREADY_REVIEWED,
    /**
     * Break-glass was asked for but the requirement does not allow it, or it was not an approval.
     */
    BREAK_GLASS_NOT_ALLOWED,
    /**
     * An ordinary approval of a request only break-glass can approve (a statement a guardrail
     * denies).
     */
    BREAK_GLASS_REQUIRED,
    /** Break-glass without a written justification. */
    JUSTIFICATION_REQUIRED,
    /** The requirement needs the requester's reason and none was given. */
    REASON_REQUIRED,
    /** Only the requester may cancel a request. */
    NOT_REQUESTER,
    /** Others kept changing the request at the same moment; trying again later may succeed. */
    CONFLICT
  }

  private final Reason reason;

  ApprovalException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why the action was refused. */
  public Reason reason() {
    return reason;
  }
}

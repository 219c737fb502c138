package dev.warden.core.policy;

import java.util.Objects;

/**
 * One automatic approval of a {@code require_approval} rule, as written: when its condition holds
 * for a statement waiting for approval, the statement runs without a person approving it, and the
 * audit trail names this entry. Its condition may read everything an ordinary condition reads, and
 * also {@code rows} (the rows the statement would change, measured by the proxy; -1 when not
 * measured) and {@code request.reason} (the requester's reason; {@code ""} when none), which exist
 * only while a statement waits for approval.
 *
 * @param name unique within the policy (rules, access rules and automatic approvals share one name
 *     space: the audit trail names one of them)
 * @param condition a CEL expression of type bool
 * @param origin where it was written, as {@code file:line:column}, or empty; errors name it
 */
public record AutoApproval(String name, String condition, String origin) {
  public AutoApproval {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(origin, "origin");
    if (name.isBlank()) {
      throw new IllegalArgumentException("an automatic approval needs a name");
    }
  }

  /** An automatic approval with no origin. */
  public static AutoApproval of(String name, String condition) {
    return new AutoApproval(name, condition, "");
  }
}

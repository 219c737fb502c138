package dev.warden.core.policy;

import java.util.Locale;
import java.util.Optional;

/** What a rule does with a statement it matches. */
public enum PolicyAction {
  /** The statement runs. */
  ALLOW,
  /** The statement is refused. */
  DENY,
  /**
   * The statement needs approval ({@link Rule#approvalRequirement()}): it is refused with a message
   * that says approval is required, and runs once approved where the proxy handles approvals.
   */
  REQUIRE_APPROVAL,
  /** The statement runs, and the decision is marked for the audit trail. */
  OBSERVE;

  /** The name as written in a policy file, e.g. {@code require_approval}. */
  public String fileName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The action a policy file names, if it names one. */
  public static Optional<PolicyAction> fromFileName(String name) {
    for (PolicyAction action : values()) {
      if (action.fileName().equals(name)) {
        return Optional.of(action);
      }
    }
    return Optional.empty();
  }

  /** True if a statement this action applies to is refused (when its environment enforces). */
  public boolean refuses() {
    return this == DENY || this == REQUIRE_APPROVAL;
  }
}

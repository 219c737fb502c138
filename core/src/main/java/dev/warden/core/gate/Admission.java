package dev.warden.core.gate;

import java.util.Objects;

/**
 * Whether a verified identity may open a session in the environment it asked for, decided once per
 * connection before anything reaches the database.
 *
 * @param allowed true when the session may begin
 * @param rule the policy rule that decided, or {@code (default)} when none matched
 * @param message why a refused session was refused, for the client and the audit trail; empty when
 *     allowed
 */
public record Admission(boolean allowed, String rule, String message) {
  /** Allowed with no rule consulted: a policy without access rules. */
  public static final Admission OPEN = new Admission(true, "", "");

  public Admission {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(message, "message");
  }
}

package dev.warden.core.policy;

import java.util.Objects;

/**
 * One rule of a policy's {@code access:} section as written: whether an identity may open a session
 * in an environment at all. Access rules are tried in order when a session has authenticated,
 * before anything reaches the database, and the first whose condition holds decides.
 *
 * @param name unique within the policy (statement rules included); named in the refusal and the
 *     audit trail
 * @param description what the rule is for, for people reading the policy; may be empty
 * @param condition a CEL expression of type bool over the identity, environment and session
 *     variables in docs/policy.md; {@code statement.*} and {@code request.path} are refused at load
 * @param allows true to let the session in, false to refuse it
 * @param message what a refusal says; empty for a generic one
 * @param origin where the rule was written, as {@code file:line:column}, or empty; errors name it
 */
public record AccessRule(
    String name,
    String description,
    String condition,
    boolean allows,
    String message,
    String origin) {
  public AccessRule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(origin, "origin");
    if (name.isBlank()) {
      throw new IllegalArgumentException("an access rule needs a name");
    }
  }

  /** An access rule with no description, message or origin. */
  public static AccessRule of(String name, String condition, boolean allows) {
    return new AccessRule(name, "", condition, allows, "", "");
  }

  public AccessRule withMessage(String message) {
    return new AccessRule(name, description, condition, allows, message, origin);
  }
}

package dev.warden.core.policy;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One rule of a policy as written, before its condition is compiled. Rules are tried in order and
 * the first whose condition holds decides.
 *
 * @param name unique within the policy; named in every refusal so that people can find it
 * @param description what the rule is for, for people reading the policy; may be empty
 * @param condition a CEL expression of type bool over the variables in docs/policy.md
 * @param action what happens to a statement the condition holds for
 * @param sqlState the SQLSTATE of a refusal (five characters)
 * @param message what a refusal says was wrong; empty for a generic one
 * @param hint what a refused person can do; empty for a generic one
 * @param maxRows for {@link PolicyAction#ALLOW} and {@link PolicyAction#OBSERVE}: the most rows an
 *     UPDATE, DELETE or MERGE the rule matches may change before Warden rolls it back
 * @param origin where the rule was written, as {@code file:line:column}, or empty; errors name it
 */
public record Rule(
    String name,
    String description,
    String condition,
    PolicyAction action,
    String sqlState,
    String message,
    String hint,
    OptionalLong maxRows,
    String origin) {
  /** The SQLSTATE of a refusal unless a rule says otherwise: insufficient_privilege. */
  public static final String DEFAULT_SQLSTATE = "42501";

  public Rule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(sqlState, "sqlState");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(hint, "hint");
    Objects.requireNonNull(maxRows, "maxRows");
    Objects.requireNonNull(origin, "origin");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a rule needs a name");
    }
    if (!validSqlState(sqlState)) {
      throw new IllegalArgumentException(
          "SQLSTATE must be five digits or capital letters: " + sqlState);
    }
    if (maxRows.isPresent() && maxRows.getAsLong() <= 0) {
      throw new IllegalArgumentException("max_rows must be positive: " + maxRows.getAsLong());
    }
    if (maxRows.isPresent() && action.refuses()) {
      throw new IllegalArgumentException("max_rows applies only to allow and observe rules");
    }
  }

  /** A rule with the defaults for everything but its name, condition and action. */
  public static Rule of(String name, String condition, PolicyAction action) {
    return new Rule(
        name, "", condition, action, DEFAULT_SQLSTATE, "", "", OptionalLong.empty(), "");
  }

  public Rule withMessage(String message, String hint) {
    return new Rule(name, description, condition, action, sqlState, message, hint, maxRows, origin);
  }

  public Rule withMaxRows(long rows) {
    return new Rule(
        name,
        description,
        condition,
        action,
        sqlState,
        message,
        hint,
        OptionalLong.of(rows),
        origin);
  }

  /** True if {@code s} is a well-formed SQLSTATE: five digits or upper-case ASCII letters. */
  public static boolean validSqlState(String s) {
    if (s.length() != 5) {
      return false;
    }
    for (int i = 0; i < 5; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) {
        return false;
      }
    }
    return true;
  }
}

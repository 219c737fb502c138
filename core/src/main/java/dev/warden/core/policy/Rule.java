package dev.warden.core.policy;

import dev.warden.core.approval.ApprovalRequirement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
 * @param approval for {@link PolicyAction#REQUIRE_APPROVAL}: who approves and how the requester
 *     waits; empty for {@link ApprovalRequirement#DEFAULT} (see {@link #approvalRequirement()}).
 *     For {@link PolicyAction#DENY}: present only with {@code break_glass: true}, a {@link
 *     ApprovalRequirement#breakGlassOnly} requirement saying who may let a denied statement through
 *     as break-glass. For {@link PolicyAction#ALLOW} and {@link PolicyAction#OBSERVE} with {@code
 *     maxRows}: present only with {@code over_max_rows: require_approval}, who approves a change
 *     over the limit (always {@link ApprovalRequirement.Wait#ERROR}; see {@link
 *     #approvesOverMaxRows()})
 * @param autoApprove for {@link PolicyAction#REQUIRE_APPROVAL}, and for a rule that {@link
 *     #approvesOverMaxRows()}: automatic approvals, tried in order; the first whose condition holds
 *     approves without a person
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
    String origin,
    Optional<ApprovalRequirement> approval,
    List<AutoApproval> autoApprove) {
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
    Objects.requireNonNull(approval, "approval");
    autoApprove = List.copyOf(autoApprove);
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
    boolean overMaxRows = maxRows.isPresent() && !action.refuses() && approval.isPresent();
    if (!autoApprove.isEmpty() && action != PolicyAction.REQUIRE_APPROVAL && !overMaxRows) {
      throw new IllegalArgumentException(
          "auto_approve applies only to require_approval rules and to allow and observe rules"
              + " whose changes over max_rows wait for approval");
    }
    if (approval.isPresent()) {
      boolean onlyBreakGlass = approval.get().breakGlassOnly();
      if (action == PolicyAction.DENY && !onlyBreakGlass) {
        throw new IllegalArgumentException(
            "an approval applies only to require_approval rules, and to a deny rule as"
                + " break-glass (ApprovalRequirement.breakGlassOnly)");
      }
      if (action == PolicyAction.REQUIRE_APPROVAL && onlyBreakGlass) {
        throw new IllegalArgumentException(
            "a require_approval rule's approval cannot be break-glass only; deny with break_glass");
      }
      if (action != PolicyAction.DENY && action != PolicyAction.REQUIRE_APPROVAL) {
        if (maxRows.isEmpty()) {
          throw new IllegalArgumentException(
              "approval applies only to require_approval rules, break-glass deny rules and"
                  + " allow and observe rules with max_rows");
        }
        if (onlyBreakGlass || approval.get().waiting() != ApprovalRequirement.Wait.ERROR) {
          // The change has run and holds its locks while Warden asks: it cannot wait for a person.
          throw new IllegalArgumentException(
              "a change over max_rows waits for approval with wait: error, not held, and not as"
                  + " break-glass only");
        }
      }
    }
  }

  /**
   * Whether this is a {@code deny} rule with {@code break_glass: true}: a reviewer may let a
   * statement it denies through once, as break-glass, with a justification ({@link
   * #approvalRequirement()} says who).
   */
  public boolean breakGlass() {
    return action == PolicyAction.DENY && approval.isPresent();
  }

  /**
   * Whether this is an {@code allow} or {@code observe} rule with {@code max_rows} and {@code
   * over_max_rows: require_approval}: a change over its limit is rolled back and waits for an
   * approval as {@link #approvalRequirement()} says (tried first by {@link #autoApprove()}), rather
   * than being refused for good.
   */
  public boolean approvesOverMaxRows() {
    return maxRows.isPresent() && !action.refuses() && approval.isPresent();
  }

  /** A rule without an approval block or automatic approvals. */
  public Rule(
      String name,
      String description,
      String condition,
      PolicyAction action,
      String sqlState,
      String message,
      String hint,
      OptionalLong maxRows,
      String origin) {
    this(
        name,
        description,
        condition,
        action,
        sqlState,
        message,
        hint,
        maxRows,
        origin,
        Optional.empty(),
        List.of());
  }

  /**
   * What an approval of a statement this rule matched needs: the rule's approval block, or {@link
   * ApprovalRequirement#DEFAULT} without one; for a {@link #breakGlass()} deny rule, its
   * break-glass-only requirement.
   */
  public ApprovalRequirement approvalRequirement() {
    return approval.orElse(ApprovalRequirement.DEFAULT);
  }

  /** This {@code require_approval} rule with {@code requirement} and {@code autoApprove}. */
  public Rule withApproval(ApprovalRequirement requirement, List<AutoApproval> autoApprove) {
    return new Rule(
        name,
        description,
        condition,
        action,
        sqlState,
        message,
        hint,
        maxRows,
        origin,
        Optional.of(requirement),
        autoApprove);
  }

  /** A rule with the defaults for everything but its name, condition and action. */
  public static Rule of(String name, String condition, PolicyAction action) {
    return new Rule(
        name, "", condition, action, DEFAULT_SQLSTATE, "", "", OptionalLong.empty(), "");
  }

  public Rule withMessage(String message, String hint) {
    return new Rule(
        name,
        description,
        condition,
        action,
        sqlState,
        message,
        hint,
        maxRows,
        origin,
        approval,
        autoApprove);
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
        origin,
        approval,
        autoApprove);
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

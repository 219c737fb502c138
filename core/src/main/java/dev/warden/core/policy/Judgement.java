package dev.warden.core.policy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * What a policy says about one statement, and which rule said it.
 *
 * @param statement the statement judged
 * @param rule the rule whose condition held first; empty when none did and the policy's default
 *     action applies
 * @param action what happens to the statement; {@link PolicyAction#DENY} when {@link #error} is set
 * @param error why the rule's condition could not be evaluated (the statement is then refused:
 *     Warden fails closed); empty otherwise
 */
public record Judgement(
    Statement statement, Optional<Rule> rule, PolicyAction action, String error) {
  public Judgement {
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(error, "error");
    if (!error.isEmpty() && action != PolicyAction.DENY) {
      throw new IllegalArgumentException("a condition that failed to evaluate denies");
    }
  }

  /** The deciding rule's name, or {@code ""} for the policy's default. */
  public String ruleName() {
    return rule.map(Rule::name).orElse("");
  }

  /**
   * For {@link PolicyAction#REQUIRE_APPROVAL}: what an approval needs, the deciding rule's or
   * {@link ApprovalRequirement#DEFAULT} when the policy's default requires approval.
   */
  public ApprovalRequirement approvalRequirement() {
    return rule.map(Rule::approvalRequirement).orElse(ApprovalRequirement.DEFAULT);
  }

  /** True if the statement is refused where the environment enforces policy. */
  public boolean refuses() {
    return action.refuses();
  }

  /** Who may approve, in a sentence: "It runs once a member of approvers approves it." */
  static String approvalHint(ApprovalRequirement r) {
    List<String> groups = new ArrayList<>(new TreeSet<>(r.approverGroups()));
    String who;
    if (r.allOfGroups() && groups.size() > 1) {
      String each = "a member of each of " + and(groups, "and");
      who =
          r.minApprovals() == groups.size()
              ? each + " approves"
              : r.minApprovals() + " people, including " + each + ", approve";
    } else {
      String of = and(groups, "or");
      who =
          r.minApprovals() == 1
              ? "a member of " + of + " approves"
              : r.minApprovals() + " members of " + of + " approve";
    }
    return "It runs once " + who + " it; the requester cannot approve their own statement.";
  }

  /** {@code a}, {@code a or b}, {@code a, b or c}. */
  private static String and(List<String> names, String conjunction) {
    if (names.size() == 1) {
      return names.get(0);
    }
    return String.join(", ", names.subList(0, names.size() - 1))
        + " "
        + conjunction
        + " "
        + names.get(names.size() - 1);
  }

  /**
   * The refusal a client receives: {@code Warden refused this statement: <reason> (rule "<name>")}
   * and a hint saying what to do.
   */
  public Verdict.Deny denial() {
    String named = rule.map(r -> " (rule \"" + r.name() + "\")").orElse(" (the policy's default)");
    if (!error.isEmpty()) {
      return new Verdict.Deny(
          Rule.DEFAULT_SQLSTATE,
          "Warden refused this statement: its policy rule could not be evaluated: " + error + named,
          "This is a fault in the policy, not in the statement: ask a Warden administrator to fix"
              + " the rule.");
    }
    String sqlState = rule.map(Rule::sqlState).orElse(Rule.DEFAULT_SQLSTATE);
    String message = rule.map(Rule::message).orElse("");
    String hint = rule.map(Rule::hint).orElse("");
    if (action == PolicyAction.REQUIRE_APPROVAL) {
      String reason =
          message.isEmpty() ? "approval is required" : "approval is required: " + message;
      return new Verdict.Deny(
          sqlState,
          "Warden refused this statement: " + reason + named,
          hint.isEmpty() ? approvalHint(approvalRequirement()) : hint);
    }
    if (rule.isEmpty()) {
      return new Verdict.Deny(
          sqlState,
          "Warden refused this statement: no policy rule allows it" + named,
          "Ask a Warden administrator for a policy rule that allows it.");
    }
    String advice = hint.isEmpty() ? "Ask a Warden administrator if you need to run it." : hint;
    if (!statement.unknownReason().isEmpty()) {
      // Often a plain syntax error: saying so spares the person a puzzle.
      advice = "Warden's analysis: " + statement.unknownReason() + ". " + advice;
    }
    return new Verdict.Deny(
        sqlState,
        "Warden refused this statement: "
            + (message.isEmpty() ? "the policy denies it" : message)
            + named,
        advice);
  }
}

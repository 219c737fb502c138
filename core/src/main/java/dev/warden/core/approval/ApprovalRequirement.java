package dev.warden.core.approval;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * Who must approve, how many, and how the requester waits: what a {@code require_approval} policy
 * rule says, copied into each request it creates so that a later policy change does not change who
 * may approve a request already made.
 *
 * @param approverGroups the groups whose members may approve; never the requester
 * @param minApprovals how many distinct reviewers must approve (at least 1)
 * @param allOfGroups when true, at least one approval from each of {@code approverGroups}; when
 *     false, approvals from any of them count
 * @param waiting how the requester waits (ERROR or HOLD)
 * @param holdTimeout with {@link Wait#HOLD}, how long the statement is held before it fails
 * @param lifetime how long a request stays open for review, and an approval stays usable
 * @param reasonRequired whether the requester must give a reason ({@code SET warden.reason} or a
 *     {@code /* reason: ... *}{@code /} comment) for the request to be made
 * @param breakGlass whether a reviewer may approve alone, whatever {@code minApprovals} and the
 *     groups say, with a written justification that is reviewed after the fact
 * @param breakGlassOnly whether break-glass is the only way to approve: a statement a guardrail
 *     {@code deny} rule refuses, which a reviewer may let through once with a justification but
 *     never by an ordinary approval. Implies {@code breakGlass}, {@code reasonRequired} and {@link
 *     Wait#ERROR} (see {@link #breakGlassOnly(Set, Duration)})
 */
public record ApprovalRequirement(
    Set<String> approverGroups,
    int minApprovals,
    boolean allOfGroups,
    Wait waiting,
    Duration holdTimeout,
    Duration lifetime,
    boolean reasonRequired,
    boolean breakGlass,
    boolean breakGlassOnly) {
  /** How a statement waits for its approval. */
  public enum Wait {
    /**
     * The client gets an error at once with the request's id and how to follow it; the same
     * statement, sent again after approval, runs once.
     */
    ERROR,
    /**
     * Warden holds the statement, tells the client with a notice that it waits for approval, and
     * runs it on approval or fails it on denial or timeout; the session stays alive.
     */
    HOLD
  }

  /** The group whose members approve by default. */
  public static final String DEFAULT_APPROVERS = "approvers";

  /** One approval from the group {@code approvers}, the client told at once, open for an hour. */
  public static final ApprovalRequirement DEFAULT =
      new ApprovalRequirement(
          Set.of(DEFAULT_APPROVERS),
          1,
          false,
          Wait.ERROR,
          Duration.ofMinutes(10),
          Duration.ofHours(1),
          false,
          true);

  public ApprovalRequirement {
    approverGroups = Set.copyOf(approverGroups);
    if (approverGroups.isEmpty()) {
      throw new IllegalArgumentException("an approval needs at least one group of approvers");
    }
    if (minApprovals < 1) {
      throw new IllegalArgumentException("minApprovals must be at least 1");
    }
    if (allOfGroups && minApprovals < approverGroups.size()) {
      minApprovals = approverGroups.size();
    }
    Objects.requireNonNull(waiting, "waiting");
    Objects.requireNonNull(holdTimeout, "holdTimeout");
    Objects.requireNonNull(lifetime, "lifetime");
    if (holdTimeout.isNegative() || holdTimeout.isZero()) {
      throw new IllegalArgumentException("holdTimeout must be positive");
    }
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("lifetime must be positive");
    }
    if (breakGlassOnly && !(breakGlass && reasonRequired && waiting == Wait.ERROR)) {
      // A denied statement is let through only as break-glass, for a reason a reviewer can judge,
      // and never held: nobody is expected to approve it in the time a client waits.
      throw new IllegalArgumentException(
          "a break-glass-only approval must allow break-glass, require a reason and wait with"
              + " ERROR");
    }
  }

  /** A requirement where break-glass is one way to approve, not the only one. */
  public ApprovalRequirement(
      Set<String> approverGroups,
      int minApprovals,
      boolean allOfGroups,
      Wait waiting,
      Duration holdTimeout,
      Duration lifetime,
      boolean reasonRequired,
      boolean breakGlass) {
    this(
        approverGroups,
        minApprovals,
        allOfGroups,
        waiting,
        holdTimeout,
        lifetime,
        reasonRequired,
        breakGlass,
        false);
  }

  /**
   * What lets a statement a guardrail denies through once: a break-glass approval, with a written
   * justification, by one member of {@code approverGroups} who is not the requester, for a request
   * made with the requester's reason and open for {@code lifetime}.
   */
  public static ApprovalRequirement breakGlassOnly(Set<String> approverGroups, Duration lifetime) {
    return new ApprovalRequirement(
        approverGroups,
        1,
        false,
        Wait.ERROR,
        DEFAULT.holdTimeout().compareTo(lifetime) > 0 ? lifetime : DEFAULT.holdTimeout(),
        lifetime,
        true,
        true,
        true);
  }
}

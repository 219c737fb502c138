package dev.warden.core.approval;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A request for approval, bound to exactly what was asked: who, where, and the statement with its
 * parameters. It is approved, denied or expires; an approved request runs its statement once.
 *
 * @param id the request's id, {@code apr_} and random characters; shown to the requester
 * @param requester the identity that asked
 * @param requesterGroups its groups when it asked
 * @param environment the environment
 * @param database the client's database name
 * @param statement the statement as reviewers see it (redacted as the audit trail stores it)
 * @param fingerprint the statement's fingerprint (the same for every literal), for grouping
 * @param binding a keyed hash of the exact statement text and its bind parameters: only the very
 *     same statement with the very same parameters uses an approval
 * @param rule the policy rule that asked for approval
 * @param why the rule's message: why policy flagged it
 * @param reason the requester's reason, if one was given
 * @param rows for a change, the rows it would change, measured by running it and rolling it back;
 *     empty when not measured
 * @param requirement who must approve, and how the requester waits
 * @param created when it was made
 * @param expires when it stops being open for review, or usable once approved
 * @param status where it stands
 * @param reviews the approvals and denials so far, in order
 * @param used when its statement ran, once approved
 * @param requesterOnBehalfOf the person the requester acts for (an agent's service token): never a
 *     reviewer of the request either
 */
public record ApprovalRequest(
    String id,
    String requester,
    Set<String> requesterGroups,
    String environment,
    String database,
    String statement,
    String fingerprint,
    String binding,
    String rule,
    String why,
    Optional<String> reason,
    OptionalLong rows,
    ApprovalRequirement requirement,
    Instant created,
    Instant expires,
    Status status,
    List<Review> reviews,
    Optional<Instant> used,
    Optional<String> requesterOnBehalfOf) {
  /** Where a request stands. */
  public enum Status {
    /** Waiting for reviewers. */
    PENDING,
    /** Approved and not used yet: the same statement may run once, until it expires. */
    APPROVED,
    /** A reviewer denied it. */
    DENIED,
    /** Nobody decided in time, or the approval was not used in time. */
    EXPIRED,
    /** Approved and run. */
    USED,
    /** Withdrawn by the requester. */
    CANCELLED
  }

  public ApprovalRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(requester, "requester");
    requesterGroups = Set.copyOf(requesterGroups);
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(binding, "binding");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(why, "why");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(rows, "rows");
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(status, "status");
    reviews = List.copyOf(reviews);
    Objects.requireNonNull(used, "used");
    Objects.requireNonNull(requesterOnBehalfOf, "requesterOnBehalfOf");
  }

  /** A request by someone acting for themselves. */
  public ApprovalRequest(
      String id,
      String requester,
      Set<String> requesterGroups,
      String environment,
      String database,
      String statement,
      String fingerprint,
      String binding,
      String rule,
      String why,
      Optional<String> reason,
      OptionalLong rows,
      ApprovalRequirement requirement,
      Instant created,
      Instant expires,
      Status status,
      List<Review> reviews,
      Optional<Instant> used) {
    this(
        id,
        requester,
        requesterGroups,
        environment,
        database,
        statement,
        fingerprint,
        binding,
        rule,
        why,
        reason,
        rows,
        requirement,
        created,
        expires,
        status,
        reviews,
        used,
        Optional.empty());
  }

  /**
   * One reviewer's decision.
   *
   * @param reviewer the reviewer's identity
   * @param reviewerGroups its groups when it decided
   * @param approve true to approve, false to deny
   * @param at when
   * @param comment what the reviewer wrote; for break-glass, the justification (required)
   * @param breakGlass an approval that does not wait for the others the requirement asks for, to be
   *     reviewed after the fact
   */
  public record Review(
      String reviewer,
      Set<String> reviewerGroups,
      boolean approve,
      Instant at,
      String comment,
      boolean breakGlass) {
    public Review {
      Objects.requireNonNull(reviewer, "reviewer");
      reviewerGroups = Set.copyOf(reviewerGroups);
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(comment, "comment");
    }
  }
}

package dev.warden.core.approval;

import java.time.Duration;
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
 * @param access for an access request (a time-boxed elevation to a named role instead of one
 *     statement), the role, the duration asked for and, once approved, the window; empty for a
 *     statement's request. An approved access request's {@code expires} is its window's end, and it
 *     becomes {@link Status#USED} when the window has ended.
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
    Optional<String> requesterOnBehalfOf,
    Optional<Access> access) {
  /** What a request asks for. */
  public enum Kind {
    /** One statement, run once. */
    STATEMENT,
    /** An access window: a named role for a while. */
    ACCESS
  }

  /** Where a request stands. */
  public enum Status {
    /** Waiting for reviewers. */
    PENDING,
    /**
     * Approved and not used yet: the same statement may run once, until it expires; for an access
     * request, its window is open until it expires.
     */
    APPROVED,
    /** A reviewer denied it. */
    DENIED,
    /** Nobody decided in time, or the approval was not used in time. */
    EXPIRED,
    /** Approved and run; for an access request, its window has ended. */
    USED,
    /** Withdrawn by the requester; for an access request, possibly once its window was open. */
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
    Objects.requireNonNull(access, "access");
  }

  /** A statement's request, made by someone who may act for another. */
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
      Optional<Instant> used,
      Optional<String> requesterOnBehalfOf) {
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
        requesterOnBehalfOf,
        Optional.empty());
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
        Optional.empty(),
        Optional.empty());
  }

  /** What this request asks for. */
  public Kind kind() {
    return access.isPresent() ? Kind.ACCESS : Kind.STATEMENT;
  }

  /**
   * The same request with {@code status}, {@code reviews}, {@code used}, {@code expires} and {@code
   * access} changed: how {@link Approvals} moves a request on.
   */
  ApprovalRequest with(
      Status status,
      List<Review> reviews,
      Optional<Instant> used,
      Instant expires,
      Optional<Access> access) {
    return new ApprovalRequest(
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
        requesterOnBehalfOf,
        access);
  }

  /**
   * What an access request asks for, and its window once approved.
   *
   * @param role the name of the environment's role mapping asked for
   * @param duration how long the window lasts from its approval
   * @param start when the window opened (its approval); empty until approved
   * @param end when it ends, or ended (earlier when withdrawn); empty until approved
   */
  public record Access(
      String role, Duration duration, Optional<Instant> start, Optional<Instant> end) {
    public Access {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(duration, "duration");
      Objects.requireNonNull(start, "start");
      Objects.requireNonNull(end, "end");
      if (role.isBlank()) {
        throw new IllegalArgumentException("an access request names a role");
      }
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("an access window's duration must be positive");
      }
      if (start.isPresent() != end.isPresent()) {
        throw new IllegalArgumentException("an access window has both a start and an end");
      }
      if (start.isPresent() && end.get().isBefore(start.get())) {
        throw new IllegalArgumentException("an access window cannot end before it starts");
      }
    }

    /** Asked for, not yet open. */
    public static Access asked(String role, Duration duration) {
      return new Access(role, duration, Optional.empty(), Optional.empty());
    }

    /** The window, opened at {@code start} for {@link #duration}. */
    public Access openedAt(Instant start) {
      return new Access(role, duration, Optional.of(start), Optional.of(start.plus(duration)));
    }

    /** The window, ended at {@code at} (if that is before its end). */
    public Access endedAt(Instant at) {
      if (start.isEmpty() || !at.isBefore(end.get())) {
        return this;
      }
      Instant ended = at.isBefore(start.get()) ? start.get() : at;
      return new Access(role, duration, start, Optional.of(ended));
    }

    /** True while the window is open at {@code at}. */
    public boolean openAt(Instant at) {
      return start.isPresent() && !at.isBefore(start.get()) && at.isBefore(end.get());
    }
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

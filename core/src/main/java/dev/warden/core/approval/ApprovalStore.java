package dev.warden.core.approval;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where approval requests are kept: the embedded store on one machine, later the shared PostgreSQL
 * store for several Warden instances. Implementations pass the same contract tests. Calls may block
 * (a database); callers keep them off event loops.
 *
 * <p>The rules of approving (who may, how many, expiry, single use) live in {@link Approvals}; the
 * store only keeps requests and changes them atomically with {@link #replace}.
 */
public interface ApprovalStore {
  /**
   * Adds a new request; its id must be unused.
   *
   * @throws IllegalArgumentException if a request with its id exists
   */
  void create(ApprovalRequest request);

  /** The request with this id. */
  Optional<ApprovalRequest> find(String id);

  /**
   * Requests matching {@code filter}, newest first, at most {@code filter.limit()}.
   *
   * @param filter which requests
   */
  List<ApprovalRequest> list(Filter filter);

  /**
   * Replaces {@code expected} with {@code updated} (same id) if the stored request still equals
   * {@code expected}; returns false when someone changed it first. This is how a review and the
   * single use of an approval stay atomic across threads and instances.
   */
  boolean replace(ApprovalRequest expected, ApprovalRequest updated);

  /**
   * The requests of {@code requester} in {@code environment} whose binding is {@code binding},
   * newest first: how a statement sent again finds its approval (or its pending request).
   */
  List<ApprovalRequest> byBinding(String requester, String environment, String binding);

  /**
   * The approved access requests whose window is open at {@code at} (started at or before it,
   * ending after it), of {@code requester} and in {@code environment} when given, ending last
   * first: how the server learns the open windows at start and the proxy's question is answered.
   */
  List<ApprovalRequest> openWindows(
      Optional<String> requester, Optional<String> environment, Instant at);

  /**
   * Which requests to list.
   *
   * @param status only these, or all when empty
   * @param requester only this identity's, or everyone's when empty
   * @param environment only this environment's, or all when empty
   * @param since only requests created at or after this, or all when empty
   * @param limit at most this many (1..1000)
   * @param kind only statements' or only access requests, or both when empty
   */
  record Filter(
      List<ApprovalRequest.Status> status,
      Optional<String> requester,
      Optional<String> environment,
      Optional<Instant> since,
      int limit,
      Optional<ApprovalRequest.Kind> kind) {
    public Filter {
      status = List.copyOf(status);
      if (limit < 1 || limit > 1000) {
        throw new IllegalArgumentException("limit must be between 1 and 1000");
      }
      java.util.Objects.requireNonNull(kind, "kind");
    }

    /** Requests of both kinds. */
    public Filter(
        List<ApprovalRequest.Status> status,
        Optional<String> requester,
        Optional<String> environment,
        Optional<Instant> since,
        int limit) {
      this(status, requester, environment, since, limit, Optional.empty());
    }

    /** Every request, up to 100. */
    public static Filter all() {
      return new Filter(List.of(), Optional.empty(), Optional.empty(), Optional.empty(), 100);
    }
  }
}

package dev.warden.core.audit.search;

/**
 * The port searches of the audit trail go through, implemented by the embedded index and by the
 * shared PostgreSQL store with the same meaning ({@link AuditQuery#matches} is its reference).
 *
 * <p>A statement is one result: its intent with its outcome merged in ({@link AuditHit#merge}); an
 * event is one result. Results come newest first (by time, then log id and sequence number, both
 * descending).
 */
public interface AuditSearch {
  /** The largest {@code limit} a search accepts. */
  int MAX_LIMIT = 10_000;

  /**
   * The newest results matching {@code query}, at most {@code limit} of them (1 to {@link
   * #MAX_LIMIT}).
   *
   * @throws AuditSearchException when the store fails
   */
  AuditResults search(AuditQuery query, int limit);

  /** Checks a limit the way every implementation does. */
  static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException(
          "a search limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
    }
  }
}

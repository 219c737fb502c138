package dev.warden.core.audit.search;

/**
 * A search that could not run because its store failed (as opposed to {@link AuditQueryException},
 * a query that cannot be read): the REST API answers it with a server error.
 */
public final class AuditSearchException extends RuntimeException {
  public AuditSearchException(String message, Throwable cause) {
    super(message, cause);
  }
}

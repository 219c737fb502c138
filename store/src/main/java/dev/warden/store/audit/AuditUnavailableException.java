package dev.warden.store.audit;

/**
 * The audit log cannot make a record durable. Nothing may run unrecorded, so whoever asked must
 * refuse the statement; the log stays failed until Warden is restarted with a healthy disk (no
 * retry after a failed fsync: the kernel may have dropped the data it reported as failed).
 */
public final class AuditUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AuditUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}

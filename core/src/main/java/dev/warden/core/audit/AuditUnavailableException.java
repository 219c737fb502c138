package dev.warden.core.audit;

/** The audit trail cannot make a record durable, so what it records must not happen. */
public final class AuditUnavailableException extends RuntimeException {
  public AuditUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  public AuditUnavailableException(String message) {
    super(message);
  }
}

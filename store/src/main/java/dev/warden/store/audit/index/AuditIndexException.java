package dev.warden.store.audit.index;

/**
 * The index file could not be opened or written. The audit log is unaffected (the index is built
 * from it), so callers log this and catch up later rather than refuse statements.
 */
public final class AuditIndexException extends RuntimeException {
  AuditIndexException(String message, Throwable cause) {
    super(message, cause);
  }
}

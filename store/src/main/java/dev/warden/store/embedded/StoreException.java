package dev.warden.store.embedded;

/**
 * The embedded store could not do what was asked: the file could not be opened or written, it was
 * written by a newer Warden, or its contents are not what Warden wrote. Callers fail closed.
 */
public final class StoreException extends RuntimeException {
  StoreException(String message) {
    super(message);
  }

  StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}

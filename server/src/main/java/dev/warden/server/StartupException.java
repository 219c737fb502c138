package dev.warden.server;

/** Warden cannot start; the message says why in terms the operator can act on. */
public final class StartupException extends Exception {
  private static final long serialVersionUID = 1L;

  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}

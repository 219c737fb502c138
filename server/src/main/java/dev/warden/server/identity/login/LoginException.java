package dev.warden.server.identity.login;

/**
 * A login or token step failed. The message is one line fit to show the person at the terminal
 * (provider unreachable, access denied, device code expired, no cached login); it never contains a
 * token or secret.
 */
public final class LoginException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LoginException(String message) {
    super(message);
  }

  public LoginException(String message, Throwable cause) {
    super(message, cause);
  }
}

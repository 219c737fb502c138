package dev.warden.server.datamap;

/**
 * A data map could not be built: the database could not be reached, refused Warden's credentials,
 * or its catalogue could not be read. The message names the environment, the database and the
 * reason, and is fit to show a client or an operator (it holds no password).
 */
public final class DataMapException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DataMapException(String message, Throwable cause) {
    super(message, cause);
  }

  DataMapException(String message) {
    super(message);
  }
}

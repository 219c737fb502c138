package dev.warden.server.cli;

/** The command line was wrong; the message says how (exit code 2). */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}

package dev.warden.testkit;

/**
 * Checks on what a server sent, shared by hostile-input tests. They throw {@link AssertionError}
 * with what was actually received, so a failing test says what the server did instead.
 */
public final class WireAssertions {
  private WireAssertions() {}

  /**
   * The server closed the connection in time and its first message is an ErrorResponse of severity
   * FATAL with {@code sqlState} and a message containing {@code messagePart}.
   */
  public static WireMessage assertFatal(RawWire.Drained d, String sqlState, String messagePart) {
    if (!d.closed()) {
      throw new AssertionError(
          "connection still open after " + d.elapsed() + "; received " + d.messages());
    }
    if (d.messages().isEmpty()) {
      throw new AssertionError("closed without an ErrorResponse");
    }
    WireMessage first = d.first();
    if (!first.is('E')
        || !first.severity().equals("FATAL")
        || !first.sqlState().equals(sqlState)
        || !first.message().contains(messagePart)) {
      throw new AssertionError(
          "expected FATAL "
              + sqlState
              + " containing \""
              + messagePart
              + "\" first; received "
              + d.messages());
    }
    return first;
  }
}

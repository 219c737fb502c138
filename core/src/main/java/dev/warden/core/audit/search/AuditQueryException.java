package dev.warden.core.audit.search;

/**
 * A search query that cannot be read, with where it went wrong and what was expected there, so that
 * a console or CLI can point at the character.
 */
public final class AuditQueryException extends IllegalArgumentException {
  private final int position;
  private final String expected;

  /**
   * @param position the 0-based index in the query where reading failed
   * @param expected what would have been accepted there, for people
   * @param detail what was found instead, or why it is wrong; may be empty
   */
  public AuditQueryException(int position, String expected, String detail) {
    super(
        "audit query, at character "
            + (position + 1)
            + ": expected "
            + expected
            + (detail.isEmpty() ? "" : " (" + detail + ")"));
    this.position = position;
    this.expected = expected;
  }

  /** The 0-based index in the query where reading failed. */
  public int position() {
    return position;
  }

  /** What would have been accepted at {@link #position()}. */
  public String expected() {
    return expected;
  }
}

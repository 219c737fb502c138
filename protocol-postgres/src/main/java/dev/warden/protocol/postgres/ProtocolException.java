package dev.warden.protocol.postgres;

/**
 * A violation of the PostgreSQL frontend/backend protocol found while framing or decoding a
 * message. It carries the SQLSTATE the proxy reports to the client before closing the connection
 * ({@code 08P01} protocol_violation unless a more precise class applies). Its message never
 * contains the bytes of the offending message, so it is safe to log.
 */
public final class ProtocolException extends RuntimeException {
  /** SQLSTATE {@code 08P01}, protocol_violation. */
  public static final String PROTOCOL_VIOLATION = "08P01";

  private final String sqlState;

  /** A protocol violation with SQLSTATE {@code 08P01}. */
  public ProtocolException(String message) {
    this(PROTOCOL_VIOLATION, message);
  }

  /** A protocol error with the given five-character SQLSTATE. */
  public ProtocolException(String sqlState, String message) {
    super(message);
    if (sqlState == null || sqlState.length() != 5) {
      throw new IllegalArgumentException("SQLSTATE must have five characters");
    }
    this.sqlState = sqlState;
  }

  /** The SQLSTATE to report, e.g. {@code 08P01}. */
  public String sqlState() {
    return sqlState;
  }
}

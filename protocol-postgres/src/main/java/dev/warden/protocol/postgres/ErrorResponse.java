package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * ErrorResponse (B)
 *
 * @param fields the fields in wire order, no code repeated; any of them may be missing
 */
public record ErrorResponse(List<ErrorField> fields) implements ErrorOrNotice {
  /** The message type byte. */
  public static final byte TYPE = 'E';

  /** Copies the fields; a code may appear at most once. */
  public ErrorResponse {
    fields = ErrorFields.copy(fields);
  }

  /**
   * An error (a command failed; with severity FATAL or PANIC the server closes the session) with
   * fields {@code S} and {@code V} (both {@code severity}), {@code C}, {@code M}, and {@code H}
   * when {@code hint} is not null, in that order.
   */
  public static ErrorResponse of(String severity, String sqlState, String message, String hint) {
    return new ErrorResponse(ErrorFields.standard(severity, sqlState, message, hint));
  }

  @Override
  public void encode(ByteBuf out) {
    ErrorFields.encode(out, TYPE, fields);
  }

  /** Severity, SQLSTATE and field codes only: message and detail can quote row data. */
  @Override
  public String toString() {
    return "ErrorResponse[" + ErrorFields.describe(fields) + "]";
  }

  static ErrorResponse decode(MessageReader body) {
    return new ErrorResponse(ErrorFields.decode(body));
  }
}

package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * NoticeResponse (B)
 *
 * @param fields the fields in wire order, no code repeated; any of them may be missing
 */
public record NoticeResponse(List<ErrorField> fields) implements ErrorOrNotice {
  /** The message type byte. */
  public static final byte TYPE = 'N';

  /** Copies the fields; a code may appear at most once. */
  public NoticeResponse {
    fields = ErrorFields.copy(fields);
  }

  /**
   * A notice or warning (the command goes on) with fields {@code S} and {@code V} (both {@code
   * severity}), {@code C}, {@code M}, and {@code H} when {@code hint} is not null, in that order.
   */
  public static NoticeResponse of(String severity, String sqlState, String message, String hint) {
    return new NoticeResponse(ErrorFields.standard(severity, sqlState, message, hint));
  }

  @Override
  public void encode(ByteBuf out) {
    ErrorFields.encode(out, TYPE, fields);
  }

  /** Severity, SQLSTATE and field codes only: message and detail can quote row data. */
  @Override
  public String toString() {
    return "NoticeResponse[" + ErrorFields.describe(fields) + "]";
  }

  static NoticeResponse decode(MessageReader body) {
    return new NoticeResponse(ErrorFields.decode(body));
  }
}

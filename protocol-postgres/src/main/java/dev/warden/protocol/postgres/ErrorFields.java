package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/** The field list shared by ErrorResponse and NoticeResponse. */
final class ErrorFields {
  static final byte SEVERITY = 'S';
  static final byte SEVERITY_NONLOCALIZED = 'V';
  static final byte SQLSTATE = 'C';
  static final byte MESSAGE = 'M';
  static final byte HINT = 'H';

  private ErrorFields() {}

  /**
   * Copies the fields and refuses a repeated code. A server never repeats one, and clients disagree
   * on which copy wins (libpq and pgjdbc keep the last), so a repeated SQLSTATE or message could
   * show the proxy one error and the client another.
   */
  static List<ErrorField> copy(List<ErrorField> fields) {
    List<ErrorField> copy = Values.list(fields, "fields");
    boolean[] seen = new boolean[256];
    for (ErrorField field : copy) {
      int code = field.code() & 0xFF;
      if (seen[code]) {
        throw new IllegalArgumentException(
            "error field " + Values.describeType(field.code()) + " repeated");
      }
      seen[code] = true;
    }
    return copy;
  }

  /**
   * The value of the field with {@code code}, or the empty string when it is missing: a server (or
   * a hostile upstream) may omit any field, including the SQLSTATE (THREATS P14).
   */
  static String find(List<ErrorField> fields, byte code) {
    for (ErrorField field : fields) {
      if (field.code() == code) {
        return field.value();
      }
    }
    return "";
  }

  static List<ErrorField> standard(String severity, String sqlState, String message, String hint) {
    List<ErrorField> fields = new ArrayList<>(5);
    fields.add(new ErrorField(SEVERITY, severity));
    fields.add(new ErrorField(SEVERITY_NONLOCALIZED, severity));
    fields.add(new ErrorField(SQLSTATE, sqlState));
    fields.add(new ErrorField(MESSAGE, message));
    if (hint != null) {
      fields.add(new ErrorField(HINT, hint));
    }
    return fields;
  }

  static void encode(ByteBuf out, byte type, List<ErrorField> fields) {
    int lengthIndex = MessageWriter.begin(out, type);
    for (ErrorField field : fields) {
      out.writeByte(field.code());
      MessageWriter.writeCString(out, field.value());
    }
    out.writeByte(0);
    MessageWriter.end(out, lengthIndex);
  }

  static List<ErrorField> decode(MessageReader body) {
    List<ErrorField> fields = new ArrayList<>();
    while (true) {
      byte code = body.readByte();
      if (code == 0) {
        body.end();
        return fields;
      }
      fields.add(new ErrorField(code, body.readCString("field value")));
      if (fields.size() > Values.MAX_COUNT) {
        throw body.malformed("too many fields");
      }
    }
  }

  static String describe(List<ErrorField> fields) {
    StringBuilder codes = new StringBuilder();
    for (ErrorField field : fields) {
      byte code = field.code();
      codes.append(code >= 0x21 && code <= 0x7E ? (char) code : '?');
    }
    return "severity="
        + find(fields, SEVERITY_NONLOCALIZED)
        + ", sqlState="
        + find(fields, SQLSTATE)
        + ", fields="
        + codes;
  }
}

package dev.warden.protocol.postgres;

/**
 * One field of an ErrorResponse or NoticeResponse, as listed in "Error and Notice Message Fields":
 * {@code S} severity (localized), {@code V} severity (never localized), {@code C} SQLSTATE, {@code
 * M} message, {@code D} detail, {@code H} hint, {@code P} position and so on.
 *
 * @param code the field type; never 0, which ends the field list on the wire
 * @param value the field's text
 */
public record ErrorField(byte code, String value) {
  /** Checks the code and the value. */
  public ErrorField {
    if (code == 0) {
      throw new IllegalArgumentException("error field code must not be 0");
    }
    Values.text(value, "value");
  }

  /** The code and the value's length: detail and message text can quote row data. */
  @Override
  public String toString() {
    return "ErrorField[code=" + Values.describeType(code) + ", value=" + describeValue() + "]";
  }

  private String describeValue() {
    return switch (code) {
      case ErrorFields.SEVERITY, ErrorFields.SEVERITY_NONLOCALIZED, ErrorFields.SQLSTATE -> value;
      default -> Values.describeText(value);
    };
  }
}

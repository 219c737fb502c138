package dev.warden.protocol.postgres;

import java.util.List;

/**
 * The two backend messages made of "Error and Notice Message Fields" (protocol docs, section of
 * that name): ErrorResponse and NoticeResponse, which differ only in their type byte and meaning.
 */
public sealed interface ErrorOrNotice extends BackendMessage permits ErrorResponse, NoticeResponse {
  /** The fields in wire order, no code repeated; any of them may be missing. */
  List<ErrorField> fields();

  /** The SQLSTATE (field {@code C}), or the empty string when the server omitted it. */
  default String sqlState() {
    return ErrorFields.find(fields(), ErrorFields.SQLSTATE);
  }

  /** The primary message (field {@code M}), or the empty string when it is missing. */
  default String message() {
    return ErrorFields.find(fields(), ErrorFields.MESSAGE);
  }

  /**
   * The non-localized severity (field {@code V}, e.g. {@code ERROR}, {@code FATAL}), falling back
   * to the localized {@code S}; the empty string when both are missing.
   */
  default String severity() {
    String severity = ErrorFields.find(fields(), ErrorFields.SEVERITY_NONLOCALIZED);
    return severity.isEmpty() ? ErrorFields.find(fields(), ErrorFields.SEVERITY) : severity;
  }

  /** The value of the field with {@code code}, or the empty string when it is missing. */
  default String field(byte code) {
    return ErrorFields.find(fields(), code);
  }
}

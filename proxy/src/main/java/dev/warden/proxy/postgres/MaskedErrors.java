package dev.warden.proxy.postgres;

import dev.warden.core.masking.ResultMasking;
import dev.warden.protocol.postgres.ErrorField;
import java.util.ArrayList;
import java.util.List;

/**
 * Scrubs the server's errors and notices for identities whose results are masked (THREATS M08,
 * M09): the server quotes values in them ({@code invalid input syntax for type integer:
 * "alice@example.com"}, {@code Key (email)=(alice@example.com) already exists}). About a statement
 * that touches masked data, every free-text field goes and the message says why; about anything
 * else, the words a content detector recognises are masked. The SQLSTATE, severity, position and
 * object names stay, so clients and people can still tell what kind of error it was.
 */
final class MaskedErrors {
  private static final byte MESSAGE = 'M';
  private static final byte DETAIL = 'D';
  private static final byte HINT = 'H';
  private static final byte CONTEXT = 'W';
  private static final byte INTERNAL_QUERY = 'q';
  private static final byte SQLSTATE = 'C';

  private MaskedErrors() {}

  /** The fields to send instead of {@code fields}, or null when they can go as they are. */
  static List<ErrorField> scrub(List<ErrorField> fields, ResultMasking masking) {
    return masking.scrubErrors() ? hidden(fields) : scrubbed(fields, masking);
  }

  private static List<ErrorField> hidden(List<ErrorField> fields) {
    String sqlState = "";
    for (ErrorField f : fields) {
      if (f.code() == SQLSTATE) {
        sqlState = f.value();
      }
    }
    List<ErrorField> out = new ArrayList<>(fields.size() + 1);
    boolean hint = false;
    for (ErrorField f : fields) {
      switch (f.code()) {
        case MESSAGE ->
            out.add(
                new ErrorField(
                    MESSAGE,
                    "the server's message is hidden by Warden: the statement uses data that is"
                        + " masked for you"
                        + (sqlState.isEmpty() ? "" : " (SQLSTATE " + sqlState + ")")));
        case HINT -> {
          out.add(new ErrorField(HINT, HIDDEN_HINT));
          hint = true;
        }
        case DETAIL, CONTEXT, INTERNAL_QUERY -> {} // free text that may quote values
        default -> out.add(f);
      }
    }
    if (!hint) {
      out.add(new ErrorField(HINT, HIDDEN_HINT));
    }
    return out;
  }

  static final String HIDDEN_HINT =
      "The SQLSTATE says what kind of error it was; an identity exempt from masking can see the"
          + " server's full message.";

  private static List<ErrorField> scrubbed(List<ErrorField> fields, ResultMasking masking) {
    List<ErrorField> out = null;
    for (int i = 0; i < fields.size(); i++) {
      ErrorField f = fields.get(i);
      if (f.code() == MESSAGE
          || f.code() == DETAIL
          || f.code() == HINT
          || f.code() == CONTEXT
          || f.code() == INTERNAL_QUERY) {
        String value = masking.scrubText(f.value());
        if (!value.equals(f.value())) {
          if (out == null) {
            out = new ArrayList<>(fields);
          }
          out.set(i, new ErrorField(f.code(), value));
        }
      }
    }
    return out;
  }
}

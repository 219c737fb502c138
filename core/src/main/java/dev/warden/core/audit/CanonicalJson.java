package dev.warden.core.audit;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A deterministic JSON encoding for audit payloads, so that a record's hash can be recomputed from
 * its fields by anyone: no whitespace, integers only (no floating point), strings with quotes,
 * backslashes and control characters escaped (the short escapes where JSON has them, a four-digit
 * lower-case unicode escape otherwise) and everything else as UTF-8, as RFC 8785 does for these
 * types. Terminal and log injection (THREATS AD07) is harmless in it: a newline or an ANSI escape
 * in a statement is an escape sequence, not a byte that a terminal acts on.
 *
 * <p>Object keys are sorted by their UTF-16 code units ({@link String#compareTo}), as RFC 8785
 * section 3.2.3 specifies. That differs from code-point order only for keys with a character above
 * U+FFFF (written as a surrogate pair, code units D800–DFFF) where another key has one in
 * U+E000–U+FFFF at the same position: a key starting with U+1F600 sorts before one starting with
 * U+FFFD. An unpaired surrogate, which is not Unicode and outside RFC 8785's domain, is written as
 * {@code ?} (as the JDK's UTF-8 encoder replaces it), in keys and in values alike; keys are sorted
 * before that replacement. This is the behaviour of the first encoder, which the records already
 * chained were hashed with; {@code CanonicalJsonTest} spells it out.
 *
 * <p>{@link AuditEncoder#encode} writes its records without building maps, in the same bytes; this
 * class stays the reference for them and the encoder for other payloads (checkpoints, witnesses).
 */
public final class CanonicalJson {
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};

  /** Entries whose keys were checked to be strings, in RFC 8785 order. */
  private static final Comparator<Map.Entry<?, ?>> BY_KEY =
      (a, b) -> ((String) a.getKey()).compareTo((String) b.getKey());

  private CanonicalJson() {}

  /**
   * Encodes {@code value}: a {@link Map} with String keys, a {@link List}, a String, a Long or
   * Integer, a Boolean, or null.
   *
   * @throws IllegalArgumentException for anything else (a floating-point number, a key that is not
   *     a string), naming it
   */
  public static byte[] encode(Object value) {
    JsonBytes out = new JsonBytes(256);
    write(out, value);
    return out.toByteArray();
  }

  static void write(JsonBytes out, Object value) {
    switch (value) {
      case null -> out.raw(NULL);
      case String s -> out.string(s);
      case Boolean b -> out.raw(b ? TRUE : FALSE);
      case Long l -> out.number(l);
      case Integer i -> out.number(i);
      case Map<?, ?> m -> object(out, m);
      case List<?> list -> {
        out.ascii('[');
        boolean first = true;
        for (Object element : list) {
          if (!first) {
            out.ascii(',');
          }
          first = false;
          write(out, element);
        }
        out.ascii(']');
      }
      default ->
          throw new IllegalArgumentException(
              "not encodable in an audit record: " + value.getClass().getSimpleName());
    }
  }

  private static void object(JsonBytes out, Map<?, ?> m) {
    Map.Entry<?, ?>[] entries = m.entrySet().toArray(new Map.Entry<?, ?>[0]);
    for (Map.Entry<?, ?> e : entries) {
      if (!(e.getKey() instanceof String)) {
        throw new IllegalArgumentException("a JSON object key must be a string: " + e.getKey());
      }
    }
    // Stable: of equal keys (only a map by identity has them) the last one wins, as in a TreeMap.
    Arrays.sort(entries, BY_KEY);
    out.ascii('{');
    boolean first = true;
    for (int i = 0; i < entries.length; i++) {
      String key = (String) entries[i].getKey();
      if (i + 1 < entries.length && key.equals(entries[i + 1].getKey())) {
        continue;
      }
      if (!first) {
        out.ascii(',');
      }
      first = false;
      out.string(key);
      out.ascii(':');
      write(out, entries[i].getValue());
    }
    out.ascii('}');
  }
}

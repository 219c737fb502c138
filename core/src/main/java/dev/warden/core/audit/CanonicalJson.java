package dev.warden.core.audit;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A deterministic JSON encoding for audit payloads, so that a record's hash can be recomputed from
 * its fields by anyone: object keys sorted by code point, no whitespace, integers only (no floating
 * point), strings with quotes, backslashes and control characters escaped (the short escapes where
 * JSON has them, a four-digit unicode escape otherwise) and everything else as UTF-8, as RFC 8785
 * does for these types. Terminal and log injection (THREATS AD07) is harmless in it: a newline or
 * an ANSI escape in a statement is an escape sequence, not a byte that a terminal acts on.
 */
public final class CanonicalJson {
  private CanonicalJson() {}

  /**
   * Encodes {@code value}: a {@link Map} with String keys, a {@link List}, a String, a Long or
   * Integer, a Boolean, or null.
   */
  public static byte[] encode(Object value) {
    StringBuilder out = new StringBuilder(128);
    write(out, value);
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void write(StringBuilder out, Object value) {
    switch (value) {
      case null -> out.append("null");
      case String s -> string(out, s);
      case Boolean b -> out.append(b);
      case Long l -> out.append(l.longValue());
      case Integer i -> out.append(i.intValue());
      case Map<?, ?> m -> {
        Map<String, Object> sorted = new TreeMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (!(e.getKey() instanceof String key)) {
            throw new IllegalArgumentException("a JSON object key must be a string: " + e.getKey());
          }
          sorted.put(key, e.getValue());
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : sorted.entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          string(out, e.getKey());
          out.append(':');
          write(out, e.getValue());
        }
        out.append('}');
      }
      case List<?> list -> {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(out, list.get(i));
        }
        out.append(']');
      }
      default ->
          throw new IllegalArgumentException(
              "not encodable in an audit record: " + value.getClass().getSimpleName());
    }
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}

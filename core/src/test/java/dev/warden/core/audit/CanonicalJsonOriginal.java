package dev.warden.core.audit;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The canonical JSON encoding exactly as it was first written (commit {@code eed053d}: a TreeMap
 * per object, a StringBuilder, {@code getBytes(UTF_8)}), frozen here as the oracle for the faster
 * encoders: records already chained were hashed over these bytes, so {@link CanonicalJson} and
 * {@link AuditEncoder#encode} must keep producing them. Do not change it.
 */
final class CanonicalJsonOriginal {
  private CanonicalJsonOriginal() {}

  static byte[] encode(Object value) {
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

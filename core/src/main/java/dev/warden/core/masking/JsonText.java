package dev.warden.core.masking;

/**
 * JSON string literals: recognising a value that is exactly one string, decoding it and quoting a
 * masked replacement, so that a masked json or jsonb value is still valid JSON. Strict (RFC 8259):
 * anything that is not a well-formed single string is reported as not a string, and the caller then
 * replaces the whole value.
 */
final class JsonText {
  private JsonText() {}

  /**
   * The content of {@code json} when it is one JSON string (whitespace around it aside), or null.
   */
  static String stringContent(String json) {
    int start = 0;
    int end = json.length();
    while (start < end && space(json.charAt(start))) {
      start++;
    }
    while (end > start && space(json.charAt(end - 1))) {
      end--;
    }
    if (end - start < 2 || json.charAt(start) != '"' || json.charAt(end - 1) != '"') {
      return null;
    }
    StringBuilder out = new StringBuilder(end - start);
    int i = start + 1;
    int last = end - 1;
    while (i < last) {
      char c = json.charAt(i);
      if (c == '"' || c < 0x20) {
        return null;
      }
      if (c != '\\') {
        out.append(c);
        i++;
        continue;
      }
      if (i + 1 >= last) {
        return null;
      }
      char e = json.charAt(i + 1);
      switch (e) {
        case '"', '\\', '/' -> out.append(e);
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'u' -> {
          if (i + 6 > last) {
            return null;
          }
          int code = 0;
          for (int k = i + 2; k < i + 6; k++) {
            int d = Character.digit(json.charAt(k), 16);
            if (d < 0) {
              return null;
            }
            code = code * 16 + d;
          }
          out.append((char) code);
          i += 4;
        }
        default -> {
          return null;
        }
      }
      i += 2;
    }
    return out.toString();
  }

  /** {@code text} as a JSON string literal. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
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
    return out.append('"').toString();
  }

  private static boolean space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }
}

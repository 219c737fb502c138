package dev.warden.store.postgres;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the PostgreSQL store needs without a JSON library: making a payload acceptable to
 * {@code jsonb}, and reading a payload and a {@code doc} back as values to compare them.
 *
 * <p>{@code jsonb} refuses the escape {@code \u0000} (its text type cannot hold NUL), which the
 * canonical encoding writes for a NUL character. The chained payload keeps it; only the searchable
 * {@code doc} gets U+FFFD in its place.
 */
final class Json {
  private static final int MAX_DEPTH = 64;
  private static final byte[] NUL_ESCAPE = "\\u0000".getBytes(StandardCharsets.US_ASCII);

  private Json() {}

  /**
   * The text to store as {@code doc} for {@code payload} when PostgreSQL cannot parse the payload
   * itself, or null when it can (the common case: no NUL escape).
   */
  static String docText(byte[] payload) {
    if (indexOf(payload, NUL_ESCAPE) < 0) {
      return null;
    }
    String text = new String(payload, StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length()) {
        if (text.startsWith("u0000", i + 1)) {
          out.append("\\ufffd");
          i += 6;
        } else {
          out.append(c).append(text.charAt(i + 1));
          i += 2;
        }
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** The text PostgreSQL parses into {@code doc} for {@code payload}. */
  static String docSource(byte[] payload) {
    String sanitised = docText(payload);
    return sanitised != null ? sanitised : new String(payload, StandardCharsets.UTF_8);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Malformed JSON. */
  static final class MalformedException extends Exception {
    MalformedException(String message) {
      super(message);
    }
  }

  /**
   * Parses {@code text} into maps, lists, strings, {@link BigDecimal}s (trailing zeros stripped, so
   * that equal numbers are equal values), booleans and null. Objects compare equal whatever the
   * order of their keys, as {@code jsonb} does; a repeated key keeps its last value, as in {@code
   * jsonb}.
   */
  static Object parse(String text) throws MalformedException {
    Parser p = new Parser(text);
    p.space();
    Object value = p.value(0);
    p.space();
    if (p.pos != text.length()) {
      throw p.error("text after the value");
    }
    return value;
  }

  private static final class Parser {
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    MalformedException error(String what) {
      return new MalformedException(what + " at offset " + pos);
    }

    void space() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    Object value(int depth) throws MalformedException {
      if (depth > MAX_DEPTH) {
        throw error("nested more than " + MAX_DEPTH + " deep");
      }
      if (pos >= s.length()) {
        throw error("a value expected");
      }
      char c = s.charAt(pos);
      return switch (c) {
        case '{' -> object(depth);
        case '[' -> array(depth);
        case '"' -> string();
        case 't' -> literal("true", Boolean.TRUE);
        case 'f' -> literal("false", Boolean.FALSE);
        case 'n' -> literal("null", null);
        default -> number();
      };
    }

    private Object literal(String word, Object value) throws MalformedException {
      if (!s.startsWith(word, pos)) {
        throw error("a value expected");
      }
      pos += word.length();
      return value;
    }

    private Map<String, Object> object(int depth) throws MalformedException {
      Map<String, Object> map = new HashMap<>();
      pos++;
      space();
      if (pos < s.length() && s.charAt(pos) == '}') {
        pos++;
        return map;
      }
      while (true) {
        space();
        if (pos >= s.length() || s.charAt(pos) != '"') {
          throw error("a key expected");
        }
        String key = string();
        space();
        expect(':');
        space();
        map.put(key, value(depth + 1));
        space();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect('}');
        return map;
      }
    }

    private List<Object> array(int depth) throws MalformedException {
      List<Object> list = new ArrayList<>();
      pos++;
      space();
      if (pos < s.length() && s.charAt(pos) == ']') {
        pos++;
        return list;
      }
      while (true) {
        space();
        list.add(value(depth + 1));
        space();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect(']');
        return list;
      }
    }

    private void expect(char c) throws MalformedException {
      if (pos >= s.length() || s.charAt(pos) != c) {
        throw error("'" + c + "' expected");
      }
      pos++;
    }

    private String string() throws MalformedException {
      pos++;
      StringBuilder out = new StringBuilder();
      while (true) {
        if (pos >= s.length()) {
          throw error("an unterminated string");
        }
        char c = s.charAt(pos++);
        if (c == '"') {
          return out.toString();
        }
        if (c < 0x20) {
          throw error("a control character in a string");
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (pos >= s.length()) {
          throw error("an unterminated escape");
        }
        char e = s.charAt(pos++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            if (pos + 4 > s.length()) {
              throw error("a short unicode escape");
            }
            try {
              out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
            } catch (NumberFormatException ex) {
              throw error("a bad unicode escape");
            }
            pos += 4;
          }
          default -> throw error("an unknown escape \\" + e);
        }
      }
    }

    private BigDecimal number() throws MalformedException {
      int start = pos;
      while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
        pos++;
      }
      if (start == pos) {
        throw error("a value expected");
      }
      try {
        BigDecimal n = new BigDecimal(s.substring(start, pos));
        return n.signum() == 0 ? BigDecimal.ZERO : n.stripTrailingZeros();
      } catch (NumberFormatException | ArithmeticException e) {
        throw error("a bad number");
      }
    }
  }
}

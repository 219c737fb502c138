package dev.warden.sql.postgres;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads the value of a string constant in each of PostgreSQL's forms, and writes a value back as a
 * literal, for {@link PostgresRedactor}: secrets hide behind escapes ({@code E'p\x61ss'}, {@code
 * U&'p\0061ss'}) as easily as in plain text, so patterns are matched against values, never against
 * the text as written.
 *
 * <p>Decoding follows PostgreSQL 15's scanner (scan.l): {@code ''} inside quotes, backslash escapes
 * in {@code E''} literals and, with {@code standard_conforming_strings} off, in plain ones; {@code
 * U&} escapes with the escape char of {@code UESCAPE}; dollar quotes verbatim; and a literal
 * continued after whitespace holding a newline. A value the server would reject (a bad escape) is
 * {@code null}: the caller treats it as a secret it cannot read.
 */
final class RedactLiteral {
  private RedactLiteral() {}

  /** PostgreSQL's {@code space}: {@code [ \t\n\r\f\v]}. */
  static boolean isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
  }

  /**
   * Where a string literal ending at {@code from} continues: the index of the next opening quote if
   * only whitespace holding a newline, and {@code --} comments, lie between; else -1.
   */
  static int continuation(String text, int from, int limit) {
    boolean newline = false;
    int i = from;
    while (i < limit) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\r') {
        newline = true;
        i++;
      } else if (isSpace(c)) {
        i++;
      } else if (c == '-' && i + 1 < limit && text.charAt(i + 1) == '-') {
        while (i < limit && text.charAt(i) != '\n' && text.charAt(i) != '\r') {
          i++;
        }
      } else if (c == '\'' && newline) {
        return i;
      } else {
        return -1;
      }
    }
    return -1;
  }

  /** ASCII lower case, as the server folds unquoted names in multi-byte encodings. */
  static String asciiLower(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        char[] chars = s.toCharArray();
        for (int j = i; j < chars.length; j++) {
          if (chars[j] >= 'A' && chars[j] <= 'Z') {
            chars[j] = (char) (chars[j] + 32);
          }
        }
        return new String(chars);
      }
    }
    return s;
  }

  /** The name in a {@code "quoted"} identifier, or null if {@code raw} is not one. */
  static String quotedIdentifier(String raw) {
    if (raw.length() < 2 || raw.charAt(0) != '"' || raw.charAt(raw.length() - 1) != '"') {
      return null;
    }
    StringBuilder b = new StringBuilder(raw.length());
    for (int i = 1; i < raw.length() - 1; i++) {
      char c = raw.charAt(i);
      if (c == '"') {
        if (i + 1 >= raw.length() - 1 || raw.charAt(i + 1) != '"') {
          return null;
        }
        i++;
      }
      b.append(c);
    }
    return b.toString();
  }

  /** The name in a {@code U&"..."} identifier, or null if it is not one or an escape is bad. */
  static String unicodeIdentifier(String raw, char escape) {
    if (raw.length() < 3 || raw.charAt(1) != '&') {
      return null;
    }
    String body = quotedIdentifier(raw.substring(2));
    return body == null ? null : unicodeEscapes(body, escape);
  }

  /**
   * The value of a {@link RedactItem.Kind#STRING} item, or null if the server would reject it.
   *
   * @param standardStrings whether backslashes are ordinary characters in plain {@code ''} literals
   */
  static String value(RedactItem item, String text, boolean standardStrings) {
    StringBuilder value = new StringBuilder();
    for (RedactToken part : item.parts()) {
      String v =
          part(
              text.substring(part.start(), part.end()),
              part.type(),
              item.uescape(),
              standardStrings);
      if (v == null) {
        return null;
      }
      value.append(v);
    }
    return value.toString();
  }

  private static String part(String raw, int type, char escape, boolean standardStrings) {
    if (raw.length() < 2) {
      return null;
    }
    char first = raw.charAt(0);
    return switch (type) {
      case PgTokens.SCONST -> {
        if (first == '$') {
          yield dollarBody(raw);
        }
        if ((first == 'e' || first == 'E') && raw.charAt(1) == '\'') {
          yield quoted(raw, 1, true);
        }
        yield first == '\'' ? quoted(raw, 0, !standardStrings) : null;
      }
      case PgTokens.USCONST -> {
        if (raw.length() < 3 || raw.charAt(1) != '&' || raw.charAt(2) != '\'') {
          yield null;
        }
        String body = quoted(raw, 2, false);
        yield body == null ? null : unicodeEscapes(body, escape);
      }
      case PgTokens.BCONST, PgTokens.XCONST -> raw.charAt(1) == '\'' ? quoted(raw, 1, false) : null;
      default -> null;
    };
  }

  private static String dollarBody(String raw) {
    int close = raw.indexOf('$', 1);
    if (close < 0) {
      return null;
    }
    String tag = raw.substring(0, close + 1);
    if (raw.length() < 2 * tag.length() || !raw.endsWith(tag)) {
      return null;
    }
    return raw.substring(tag.length(), raw.length() - tag.length());
  }

  /**
   * The body of the quoted literal whose opening quote is at {@code open}, to the end of {@code
   * raw}, with doubled quotes, continuations and (if {@code backslashes}) escapes decoded.
   */
  private static String quoted(String raw, int open, boolean backslashes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    int i = open + 1;
    int length = raw.length();
    while (i < length) {
      char c = raw.charAt(i);
      if (c == '\'') {
        if (i + 1 < length && raw.charAt(i + 1) == '\'') {
          out.write('\'');
          i += 2;
          continue;
        }
        int next = continuation(raw, i + 1, length);
        if (next >= 0) {
          i = next + 1;
          continue;
        }
        return i + 1 == length ? out.toString(StandardCharsets.UTF_8) : null;
      }
      if (backslashes && c == '\\') {
        i = escape(raw, i, out);
        if (i < 0) {
          return null;
        }
        continue;
      }
      i = appendCodePoint(raw, i, out);
    }
    return null;
  }

  /** Decodes the backslash escape at {@code i} into {@code out}; the index after it, or -1. */
  private static int escape(String raw, int i, ByteArrayOutputStream out) {
    if (i + 1 >= raw.length()) {
      return -1;
    }
    char d = raw.charAt(i + 1);
    switch (d) {
      case 'b' -> out.write('\b');
      case 'f' -> out.write('\f');
      case 'n' -> out.write('\n');
      case 'r' -> out.write('\r');
      case 't' -> out.write('\t');
      case '0', '1', '2', '3', '4', '5', '6', '7' -> {
        int value = 0;
        int j = i + 1;
        while (j < raw.length() && j < i + 4 && raw.charAt(j) >= '0' && raw.charAt(j) <= '7') {
          value = value * 8 + (raw.charAt(j) - '0');
          j++;
        }
        out.write(value & 0xff);
        return j;
      }
      case 'x' -> {
        int value = 0;
        int j = i + 2;
        while (j < raw.length() && j < i + 4 && Character.digit(raw.charAt(j), 16) >= 0) {
          value = value * 16 + Character.digit(raw.charAt(j), 16);
          j++;
        }
        if (j == i + 2) {
          out.write('x'); // "\x" without hex digits is an x, as any other escaped char
        } else {
          out.write(value);
        }
        return j;
      }
      case 'u', 'U' -> {
        int digits = d == 'u' ? 4 : 8;
        int cp = hex(raw, i + 2, digits);
        int j = i + 2 + digits;
        if (cp < 0) {
          return -1;
        }
        if (Character.isHighSurrogate((char) cp) && cp <= 0xffff) {
          // the low half must follow as another \\u or \\U escape
          if (j + 1 >= raw.length() || raw.charAt(j) != '\\') {
            return -1;
          }
          int lowDigits = raw.charAt(j + 1) == 'u' ? 4 : raw.charAt(j + 1) == 'U' ? 8 : -1;
          int low = lowDigits < 0 ? -1 : hex(raw, j + 2, lowDigits);
          if (low < 0 || low > 0xffff || !Character.isLowSurrogate((char) low)) {
            return -1;
          }
          cp = Character.toCodePoint((char) cp, (char) low);
          j += 2 + lowDigits;
        } else if (cp > Character.MAX_CODE_POINT
            || cp == 0
            || (cp <= 0xffff && Character.isSurrogate((char) cp))) {
          return -1;
        }
        out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        return j;
      }
      default -> {
        return appendCodePoint(raw, i + 1, out);
      }
    }
    return i + 2;
  }

  private static int appendCodePoint(String raw, int i, ByteArrayOutputStream out) {
    int cp = raw.codePointAt(i);
    int n = Character.charCount(cp);
    out.writeBytes(raw.substring(i, i + n).getBytes(StandardCharsets.UTF_8));
    return i + n;
  }

  /** The value of {@code digits} hex digits at {@code from}, or -1. */
  private static int hex(String s, int from, int digits) {
    if (from + digits > s.length()) {
      return -1;
    }
    long value = 0;
    for (int i = from; i < from + digits; i++) {
      int d = Character.digit(s.charAt(i), 16);
      if (d < 0 || s.charAt(i) > 0x7f) {
        return -1;
      }
      value = value * 16 + d;
    }
    return value > Integer.MAX_VALUE ? -1 : (int) value;
  }

  /** Decodes {@code U&} escapes ({@code \XXXX}, {@code \+XXXXXX}, {@code \\}), or null. */
  static String unicodeEscapes(String body, char escape) {
    StringBuilder b = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); ) {
      char c = body.charAt(i);
      if (c != escape) {
        b.append(c);
        i++;
        continue;
      }
      if (i + 1 < body.length() && body.charAt(i + 1) == escape) {
        b.append(escape);
        i += 2;
        continue;
      }
      boolean plus = i + 1 < body.length() && body.charAt(i + 1) == '+';
      int digits = plus ? 6 : 4;
      int at = plus ? i + 2 : i + 1;
      int cp = hex(body, at, digits);
      if (cp < 0) {
        return null;
      }
      i = at + digits;
      if (cp <= 0xffff && Character.isHighSurrogate((char) cp)) {
        if (i >= body.length() || body.charAt(i) != escape) {
          return null;
        }
        boolean lowPlus = i + 1 < body.length() && body.charAt(i + 1) == '+';
        int lowAt = lowPlus ? i + 2 : i + 1;
        int lowDigits = lowPlus ? 6 : 4;
        int low = hex(body, lowAt, lowDigits);
        if (low < 0 || low > 0xffff || !Character.isLowSurrogate((char) low)) {
          return null;
        }
        cp = Character.toCodePoint((char) cp, (char) low);
        i = lowAt + lowDigits;
      } else if (cp == 0
          || cp > Character.MAX_CODE_POINT
          || (cp <= 0xffff && Character.isSurrogate((char) cp))) {
        return null;
      }
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

  /**
   * {@code value} written as a literal of the same kind as {@code item} where it can be: the same
   * dollar quote, else {@code E'...'} when it needs escapes or the original was one, else {@code
   * '...'}. The result is for people to read; it is never sent to a server.
   */
  static String literal(RedactItem item, String value, boolean standardStrings) {
    String raw = item.raw();
    if (raw.startsWith("$")) {
      int close = raw.indexOf('$', 1);
      String tag = raw.substring(0, close + 1);
      if ((value + tag).indexOf(tag) == value.length()) {
        return tag + value + tag;
      }
    }
    boolean backslashEscapes =
        raw.startsWith("E'") || raw.startsWith("e'") || (raw.startsWith("'") && !standardStrings);
    boolean needsEscapes = backslashEscapes;
    for (int i = 0; i < value.length() && !needsEscapes; i++) {
      char c = value.charAt(i);
      needsEscapes = c < 0x20 || c == 0x7f || c == '\\';
    }
    StringBuilder b = new StringBuilder(value.length() + 3);
    if (needsEscapes) {
      b.append("E'");
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '\\' -> b.append("\\\\");
          case '\'' -> b.append("''");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> {
            if (c < 0x20 || c == 0x7f) {
              b.append(String.format("\\x%02x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
    } else {
      b.append('\'');
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        b.append(c == '\'' ? "''" : String.valueOf(c));
      }
    }
    return b.append('\'').toString();
  }
}

package dev.warden.core.masking;

/**
 * A strict, bounded JSON reader that answers one question: is the text a JSON object with a
 * top-level string member {@code "alg"}? A full JSON library is not needed for that, and core has
 * none; nesting is capped so that hostile input cannot exhaust the stack.
 */
final class JsonHeader {
  private static final int MAX_DEPTH = 16;

  private final String text;
  private int pos;
  private boolean algFound;

  private JsonHeader(String text) {
    this.text = text;
  }

  static boolean hasAlg(String text) {
    JsonHeader reader = new JsonHeader(text);
    reader.skipSpace();
    if (!reader.peek('{') || !reader.value(0)) {
      return false;
    }
    reader.skipSpace();
    return reader.pos == text.length() && reader.algFound;
  }

  private boolean value(int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    skipSpace();
    if (pos >= text.length()) {
      return false;
    }
    char c = text.charAt(pos);
    return switch (c) {
      case '{' -> object(depth);
      case '[' -> array(depth);
      case '"' -> string() != null;
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    };
  }

  private boolean object(int depth) {
    pos++;
    skipSpace();
    if (peek('}')) {
      pos++;
      return true;
    }
    while (true) {
      skipSpace();
      String key = string();
      if (key == null) {
        return false;
      }
      skipSpace();
      if (!peek(':')) {
        return false;
      }
      pos++;
      skipSpace();
      boolean isString = peek('"');
      if (!value(depth + 1)) {
        return false;
      }
      if (depth == 0 && key.equals("alg") && isString) {
        algFound = true;
      }
      skipSpace();
      if (peek(',')) {
        pos++;
      } else if (peek('}')) {
        pos++;
        return true;
      } else {
        return false;
      }
    }
  }

  private boolean array(int depth) {
    pos++;
    skipSpace();
    if (peek(']')) {
      pos++;
      return true;
    }
    while (true) {
      if (!value(depth + 1)) {
        return false;
      }
      skipSpace();
      if (peek(',')) {
        pos++;
      } else if (peek(']')) {
        pos++;
        return true;
      } else {
        return false;
      }
    }
  }

  /** Reads a string and returns its raw contents (escapes kept), or null if malformed. */
  private String string() {
    if (!peek('"')) {
      return null;
    }
    int start = ++pos;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == '"') {
        return text.substring(start, pos++);
      }
      if (c < 0x20) {
        return null;
      }
      if (c == '\\') {
        pos++;
        if (pos >= text.length() || "\"\\/bfnrtu".indexOf(text.charAt(pos)) < 0) {
          return null;
        }
        if (text.charAt(pos) == 'u') {
          if (!Text.all(text, pos + 1, Math.min(pos + 5, text.length()), Text::isHex)
              || pos + 5 > text.length()) {
            return null;
          }
          pos += 4;
        }
      }
      pos++;
    }
    return null;
  }

  private boolean number() {
    int start = pos;
    if (peek('-')) {
      pos++;
    }
    int digits = pos;
    while (pos < text.length() && Text.isDigit(text.charAt(pos))) {
      pos++;
    }
    if (pos == digits) {
      return false;
    }
    if (peek('.')) {
      pos++;
      int fraction = pos;
      while (pos < text.length() && Text.isDigit(text.charAt(pos))) {
        pos++;
      }
      if (pos == fraction) {
        return false;
      }
    }
    if (peek('e') || peek('E')) {
      pos++;
      if (peek('+') || peek('-')) {
        pos++;
      }
      int exponent = pos;
      while (pos < text.length() && Text.isDigit(text.charAt(pos))) {
        pos++;
      }
      if (pos == exponent) {
        return false;
      }
    }
    return pos > start;
  }

  private boolean literal(String word) {
    if (text.startsWith(word, pos)) {
      pos += word.length();
      return true;
    }
    return false;
  }

  private boolean peek(char c) {
    return pos < text.length() && text.charAt(pos) == c;
  }

  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }
}

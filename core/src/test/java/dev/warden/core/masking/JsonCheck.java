package dev.warden.core.masking;

/**
 * A strict RFC 8259 validator for tests: core has no JSON library, and masked json values must be
 * valid JSON whatever went in.
 */
final class JsonCheck {
  private final String text;
  private int pos;

  private JsonCheck(String text) {
    this.text = text;
  }

  static boolean valid(String text) {
    JsonCheck c = new JsonCheck(text);
    try {
      c.space();
      c.value(0);
      c.space();
      return c.pos == text.length();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private void value(int depth) {
    if (depth > 64 || pos >= text.length()) {
      throw new IllegalStateException();
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{' -> {
        pos++;
        space();
        if (peek() == '}') {
          pos++;
          return;
        }
        while (true) {
          space();
          string();
          space();
          expect(':');
          space();
          value(depth + 1);
          space();
          if (peek() == ',') {
            pos++;
          } else {
            expect('}');
            return;
          }
        }
      }
      case '[' -> {
        pos++;
        space();
        if (peek() == ']') {
          pos++;
          return;
        }
        while (true) {
          space();
          value(depth + 1);
          space();
          if (peek() == ',') {
            pos++;
          } else {
            expect(']');
            return;
          }
        }
      }
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  private void string() {
    expect('"');
    while (true) {
      if (pos >= text.length()) {
        throw new IllegalStateException();
      }
      char c = text.charAt(pos++);
      if (c == '"') {
        return;
      }
      if (c < 0x20) {
        throw new IllegalStateException();
      }
      if (c == '\\') {
        char e = text.charAt(pos++);
        if (e == 'u') {
          for (int i = 0; i < 4; i++) {
            if (Character.digit(text.charAt(pos++), 16) < 0) {
              throw new IllegalStateException();
            }
          }
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          throw new IllegalStateException();
        }
      }
    }
  }

  private void number() {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else {
      digits();
    }
    if (peek() == '.') {
      pos++;
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      digits();
    }
    if (pos == start) {
      throw new IllegalStateException();
    }
  }

  private void digits() {
    int start = pos;
    while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
      pos++;
    }
    if (pos == start) {
      throw new IllegalStateException();
    }
  }

  private void literal(String word) {
    if (!text.startsWith(word, pos)) {
      throw new IllegalStateException();
    }
    pos += word.length();
  }

  private void expect(char c) {
    if (peek() != c) {
      throw new IllegalStateException();
    }
    pos++;
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void space() {
    while (pos < text.length() && " \t\n\r".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
  }
}

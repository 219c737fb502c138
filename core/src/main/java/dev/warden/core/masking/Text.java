package dev.warden.core.masking;

/** Character classes shared by the detectors; none of them uses regular expressions. */
final class Text {
  private Text() {}

  /** The value without surrounding whitespace, or null when absent or too long to examine. */
  static String candidate(String value) {
    if (value == null || value.length() > Detectors.MAX_VALUE_LENGTH) {
      return null;
    }
    return value.strip();
  }

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean isUpper(char c) {
    return c >= 'A' && c <= 'Z';
  }

  static boolean isLower(char c) {
    return c >= 'a' && c <= 'z';
  }

  static boolean isAlnum(char c) {
    return isDigit(c) || isUpper(c) || isLower(c);
  }

  static boolean isHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  static boolean isLowerHex(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f');
  }

  static boolean isBase64Url(char c) {
    return isAlnum(c) || c == '-' || c == '_';
  }

  static boolean isBase64(char c) {
    return isAlnum(c) || c == '+' || c == '/';
  }

  /** The crypt(3) alphabet used by bcrypt, sha-crypt and scrypt's $7$ format. */
  static boolean isCrypt64(char c) {
    return isAlnum(c) || c == '.' || c == '/';
  }

  interface CharClass {
    boolean test(char c);
  }

  static boolean all(String s, int from, int to, CharClass cls) {
    if (from > to || to > s.length()) {
      return false;
    }
    for (int i = from; i < to; i++) {
      if (!cls.test(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  static boolean all(String s, CharClass cls) {
    return all(s, 0, s.length(), cls);
  }

  /** A decimal number of 1 to 9 digits without a sign, or -1. */
  static int smallNumber(String s) {
    if (s.isEmpty() || s.length() > 9 || !all(s, Text::isDigit)) {
      return -1;
    }
    return Integer.parseInt(s);
  }

  /** Base64 (standard alphabet, optional padding) decoding to at least {@code minBytes} bytes. */
  static boolean isBase64Blob(String s, int minBytes) {
    int end = s.length();
    int pad = 0;
    while (end > 0 && s.charAt(end - 1) == '=' && pad < 2) {
      end--;
      pad++;
    }
    if (end == 0 || !all(s, 0, end, Text::isBase64)) {
      return false;
    }
    if (pad > 0 && s.length() % 4 != 0) {
      return false;
    }
    if (end % 4 == 1) {
      return false;
    }
    return (long) end * 3 / 4 >= minBytes;
  }
}

package dev.warden.core.masking;

/**
 * Keyed replacements that keep a value's shape, for the format-preserving strategy (and for
 * pseudonyms of numbers and dates, which must stay numbers and dates). Every character is drawn
 * from a keyed stream determined by the whole value, so equal values give equal replacements and
 * the replacement says nothing about the value without the key. Not reversible, and not meant to
 * be: nothing needs the original back.
 */
final class Shapes {
  private Shapes() {}

  /**
   * Digits by digits, ASCII letters by letters of the same case, other letters (and characters
   * outside the Basic Multilingual Plane) by lower-case ASCII letters, everything else kept: the
   * same length in UTF-16 units. With {@code luhn}, a value of 12 digits or more gets a valid Luhn
   * check digit, so that it still looks like a card number to the applications reading it.
   */
  static String text(MaskingKey.Stream stream, String value, boolean luhn) {
    char[] out = new char[value.length()];
    int digits = 0;
    for (int i = 0; i < out.length; i++) {
      char c = value.charAt(i);
      if (Character.isDigit(c)) {
        out[i] = (char) ('0' + stream.below(10));
        digits++;
      } else if (Character.isUpperCase(c)) {
        out[i] = (char) ('A' + stream.below(26));
      } else if (Character.isLetter(c) || Character.isSurrogate(c)) {
        out[i] = (char) ('a' + stream.below(26));
      } else {
        out[i] = c;
      }
    }
    if (luhn && digits >= 12) {
      fixLuhn(out);
    }
    return new String(out);
  }

  /** Sets the last digit so that the digits pass the Luhn check. */
  private static void fixLuhn(char[] out) {
    int last = -1;
    for (int i = out.length - 1; i >= 0; i--) {
      if (Text.isDigit(out[i])) {
        last = i;
        break;
      }
    }
    int sum = 0;
    boolean twice = true;
    for (int i = last - 1; i >= 0; i--) {
      if (!Text.isDigit(out[i])) {
        continue;
      }
      int d = out[i] - '0';
      if (twice) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      twice = !twice;
    }
    out[last] = (char) ('0' + (10 - sum % 10) % 10);
  }

  /**
   * A number of the same sign, number of digits, scale and exponent, no larger in magnitude than
   * the original (so it fits any type that held the original), or null when the value is not a
   * plain decimal number ({@code NaN}, {@code Infinity}).
   */
  static String number(MaskingKey.Stream stream, String value) {
    String s = value.strip();
    int i = 0;
    int n = s.length();
    StringBuilder out = new StringBuilder(n);
    if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
      out.append(s.charAt(i++));
    }
    int intStart = i;
    while (i < n && Text.isDigit(s.charAt(i))) {
      i++;
    }
    int intEnd = i;
    int fracStart = -1;
    int fracEnd = -1;
    if (i < n && s.charAt(i) == '.') {
      fracStart = ++i;
      while (i < n && Text.isDigit(s.charAt(i))) {
        i++;
      }
      fracEnd = i;
    }
    int expStart = i;
    if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
      i++;
      if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
        i++;
      }
      int expDigits = i;
      while (i < n && Text.isDigit(s.charAt(i))) {
        i++;
      }
      if (i == expDigits) {
        return null;
      }
    }
    int fracDigits = fracStart < 0 ? 0 : fracEnd - fracStart;
    if (i != n || (intEnd == intStart && fracDigits == 0)) {
      return null;
    }
    // Integer digits: while the prefix equals the original's, a digit may not exceed the original
    // one, so that the magnitude stays within the original's; the first of several is never 0.
    boolean tight = true;
    for (int k = intStart; k < intEnd; k++) {
      int original = s.charAt(k) - '0';
      int low = k == intStart && intEnd - intStart > 1 ? 1 : 0;
      int high = tight ? original : 9;
      int d = high < low ? original : low + stream.below(high - low + 1);
      tight &= d == original;
      out.append((char) ('0' + d));
    }
    if (fracStart >= 0) {
      out.append('.');
      for (int k = 0; k < fracDigits; k++) {
        out.append((char) ('0' + stream.below(10)));
      }
    }
    out.append(s, expStart, n);
    return out.toString();
  }

  /**
   * A valid ISO date in the same decade (day 1 to 28 of a keyed month), or null when the value is
   * not an ISO date.
   */
  static String date(MaskingKey.Stream stream, String value) {
    int[] ymd = isoDate(value.strip());
    if (ymd == null) {
      return null;
    }
    int year = Math.max(1, ymd[0] - ymd[0] % 10 + stream.below(10));
    int month = 1 + stream.below(12);
    int day = 1 + stream.below(28);
    return String.format("%04d-%02d-%02d", year, month, day);
  }

  /** Year, month and day of {@code YYYY-MM-DD} when it is a real date, else null. */
  static int[] isoDate(String s) {
    if (s.length() != 10 || s.charAt(4) != '-' || s.charAt(7) != '-') {
      return null;
    }
    int year = Text.smallNumber(s.substring(0, 4));
    int month = Text.smallNumber(s.substring(5, 7));
    int day = Text.smallNumber(s.substring(8, 10));
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
      return null;
    }
    return new int[] {year, month, day};
  }

  private static int daysIn(int year, int month) {
    return switch (month) {
      case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }
}

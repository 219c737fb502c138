package dev.warden.core.masking;

import java.util.Optional;

/**
 * The partial forms: what the {@code partial} strategy keeps of each kind of data. What is kept is
 * disclosed on purpose (docs/masking.md lists it), so every form keeps as little as is useful:
 *
 * <ul>
 *   <li>e-mail address: the domain, {@code ****@example.com};
 *   <li>payment card: the last four digits, separators kept, {@code **** **** **** 1234};
 *   <li>IBAN: the country code and the last four characters, {@code DE** **** **** **** **30 00};
 *   <li>phone number: the last two digits, separators kept, {@code +** *** *** **00};
 *   <li>date of birth: the year, as 1 January of it, {@code 1984-01-01}.
 * </ul>
 *
 * Any other kind, and any value that does not have the shape the form needs, has no partial form
 * (null), and is redacted instead.
 */
final class Partial {
  private Partial() {}

  /** The partial form of {@code value}, or null when it has none. */
  static String of(Optional<DataKind> kind, String value) {
    if (kind.isEmpty()) {
      return null;
    }
    String s = value.strip();
    return switch (kind.get()) {
      case EMAIL -> email(s);
      case PAYMENT_CARD -> card(s);
      case IBAN -> iban(s);
      case PHONE -> phone(s);
      case DATE_OF_BIRTH -> year(s);
      default -> null;
    };
  }

  /** What {@link #ofAscii} returns for a kind it leaves to {@link #of}. */
  static final byte[] UNHANDLED = new byte[0];

  /**
   * {@link #of} for the ASCII text {@code b[from, to)}, on the bytes: the partial form as ASCII
   * bytes, null when it has none, or {@link #UNHANDLED} for a kind only {@link #of} knows.
   */
  static byte[] ofAscii(Optional<DataKind> kind, byte[] b, int from, int to) {
    if (kind.isEmpty()) {
      return null;
    }
    DataKind k = kind.get();
    if (k != DataKind.EMAIL && k != DataKind.PHONE && k != DataKind.PAYMENT_CARD) {
      return UNHANDLED;
    }
    // String.strip() on ASCII: what Character.isWhitespace calls whitespace, at both ends.
    while (from < to && asciiWhitespace(b[from])) {
      from++;
    }
    while (to > from && asciiWhitespace(b[to - 1])) {
      to--;
    }
    return switch (k) {
      case EMAIL -> emailAscii(b, from, to);
      case PHONE -> lastDigitsAscii(b, from, to, 2, 6, " +-().");
      default -> lastDigitsAscii(b, from, to, 4, 12, " -");
    };
  }

  private static boolean asciiWhitespace(byte c) {
    return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
  }

  private static byte[] emailAscii(byte[] b, int from, int to) {
    int at = -1;
    for (int i = from; i < to; i++) {
      if (asciiWhitespace(b[i])) {
        return null; // free text, not one address
      }
      if (b[i] == '@') {
        at = i;
      }
    }
    if (at < from + 1 || at == to - 1) {
      return null;
    }
    byte[] out = new byte[4 + to - at];
    out[0] = out[1] = out[2] = out[3] = '*';
    System.arraycopy(b, at, out, 4, to - at);
    return out;
  }

  private static byte[] lastDigitsAscii(
      byte[] b, int from, int to, int keep, int minDigits, String separators) {
    int digits = 0;
    for (int i = from; i < to; i++) {
      if (b[i] >= '0' && b[i] <= '9') {
        digits++;
      }
    }
    if (digits < minDigits) {
      return null;
    }
    byte[] out = new byte[to - from];
    int seen = 0;
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c >= '0' && c <= '9') {
        seen++;
        out[i - from] = seen > digits - keep ? c : (byte) '*';
      } else {
        out[i - from] = separators.indexOf(c) >= 0 ? c : (byte) '*';
      }
    }
    return out;
  }

  private static String email(String s) {
    int at = s.lastIndexOf('@');
    if (at < 1 || at == s.length() - 1 || !addressLike(s)) {
      return null; // free text or a document that holds an address: redacted whole
    }
    return "****" + s.substring(at);
  }

  /** No whitespace: one address, not free text that holds one. */
  private static boolean addressLike(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Digits hidden except the last four; spaces and hyphens kept; needs 12 digits at least. */
  private static String card(String s) {
    return lastDigits(s, 4, 12, " -");
  }

  /** The first two letters and the last four characters kept; needs 8 letters and digits. */
  private static String iban(String s) {
    if (s.length() < 2 || !Character.isLetter(s.charAt(0)) || !Character.isLetter(s.charAt(1))) {
      return null;
    }
    int alnum = 0;
    for (int i = 0; i < s.length(); i++) {
      if (Text.isAlnum(s.charAt(i))) {
        alnum++;
      }
    }
    if (alnum < 8) {
      return null;
    }
    StringBuilder out = new StringBuilder(s.length());
    int seen = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Text.isAlnum(c)) {
        seen++;
        out.append(seen <= 2 || seen > alnum - 4 ? c : '*');
      } else {
        out.append(c == ' ' ? c : '*');
      }
    }
    return out.toString();
  }

  /** Digits hidden except the last two; the usual separators kept; needs 6 digits at least. */
  private static String phone(String s) {
    return lastDigits(s, 2, 6, " +-().");
  }

  /**
   * {@code s} with every digit but the last {@code keep} hidden, the characters in {@code
   * separators} kept and every other character hidden; null when it has fewer than {@code
   * minDigits} digits.
   */
  private static String lastDigits(String s, int keep, int minDigits, String separators) {
    int digits = countDigits(s);
    if (digits < minDigits) {
      return null;
    }
    StringBuilder out = new StringBuilder(s.length());
    int seen = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Text.isDigit(c)) {
        seen++;
        out.append(seen > digits - keep ? c : '*');
      } else {
        out.append(separators.indexOf(c) >= 0 ? c : '*');
      }
    }
    return out.toString();
  }

  /** {@code YYYY-01-01} for an ISO date {@code YYYY-MM-DD} (a real one), else null. */
  static String year(String value) {
    String s = value.strip();
    if (Shapes.isoDate(s) == null) {
      return null;
    }
    return s.substring(0, 4) + "-01-01";
  }

  private static int countDigits(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      if (Text.isDigit(s.charAt(i))) {
        n++;
      }
    }
    return n;
  }
}

package dev.warden.core.masking;

/**
 * Payment card numbers (PANs): 12 to 19 digits, optionally grouped by single spaces or hyphens,
 * whose Luhn check digit is right and whose issuer identification number and length belong to a
 * known scheme (Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro,
 * Mir). A number passing Luhn by chance (one in ten) is still refused unless its prefix and length
 * fit a scheme.
 */
final class PaymentCardDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.PAYMENT_CARD;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() > 23) {
      return false;
    }
    String digits = digitsOf(s);
    return digits != null && schemeAccepts(digits) && luhn(digits);
  }

  /** The digits with single separators (all the same) removed, or null. */
  private static String digitsOf(String s) {
    StringBuilder digits = new StringBuilder(19);
    char separator = 0;
    boolean lastWasDigit = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Text.isDigit(c)) {
        digits.append(c);
        lastWasDigit = true;
      } else if ((c == ' ' || c == '-') && lastWasDigit && (separator == 0 || separator == c)) {
        separator = c;
        lastWasDigit = false;
      } else {
        return null;
      }
    }
    if (!lastWasDigit || digits.length() < 12 || digits.length() > 19) {
      return null;
    }
    return digits.toString();
  }

  static boolean luhn(String digits) {
    int sum = 0;
    boolean twice = false;
    for (int i = digits.length() - 1; i >= 0; i--) {
      int d = digits.charAt(i) - '0';
      if (twice) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      twice = !twice;
    }
    return sum % 10 == 0;
  }

  private static boolean schemeAccepts(String d) {
    int n = d.length();
    int p1 = d.charAt(0) - '0';
    int p2 = Integer.parseInt(d.substring(0, 2));
    int p3 = Integer.parseInt(d.substring(0, 3));
    int p4 = Integer.parseInt(d.substring(0, 4));
    int p6 = Integer.parseInt(d.substring(0, 6));
    if (p1 == 4) { // Visa
      return n == 13 || n == 16 || n == 19;
    }
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) { // Mastercard
      return n == 16;
    }
    if (p2 == 34 || p2 == 37) { // American Express
      return n == 15;
    }
    if (p4 >= 2200 && p4 <= 2204) { // Mir
      return n >= 16 && n <= 19;
    }
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) {
      return n >= 16 && n <= 19; // Discover
    }
    if (p4 >= 3528 && p4 <= 3589) { // JCB
      return n >= 16 && n <= 19;
    }
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) { // Diners Club
      return n >= 14 && n <= 19;
    }
    if (p2 == 62 || p2 == 81) { // UnionPay
      return n >= 16 && n <= 19;
    }
    if (p4 == 5018
        || p4 == 5020
        || p4 == 5038
        || p4 == 5893
        || p4 == 6304
        || p4 == 6759
        || p4 == 6761
        || p4 == 6762
        || p4 == 6763) { // Maestro
      return n >= 12 && n <= 19;
    }
    return false;
  }
}

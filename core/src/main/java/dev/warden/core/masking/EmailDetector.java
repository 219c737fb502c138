package dev.warden.core.masking;

/**
 * E-mail addresses in the practical subset of RFC 5321 that real systems store: a dot-atom local
 * part (no quoted strings, no comments) of at most 64 characters and a domain name of at least two
 * labels whose top-level label is alphabetic (or an IDNA {@code xn--} label); at most 254
 * characters in all. Address literals ({@code user@[192.0.2.1]}) are not recognised.
 */
final class EmailDetector implements ContentDetector {
  private static final String ATEXT = "!#$%&'*+/=?^_`{|}~-";

  @Override
  public DataKind kind() {
    return DataKind.EMAIL;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() > 254) {
      return false;
    }
    int at = s.indexOf('@');
    if (at <= 0 || at > 64 || s.indexOf('@', at + 1) >= 0) {
      return false;
    }
    return localPart(s.substring(0, at)) && domain(s.substring(at + 1));
  }

  private static boolean localPart(String local) {
    if (local.startsWith(".") || local.endsWith(".") || local.contains("..")) {
      return false;
    }
    return Text.all(local, c -> Text.isAlnum(c) || c == '.' || ATEXT.indexOf(c) >= 0);
  }

  static boolean domain(String domain) {
    if (domain.isEmpty() || domain.length() > 253) {
      return false;
    }
    String[] labels = domain.split("\\.", -1);
    if (labels.length < 2) {
      return false;
    }
    for (String label : labels) {
      if (label.isEmpty()
          || label.length() > 63
          || label.startsWith("-")
          || label.endsWith("-")
          || !Text.all(label, c -> Text.isAlnum(c) || c == '-')) {
        return false;
      }
    }
    String tld = labels[labels.length - 1];
    return (tld.length() >= 2 && Text.all(tld, c -> Text.isUpper(c) || Text.isLower(c)))
        || (tld.length() > 4 && tld.regionMatches(true, 0, "xn--", 0, 4));
  }
}

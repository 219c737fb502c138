package dev.warden.core.masking;

/**
 * US social security numbers written as {@code AAA-GG-SSSS} (hyphens or single spaces), with the
 * ranges the SSA never issues refused: area 000, 666 and 900-999, group 00, serial 0000, and the
 * two numbers voided after publication (078-05-1120, 219-09-9999). Nine bare digits are not
 * recognised: they are indistinguishable from counters and order numbers; a column named ssn is
 * found by {@link ColumnHints} instead.
 */
final class UsSsnDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.NATIONAL_ID;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() != 11) {
      return false;
    }
    char sep = s.charAt(3);
    if ((sep != '-' && sep != ' ') || s.charAt(6) != sep) {
      return false;
    }
    if (!Text.all(s, 0, 3, Text::isDigit)
        || !Text.all(s, 4, 6, Text::isDigit)
        || !Text.all(s, 7, 11, Text::isDigit)) {
      return false;
    }
    int area = Integer.parseInt(s.substring(0, 3));
    int group = Integer.parseInt(s.substring(4, 6));
    int serial = Integer.parseInt(s.substring(7, 11));
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) {
      return false;
    }
    return !(area == 78 && group == 5 && serial == 1120)
        && !(area == 219 && group == 9 && serial == 9999);
  }
}

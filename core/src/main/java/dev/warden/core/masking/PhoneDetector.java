package dev.warden.core.masking;

import java.util.ArrayList;
import java.util.List;

/**
 * Telephone numbers: E.164 with a leading {@code +} (or the {@code 00} international prefix) and 8
 * to 15 digits, the North American 3-3-4 plan with its area and exchange rules, and national
 * numbers with a trunk {@code 0} of 9 to 12 digits. Digits may be grouped by spaces, hyphens, dots
 * or parentheses. Bare digit runs without {@code +} are refused (they are counters, order numbers
 * and timestamps far more often than phones), as are groupings that read as a date.
 */
final class PhoneDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.PHONE;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() < 7 || s.length() > 25) {
      return false;
    }
    boolean plus = s.charAt(0) == '+';
    List<String> groups = groups(plus ? s.substring(1) : s);
    if (groups == null) {
      return false;
    }
    String digits = String.join("", groups);
    if (plus) {
      return digits.length() >= 8 && digits.length() <= 15 && digits.charAt(0) != '0';
    }
    if (groups.size() < 2 || looksLikeDate(groups)) {
      return false;
    }
    if (digits.startsWith("00")) {
      return digits.length() >= 10 && digits.length() <= 17 && digits.charAt(2) != '0';
    }
    return northAmerican(groups, digits) || national(groups, digits);
  }

  /** Digit groups split at separators; null if anything else appears or parentheses misnest. */
  private static List<String> groups(String s) {
    List<String> groups = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int open = 0;
    char lastSep = 'x';
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Text.isDigit(c)) {
        current.append(c);
        lastSep = 'x';
        continue;
      }
      if (c == '(') {
        if (open > 0 || current.length() > 0 && lastSep == 'x') {
          return null;
        }
        open++;
      } else if (c == ')') {
        if (open == 0 || current.isEmpty()) {
          return null;
        }
        open--;
      } else if (c == ' ' || c == '-' || c == '.') {
        if (lastSep == ' ' || lastSep == '-' || lastSep == '.') {
          return null;
        }
        lastSep = c;
      } else {
        return null;
      }
      if (!current.isEmpty()) {
        groups.add(current.toString());
        current.setLength(0);
      }
    }
    if (open != 0 || lastSep != 'x' || current.isEmpty()) {
      return null;
    }
    groups.add(current.toString());
    return groups;
  }

  private static boolean looksLikeDate(List<String> g) {
    if (g.size() < 3) {
      return false;
    }
    int a = Text.smallNumber(g.get(0));
    int b = Text.smallNumber(g.get(1));
    int c = Text.smallNumber(g.get(2));
    boolean ymd = g.get(0).length() == 4 && month(b) && day(c);
    boolean dmy = g.get(2).length() == 4 && ((day(a) && month(b)) || (month(a) && day(b)));
    return ymd || dmy;
  }

  private static boolean month(int m) {
    return m >= 1 && m <= 12;
  }

  private static boolean day(int d) {
    return d >= 1 && d <= 31;
  }

  private static boolean northAmerican(List<String> groups, String digits) {
    String national = digits;
    List<String> g = groups;
    if (digits.length() == 11 && digits.charAt(0) == '1' && groups.get(0).equals("1")) {
      national = digits.substring(1);
      g = groups.subList(1, groups.size());
    }
    if (national.length() != 10) {
      return false;
    }
    boolean grouped =
        g.size() == 3 && g.get(0).length() == 3 && g.get(1).length() == 3 && g.get(2).length() == 4;
    boolean twoGroups = g.size() == 2 && g.get(0).length() == 3 && g.get(1).length() == 7;
    return (grouped || twoGroups)
        && national.charAt(0) >= '2'
        && national.charAt(3) >= '2'
        && !(national.charAt(1) == '1' && national.charAt(2) == '1');
  }

  private static boolean national(List<String> groups, String digits) {
    if (digits.charAt(0) != '0' || digits.length() < 9 || digits.length() > 12) {
      return false;
    }
    if (digits.charAt(1) == '0') {
      return false;
    }
    for (String group : groups) {
      if (group.length() < 2 || group.length() > 8) {
        return false;
      }
    }
    return true;
  }
}

package dev.warden.core.masking;

/**
 * IPv4 addresses in dotted-quad form (no leading zeros, which some parsers read as octal) and IPv6
 * addresses (RFC 4291 text forms: full, {@code ::}-compressed, with an embedded IPv4 tail, with a
 * zone id), parsed group by group. Prefixes in CIDR notation are networks, not addresses, and are
 * refused; so are times ({@code 12:30:45}) and MAC addresses, which have too few groups.
 */
final class IpAddressDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.IP_ADDRESS;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() < 2 || s.length() > 64) {
      return false;
    }
    return s.indexOf(':') >= 0 ? ipv6(s) : ipv4(s);
  }

  static boolean ipv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      if (part.isEmpty() || part.length() > 3 || !Text.all(part, Text::isDigit)) {
        return false;
      }
      if (part.length() > 1 && part.charAt(0) == '0') {
        return false;
      }
      if (Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }

  static boolean ipv6(String input) {
    String s = input;
    int zone = s.indexOf('%');
    if (zone >= 0) {
      String id = s.substring(zone + 1);
      if (id.isEmpty()
          || id.length() > 16
          || !Text.all(id, c -> Text.isAlnum(c) || c == '.' || c == '_' || c == '-')) {
        return false;
      }
      s = s.substring(0, zone);
    }
    int doubleColon = s.indexOf("::");
    if (doubleColon >= 0 && s.indexOf("::", doubleColon + 1) >= 0) {
      return false;
    }
    int groups;
    if (doubleColon >= 0) {
      int left = countGroups(s.substring(0, doubleColon), false);
      int right = countGroups(s.substring(doubleColon + 2), true);
      if (left < 0 || right < 0) {
        return false;
      }
      groups = left + right;
      return groups <= 7;
    }
    groups = countGroups(s, true);
    return groups == 8;
  }

  /** Counts 16-bit groups (an IPv4 tail counts two), or -1 if malformed. */
  private static int countGroups(String s, boolean ipv4TailAllowed) {
    if (s.isEmpty()) {
      return 0;
    }
    String[] parts = s.split(":", -1);
    int count = 0;
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (i == parts.length - 1 && ipv4TailAllowed && part.indexOf('.') >= 0) {
        if (!ipv4(part)) {
          return -1;
        }
        count += 2;
      } else if (part.isEmpty() || part.length() > 4 || !Text.all(part, Text::isHex)) {
        return -1;
      } else {
        count++;
      }
    }
    return count;
  }
}

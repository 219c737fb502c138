package dev.warden.core.identity;

import java.util.Objects;

/**
 * The rule for local user and group names, shared by every store and the CLI. A name is 1 to 63
 * characters (PostgreSQL's limit for role names, {@code NAMEDATALEN - 1} bytes) from ASCII letters,
 * digits and {@code @ . _ - +}, which covers e-mail-style names. Nothing else: no spaces, quotes,
 * commas or control characters that could confuse a connection string, a log line or a stored list
 * (THREATS AU13), and no non-ASCII look-alikes. Names are case-sensitive, as PostgreSQL's are.
 */
public final class UserNames {
  /** Longest name, in characters (all allowed characters are one byte). */
  public static final int MAX_LENGTH = 63;

  private UserNames() {}

  /** True if {@code name} is a valid user or group name. */
  public static boolean isValid(String name) {
    return name != null && problem(name, "name") == null;
  }

  /**
   * Returns {@code name} if it is valid.
   *
   * @param what how to call the name in the message, e.g. "user name" or "group name"
   * @throws IllegalArgumentException saying what is wrong, without echoing unprintable input
   */
  public static String requireValid(String name, String what) {
    Objects.requireNonNull(name, what);
    String problem = problem(name, what);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    return name;
  }

  private static String problem(String name, String what) {
    if (name.isEmpty() || name.length() > MAX_LENGTH) {
      return what + " must be 1 to " + MAX_LENGTH + " characters long, got " + name.length();
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!allowed(c)) {
        return String.format(
            "%s may contain only letters A-Z a-z, digits and @ . _ - +; found U+%04X at index %d",
            what, (int) c, i);
      }
    }
    return null;
  }

  private static boolean allowed(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '@'
        || c == '.'
        || c == '_'
        || c == '-'
        || c == '+';
  }
}

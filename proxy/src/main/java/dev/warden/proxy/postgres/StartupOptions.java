package dev.warden.proxy.postgres;

import java.util.Map;

/**
 * The {@code options} startup parameter, as PostgreSQL's {@code pg_split_opts} reads it: words
 * separated by whitespace, a backslash escaping the next character.
 */
public final class StartupOptions {
  private StartupOptions() {}

  /** {@code -c name=value} for each setting, escaped so that each stays one word. */
  public static String of(Map<String, String> settings) {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> setting : settings.entrySet()) {
      if (!out.isEmpty()) {
        out.append(' ');
      }
      out.append("-c ").append(escape(setting.getKey() + "=" + setting.getValue()));
    }
    return out.toString();
  }

  /** {@code s} as one word: backslashes and whitespace escaped with a backslash. */
  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' || Character.isWhitespace(c)) {
        out.append('\\');
      }
      out.append(c);
    }
    return out.toString();
  }
}

package dev.warden.sql.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds secrets inside a string value, wherever the literal stands: the password of a connection
 * string ({@code host=db password=...}), of a URL ({@code postgres://user:...@host}) and of
 * key/value text (JSON, YAML, query strings), and well-known token formats (JWT, AWS access keys,
 * GitHub, Slack, Stripe, GitLab, Google and Anthropic/OpenAI keys, PEM private keys).
 *
 * <p>Only the secret itself becomes {@code ***}: the name before it and a token's published prefix
 * ({@code ghp_***}, {@code AKIA***}) stay, so the record still says what was there. Every pattern
 * is bounded, so matching is linear in the value's length.
 */
final class RedactContent {
  static final String MASK = "***";

  /** {@code name = value}, {@code "name": "value"} and the like, for names of secrets. */
  private static final Pattern KEY_VALUE =
      Pattern.compile(
          "(?i)(?<![a-z0-9])([\"']?)[a-z0-9_.\\-]{0,40}"
              + "(?:password|passwd|pwd|secret|token|credential|api[_\\-]?key|access[_\\-]?key"
              + "|private[_\\-]?key|auth[_\\-]?key)[a-z0-9_.\\-]{0,40}\\1\\s{0,8}(?:=>|:=|=|:)\\s{0,8}"
              + "(?:\"([^\"\\\\]{0,4096}+(?:\\\\.[^\"\\\\]{0,4096}+){0,64}+)\""
              + "|'([^'\\\\]{0,4096}+(?:\\\\.[^'\\\\]{0,4096}+){0,64}+)'"
              + "|[\"']?([^\\s,;&\"}\\])]{1,4096}+))");

  /** The password of a URL's user info: {@code scheme://user:password@}. */
  private static final Pattern URL_PASSWORD =
      Pattern.compile("(?i)[a-z][a-z0-9+.\\-]{0,30}://[^\\s/?#@:]{0,256}:([^\\s/?#@]{1,256}+)@");

  /** A PEM private key (any kind), to its END line or the end of the value. */
  private static final Pattern PEM =
      Pattern.compile(
          "-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(.*?)"
              + "(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\\z)",
          Pattern.DOTALL);

  /** A token format: the literal its matches contain, and the pattern (group 1 is the secret). */
  private record TokenFormat(String contains, Pattern pattern) {}

  private static final List<TokenFormat> TOKENS =
      List.of(
          token("eyJ", "eyJ([A-Za-z0-9_\\-]{6,4096}+(?:\\.[A-Za-z0-9_\\-=]{1,4096}+){0,4})"),
          token("AKIA", "AKIA([A-Z0-9]{16})"),
          token("ASIA", "ASIA([A-Z0-9]{16})"),
          token("gh", "gh[pousr]_([A-Za-z0-9]{20,255}+)"),
          token("github_pat_", "github_pat_([A-Za-z0-9_]{20,255}+)"),
          token("xox", "xox[abposre]-([A-Za-z0-9\\-]{8,255}+)"),
          token("xapp-", "xapp-([A-Za-z0-9\\-]{8,255}+)"),
          token("k_", "[sr]k_(?:live|test)_([A-Za-z0-9]{8,255}+)"),
          token("whsec_", "whsec_([A-Za-z0-9+/=]{16,255}+)"),
          token("glpat-", "glpat-([A-Za-z0-9_\\-]{16,255}+)"),
          token("AIza", "AIza([0-9A-Za-z_\\-]{30,255}+)"),
          token("sk-", "sk-(?:ant|proj)-([A-Za-z0-9_\\-]{16,255}+)"));

  private static TokenFormat token(String contains, String regex) {
    return new TokenFormat(contains, Pattern.compile(regex));
  }

  private RedactContent() {}

  /** {@code value} with each secret found replaced by {@code ***}; the same instance if none. */
  static String redact(String value) {
    List<int[]> spans = new ArrayList<>();
    Matcher m = KEY_VALUE.matcher(value);
    while (m.find()) {
      for (int g = 2; g <= 4; g++) {
        if (m.start(g) >= 0 && m.end(g) > m.start(g)) {
          spans.add(new int[] {m.start(g), m.end(g)});
        }
      }
    }
    if (value.contains("://")) {
      m = URL_PASSWORD.matcher(value);
      while (m.find()) {
        spans.add(new int[] {m.start(1), m.end(1)});
      }
    }
    if (value.contains("PRIVATE KEY")) {
      m = PEM.matcher(value);
      while (m.find()) {
        if (m.end(1) > m.start(1)) {
          spans.add(new int[] {m.start(1), m.end(1)});
        }
      }
    }
    for (TokenFormat t : TOKENS) {
      if (value.contains(t.contains())) {
        m = t.pattern().matcher(value);
        while (m.find()) {
          spans.add(new int[] {m.start(1), m.end(1)});
        }
      }
    }
    if (spans.isEmpty()) {
      return value;
    }
    spans.sort((a, b) -> Integer.compare(a[0], b[0]));
    StringBuilder out = new StringBuilder(value.length());
    int pos = 0;
    int i = 0;
    while (i < spans.size()) {
      int start = spans.get(i)[0];
      int end = spans.get(i)[1];
      i++;
      while (i < spans.size() && spans.get(i)[0] <= end) {
        end = Math.max(end, spans.get(i)[1]);
        i++;
      }
      if (start < pos) {
        start = pos;
      }
      out.append(value, pos, start).append(MASK);
      pos = Math.max(pos, end);
    }
    return out.append(value, pos, value.length()).toString();
  }
}

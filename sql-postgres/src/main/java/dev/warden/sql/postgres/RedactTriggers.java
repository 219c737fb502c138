package dev.warden.sql.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The fast path of {@link PostgresRedactor}: text holding none of these words (ASCII, any case)
 * cannot hold a secret any rule would find, so it is returned without being lexed.
 *
 * <p>Every rule is keyed by one of them: the keywords and function names the rules look for ({@code
 * password}, {@code mapping}, {@code server}, {@code subscription}, {@code connection}, {@code
 * pgp_}, {@code crypt}, {@code hmac}, {@code armor}, {@code dblink}, {@code set_config}), the parts
 * of sensitive names ({@code password}, {@code passwd}, {@code pwd}, {@code secret}, {@code key},
 * {@code token}, {@code credential}), a URL's {@code ://}, the prefixes of the token formats, and
 * the two ways to spell a word without its letters: {@code U&} escapes and backslashes ({@code E''}
 * strings, and plain ones with standard_conforming_strings off).
 */
final class RedactTriggers {
  static final List<String> WORDS =
      List.of(
          "password",
          "passwd",
          "pwd",
          "secret",
          "key",
          "token",
          "credential",
          "mapping",
          "server",
          "subscription",
          "connection",
          "pgp_",
          "crypt",
          "hmac",
          "armor",
          "dblink",
          "set_config",
          "://",
          "u&",
          "\\",
          "eyj",
          "akia",
          "asia",
          "ghp_",
          "gho_",
          "ghu_",
          "ghs_",
          "ghr_",
          "github_pat_",
          "xox",
          "xapp-",
          "sk_live_",
          "sk_test_",
          "rk_live_",
          "rk_test_",
          "whsec_",
          "glpat-",
          "aiza",
          "sk-ant-",
          "sk-proj-");

  /** The words by their first char (lower case ASCII). */
  private static final String[][] BY_FIRST = new String[128][];

  static {
    List<List<String>> lists = new ArrayList<>();
    for (int i = 0; i < 128; i++) {
      lists.add(new ArrayList<>());
    }
    for (String w : WORDS) {
      lists.get(w.charAt(0)).add(w);
    }
    for (int i = 0; i < 128; i++) {
      BY_FIRST[i] = lists.get(i).isEmpty() ? null : lists.get(i).toArray(String[]::new);
    }
  }

  private RedactTriggers() {}

  /** Whether {@code text} holds any of the {@link #WORDS}, ignoring ASCII case. */
  static boolean any(String text) {
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c >= 128) {
        continue;
      }
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + 32);
      }
      String[] candidates = BY_FIRST[c];
      if (candidates == null) {
        continue;
      }
      for (String w : candidates) {
        if (matchesAt(text, i, w)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean matchesAt(String text, int at, String word) {
    if (at + word.length() > text.length()) {
      return false;
    }
    for (int k = 1; k < word.length(); k++) {
      char c = text.charAt(at + k);
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + 32);
      }
      if (c != word.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether a name (a setting, a column, a JSON key) names a secret: it contains password, passwd,
   * pwd, secret, key, token or credential, in any case.
   */
  static boolean sensitiveName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.contains("password")
        || n.contains("passwd")
        || n.contains("pwd")
        || n.contains("secret")
        || n.contains("key")
        || n.contains("token")
        || n.contains("credential");
  }
}

package dev.warden.sql.postgres;

import java.nio.charset.StandardCharsets;
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

  /**
   * The words by their first two chars (lower case ASCII, {@code first * 128 + second}); the one
   * word of one char, the backslash, is looked for on its own.
   */
  private static final String[][] BY_PAIR = new String[128 * 128][];

  /** One bit per pair that starts a word: 2 KiB, so the scan stays in the L1 cache. */
  private static final long[] PAIRS = new long[128 * 128 / 64];

  static {
    List<List<String>> lists = new ArrayList<>();
    for (int i = 0; i < BY_PAIR.length; i++) {
      lists.add(null);
    }
    for (String w : WORDS) {
      if (w.length() < 2) {
        continue;
      }
      int pair = w.charAt(0) * 128 + w.charAt(1);
      if (lists.get(pair) == null) {
        lists.set(pair, new ArrayList<>());
      }
      lists.get(pair).add(w);
    }
    for (int i = 0; i < BY_PAIR.length; i++) {
      BY_PAIR[i] = lists.get(i) == null ? null : lists.get(i).toArray(String[]::new);
      if (BY_PAIR[i] != null) {
        PAIRS[i >>> 6] |= 1L << i;
      }
    }
  }

  /**
   * Each Latin-1 byte in ASCII lower case; bytes beyond ASCII map to 0, which no word holds (so
   * that a pair index stays below 128 * 128).
   */
  private static final byte[] LOWER = new byte[256];

  static {
    for (int i = 0; i < 128; i++) {
      LOWER[i] = (byte) (i >= 'A' && i <= 'Z' ? i + 32 : i);
    }
  }

  private RedactTriggers() {}

  /** Whether {@code text} holds any of the {@link #WORDS}, ignoring ASCII case. */
  static boolean any(String text) {
    // Latin-1 bytes: a copy of the string's own bytes for most texts, and a loop the JIT compiles
    // without bounds checks; chars beyond Latin-1 become '?', which no word holds
    byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
    if (b.length == 0) {
      return false;
    }
    int previous = LOWER[b[0] & 0xff];
    if (previous == '\\') {
      return true;
    }
    for (int i = 1; i < b.length; i++) {
      int c = LOWER[b[i] & 0xff];
      if (c == '\\') {
        return true;
      }
      int pair = (previous << 7) | c;
      if ((PAIRS[pair >>> 6] & (1L << pair)) != 0 && matchesAny(b, i - 1, BY_PAIR[pair])) {
        return true;
      }
      previous = c;
    }
    return false;
  }

  private static boolean matchesAny(byte[] b, int at, String[] candidates) {
    for (String w : candidates) {
      if (at + w.length() <= b.length) {
        int k = 2;
        while (k < w.length() && LOWER[b[at + k] & 0xff] == w.charAt(k)) {
          k++;
        }
        if (k == w.length()) {
          return true;
        }
      }
    }
    return false;
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

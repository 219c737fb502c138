package dev.warden.server.evasion;

import dev.warden.server.evasion.Seed.Expect;
import java.util.List;

/**
 * One run of the corpus: a text, how it is delivered, and what must happen.
 *
 * @param id stable number within the corpus (its order of generation)
 * @param seed the seed it derives from
 * @param mutation the mutations applied, {@code "seed"} for the seed as written
 * @param sql the text sent
 * @param delivery how it is sent
 * @param deniedAt for a denied text, the 1-based position of the first denied statement
 */
record EvasionCase(
    int id, Seed seed, String mutation, String sql, Delivery delivery, int deniedAt) {

  Expect expect() {
    return seed.expect();
  }

  /** The statements before the denied one, which may legitimately run when sent one by one. */
  List<String> allowedPrefix() {
    List<String> statements = SqlTokens.statements(sql);
    return statements.subList(0, Math.min(Math.max(deniedAt - 1, 0), statements.size()));
  }

  String displayName() {
    return String.format(
        "#%d %s %s L%d %s %s: %s",
        id,
        seed.expect().name().toLowerCase(java.util.Locale.ROOT),
        seed.threat(),
        seed.line(),
        mutation,
        delivery.name().toLowerCase(java.util.Locale.ROOT),
        printable(sql));
  }

  static String printable(String sql) {
    StringBuilder sb = new StringBuilder();
    sql.codePoints()
        .forEach(
            c -> {
              if (c == '\n') {
                sb.append("\\n");
              } else if (c == '\t') {
                sb.append("\\t");
              } else if (c == '\r') {
                sb.append("\\r");
              } else if (c < 0x20
                  || (c >= 0x7f && c <= 0xa0)
                  || Character.isSpaceChar(c) && c != ' ') {
                sb.append(String.format("\\u%04x", c));
              } else {
                sb.appendCodePoint(c);
              }
            });
    String s = sb.toString();
    return s.length() > 160 ? s.substring(0, 157) + "..." : s;
  }
}

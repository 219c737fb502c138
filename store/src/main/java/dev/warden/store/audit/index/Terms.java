package dev.warden.store.audit.index;

import java.util.Set;

/**
 * An entry's terms as one string, {@code \n}-separated with a {@code \n} at each end, so that
 * {@code instr} finds a term ({@code \nterm\n}) or a term prefix ({@code \nprefix}) in it. Values
 * may hold any character, so backslashes and newlines in them are escaped: a value cannot fake a
 * term boundary.
 */
final class Terms {
  private Terms() {}

  static String join(Set<String> terms) {
    StringBuilder out = new StringBuilder("\n");
    for (String t : terms) {
      out.append(escape(t)).append('\n');
    }
    return out.toString();
  }

  /** What {@code instr} looks for to find {@code term}. */
  static String whole(String term) {
    return "\n" + escape(term) + "\n";
  }

  /** What {@code instr} looks for to find a term starting with {@code prefix}. */
  static String prefix(String prefix) {
    return "\n" + escape(prefix);
  }

  static String escape(String term) {
    if (term.indexOf('\\') < 0 && term.indexOf('\n') < 0) {
      return term;
    }
    return term.replace("\\", "\\\\").replace("\n", "\\n");
  }
}

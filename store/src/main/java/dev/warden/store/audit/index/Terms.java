package dev.warden.store.audit.index;

import java.util.List;
import java.util.Set;

/**
 * An entry's terms as one string, {@code \n}-separated with a {@code \n} at each end, so that
 * {@code instr} finds a term ({@code \nterm\n}) or a term prefix ({@code \nprefix}) in it. Values
 * may hold any character, so backslashes and newlines in them are escaped: a value cannot fake a
 * term boundary.
 *
 * <p>Not every term is in the index by term ({@code postings}): a term that a large share of
 * entries has cannot narrow a search, yet would cost a row per entry. Such terms are only checked
 * on the candidates of a search (from {@code entries.terms}); a search whose filters are all of
 * them walks the time index newest first, where, being common, they soon fill the limit. They are
 * the terms of fields with few values each shared by many entries ({@link #UNINDEXED_FIELDS}) and
 * the dominant values of some others ({@link #COMMON}); rare values of those (a denial, an error, a
 * DDL statement) stay indexed.
 */
final class Terms {
  /** Fields none of whose terms are indexed: a deployment has a handful of values of each. */
  static final List<String> UNINDEXED_FIELDS = List.of("env:", "database:", "instance:");

  /** Terms that most entries have, not indexed. */
  static final Set<String> COMMON =
      Set.of(
          "type:intent",
          "type:outcome",
          "type:event",
          "verdict:allowed",
          "status:ok",
          "kind:read",
          "kind:write",
          "kind:transaction",
          "command:SELECT",
          "command:INSERT",
          "command:UPDATE",
          "command:BEGIN",
          "command:COMMIT");

  private Terms() {}

  /** Whether {@code term} is in the index by term. */
  static boolean indexed(String term) {
    if (COMMON.contains(term)) {
      return false;
    }
    for (String field : UNINDEXED_FIELDS) {
      if (term.startsWith(field)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether every term starting with {@code prefix} is in the index by term, so that the index
   * finds all the entries having one.
   */
  static boolean indexedPrefix(String prefix) {
    for (String field : UNINDEXED_FIELDS) {
      if (prefix.startsWith(field) || field.startsWith(prefix)) {
        return false;
      }
    }
    for (String term : COMMON) {
      if (term.startsWith(prefix)) {
        return false;
      }
    }
    return true;
  }

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

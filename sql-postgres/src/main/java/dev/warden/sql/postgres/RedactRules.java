package dev.warden.sql.postgres;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * The credential rules of {@link PostgresRedactor}, applied to one lexed text: which items are
 * secrets (replaced whole) and which string constants hold a secret inside (rewritten).
 *
 * <p>The rules, per statement (items between semicolons):
 *
 * <ul>
 *   <li>the constant after {@code PASSWORD} (role statements, also {@code ENCRYPTED PASSWORD}, and
 *       a {@code password} option anywhere) and after {@code CONNECTION} (subscriptions);
 *   <li>every constant in {@code OPTIONS (...)} of CREATE/ALTER SERVER, USER MAPPING and FOREIGN
 *       DATA WRAPPER;
 *   <li>every constant in calls of pgcrypto's key-taking functions ({@code pgp_*}, encrypt,
 *       decrypt, encrypt_iv, decrypt_iv, hmac, crypt, armor, dearmor) and of dblink_connect(_u);
 *       the connection string (first of two or more arguments) of dblink and dblink_exec; the value
 *       of set_config when its name is a secret's or not a constant;
 *   <li>the value of {@code SET name = ...} / {@code TO ...} (statements, ALTER ROLE / DATABASE /
 *       SYSTEM / FUNCTION ... SET) when the name is a secret's (contains password, secret, key,
 *       token, ...), including bare identifiers; in UPDATE the expression assigned to such a
 *       column;
 *   <li>a constant compared with or assigned to such a name ({@code password = '...'}, {@code token
 *       := ...}, {@code secret => ...}, {@code data->>'password' = ...}), and the values inserted
 *       into such columns by {@code INSERT ... (cols) VALUES (...)};
 *   <li>in every string constant, the secrets {@link RedactContent} finds, and the secrets of SQL
 *       written inside it (a function body, a string for EXECUTE), found by these same rules.
 * </ul>
 */
final class RedactRules {
  private static final Set<String> KEY_FUNCTIONS =
      Set.of(
          "encrypt",
          "decrypt",
          "encrypt_iv",
          "decrypt_iv",
          "hmac",
          "crypt",
          "armor",
          "dearmor",
          "dblink_connect",
          "dblink_connect_u");
  private static final Set<String> COMPARISONS = Set.of("=", "<>", "!=", ":=", "=>");
  private static final Set<String> JSON_FIELD = Set.of("->", "->>", "#>", "#>>");

  private final String text;
  private final List<RedactItem> items;
  private final boolean standardStrings;
  private final InnerSql innerSql;
  private final int[] match;
  private int markedFrom;
  private int markedTo = -1;
  private boolean markedWords;

  /** Items replaced whole. */
  final boolean[] secret;

  /** String constants with a secret inside: their new literal, else null. */
  final String[] rewritten;

  /** Redacts SQL written inside a string value. */
  interface InnerSql {
    /**
     * The value with the secrets of the SQL in it removed, or the value itself when it holds none
     * or is not SQL.
     *
     * @param code whether the value is dollar-quoted (a function or DO body), so surely code
     */
    String redact(String value, boolean code);
  }

  /**
   * @param innerSql redacts SQL written inside a string value; null to leave values' SQL alone
   */
  RedactRules(RedactLexer.Lexed lexed, boolean standardStrings, InnerSql innerSql) {
    this.text = lexed.text();
    this.items = lexed.items();
    this.standardStrings = standardStrings;
    this.innerSql = innerSql;
    this.secret = new boolean[items.size()];
    this.rewritten = new String[items.size()];
    this.match = matchBrackets(items);
  }

  /** Statement boundaries: the index of each statement's first item, then items.size(). */
  List<Integer> statements() {
    List<Integer> starts = new ArrayList<>();
    starts.add(0);
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i).isPunct(";")) {
        starts.add(i + 1);
      }
    }
    if (starts.getLast() != items.size()) {
      starts.add(items.size());
    }
    return starts;
  }

  /** Applies every rule; {@code contents} also looks inside string values. */
  void apply(boolean contents) {
    List<Integer> bounds = statements();
    for (int s = 0; s + 1 < bounds.size(); s++) {
      statement(bounds.get(s), bounds.get(s + 1));
    }
    if (contents) {
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i).kind() == RedactItem.Kind.STRING && !secret[i]) {
          content(i);
        }
      }
    }
  }

  private void statement(int from, int to) {
    List<String> head = new ArrayList<>(4);
    for (int i = from; i < to && head.size() < 4; i++) {
      RedactItem item = items.get(i);
      if (item.kind() != RedactItem.Kind.WORD) {
        break;
      }
      head.add(item.word());
    }
    boolean optionsAreSecret = optionsAreSecret(head);
    boolean update = false; // an UPDATE before a SET makes it a list of column assignments
    for (int i = from; i < to; i++) {
      RedactItem item = items.get(i);
      if (item.kind() == RedactItem.Kind.WORD) {
        update |= item.isWord("update");
        word(i, to, optionsAreSecret, update);
        continue;
      }
      if (item.isConstant() && i + 2 < to && comparison(items.get(i + 1))) {
        RedactItem other = items.get(i + 2);
        if (other.kind() == RedactItem.Kind.WORD && RedactTriggers.sensitiveName(other.word())) {
          secret[i] = true;
        }
      }
      if (item.kind() == RedactItem.Kind.STRING
          && i > from
          && JSON_FIELD.contains(items.get(i - 1).raw())
          && i + 1 < to
          && comparison(items.get(i + 1))) {
        String field = RedactLiteral.value(item, text, standardStrings);
        if (field == null || RedactTriggers.sensitiveName(field)) {
          operand(i + 2, to);
        }
      }
    }
  }

  private static boolean optionsAreSecret(List<String> head) {
    if (head.size() < 2 || !(head.get(0).equals("create") || head.get(0).equals("alter"))) {
      return false;
    }
    return head.get(1).equals("server")
        || (head.size() >= 3 && head.get(1).equals("user") && head.get(2).equals("mapping"))
        || (head.size() >= 3 && head.get(1).equals("foreign") && head.get(2).equals("data"));
  }

  private void word(int i, int to, boolean optionsAreSecret, boolean update) {
    RedactItem item = items.get(i);
    String w = item.word();
    RedactItem next = i + 1 < to ? items.get(i + 1) : null;
    if (next == null) {
      return;
    }
    if ((w.equals("password") || w.equals("connection")) && next.kind() == RedactItem.Kind.STRING) {
      secret[i + 1] = true;
    }
    if (next.isPunct("(") && match[i + 1] > i + 1) {
      int close = match[i + 1];
      if (w.equals("options") && optionsAreSecret) {
        constants(i + 2, close);
      }
      call(w, i + 1, close);
    }
    if (w.equals("set") && item.keyword()) {
      set(i, to, update);
    }
    if (RedactTriggers.sensitiveName(w) && comparison(next)) {
      operand(i + 2, to);
    }
    if (w.equals("insert") && next.isWord("into")) {
      insert(i + 2, to);
    }
  }

  private static boolean comparison(RedactItem item) {
    return item.kind() == RedactItem.Kind.PUNCT && COMPARISONS.contains(item.raw());
  }

  /** The operand at {@code j}: a constant (after any sign) or every constant of a call. */
  private void operand(int j, int to) {
    while (j < to && (items.get(j).isPunct("-") || items.get(j).isPunct("+"))) {
      j++;
    }
    if (j >= to) {
      return;
    }
    RedactItem item = items.get(j);
    if (item.isConstant()) {
      secret[j] = true;
    } else if (item.kind() == RedactItem.Kind.WORD
        && j + 1 < to
        && items.get(j + 1).isPunct("(")
        && match[j + 1] > j + 1) {
      constants(j + 2, match[j + 1]);
    } else if (item.isPunct("(") && match[j] > j) {
      constants(j + 1, match[j]);
    }
  }

  private void call(String name, int open, int close) {
    if (name.startsWith("pgp_") || KEY_FUNCTIONS.contains(name)) {
      constants(open + 1, close);
      return;
    }
    if (name.equals("dblink") || name.equals("dblink_exec")) {
      List<int[]> args = arguments(open, close);
      if (args.size() >= 2) {
        constants(args.getFirst()[0], args.getFirst()[1]);
      }
      return;
    }
    if (name.equals("set_config")) {
      List<int[]> args = arguments(open, close);
      if (args.size() < 2) {
        return;
      }
      int[] first = args.getFirst();
      boolean named =
          first[1] - first[0] == 1 && items.get(first[0]).kind() == RedactItem.Kind.STRING;
      String setting =
          named ? RedactLiteral.value(items.get(first[0]), text, standardStrings) : null;
      if (setting == null || RedactTriggers.sensitiveName(setting)) {
        constants(args.get(1)[0], args.get(1)[1]);
      }
    }
  }

  /** {@code SET [SESSION | LOCAL] name {= | TO} value, ...}, or an UPDATE's SET list. */
  private void set(int at, int to, boolean update) {
    int j = at + 1;
    if (!update
        && j + 1 < to
        && (items.get(j).isWord("session") || items.get(j).isWord("local"))
        && items.get(j + 1).kind() == RedactItem.Kind.WORD) {
      j++;
    }
    while (true) {
      int nameStart = j;
      StringBuilder name = new StringBuilder();
      while (j < to && items.get(j).kind() == RedactItem.Kind.WORD) {
        name.append(items.get(j).word());
        j++;
        if (j < to && items.get(j).isPunct(".")) {
          name.append('.');
          j++;
        } else {
          break;
        }
      }
      if (j == nameStart || j >= to) {
        return;
      }
      boolean assigns = items.get(j).isPunct("=") || (!update && items.get(j).isWord("to"));
      if (!assigns) {
        return;
      }
      j++;
      if (!update) {
        if (RedactTriggers.sensitiveName(name.toString())) {
          mark(j, to, true);
        }
        return;
      }
      int end = j;
      while (end < to) {
        RedactItem v = items.get(end);
        if (v.isPunct(",")
            || v.isPunct(")")
            || v.isWord("where")
            || v.isWord("from")
            || v.isWord("returning")) {
          break;
        }
        end = v.isPunct("(") && match[end] > end ? match[end] + 1 : end + 1;
      }
      if (RedactTriggers.sensitiveName(name.toString())) {
        constants(j, end);
      }
      if (end < to && items.get(end).isPunct(",")) {
        j = end + 1;
      } else {
        return;
      }
    }
  }

  /** {@code INSERT INTO name [AS alias] (columns) [OVERRIDING ...] VALUES (...), ...}. */
  private void insert(int j, int to) {
    while (j < to && items.get(j).kind() == RedactItem.Kind.WORD) {
      j++;
      if (j < to && items.get(j).isPunct(".")) {
        j++;
      } else {
        break;
      }
    }
    if (j + 1 < to && items.get(j).isWord("as")) {
      j += 2;
    }
    if (j >= to || !items.get(j).isPunct("(") || match[j] < j) {
      return;
    }
    List<int[]> columns = arguments(j, match[j]);
    List<Integer> sensitive = new ArrayList<>();
    for (int c = 0; c < columns.size(); c++) {
      int[] col = columns.get(c);
      RedactItem first = items.get(col[0]);
      if (col[1] > col[0]
          && first.kind() == RedactItem.Kind.WORD
          && RedactTriggers.sensitiveName(first.word())) {
        sensitive.add(c);
      }
    }
    if (sensitive.isEmpty()) {
      return;
    }
    j = match[j] + 1;
    while (j < to && !items.get(j).isWord("values")) {
      if (!items.get(j).isWord("overriding")
          && !items.get(j).isWord("system")
          && !items.get(j).isWord("user")
          && !items.get(j).isWord("value")) {
        return;
      }
      j++;
    }
    j++;
    while (j < to && items.get(j).isPunct("(") && match[j] > j) {
      List<int[]> values = arguments(j, match[j]);
      for (int c : sensitive) {
        if (c < values.size()) {
          constants(values.get(c)[0], values.get(c)[1]);
        }
      }
      j = match[j] + 1;
      if (j < to && items.get(j).isPunct(",")) {
        j++;
      } else {
        return;
      }
    }
  }

  /** The comma-separated arguments between {@code open} and {@code close}: [from, to) each. */
  private List<int[]> arguments(int open, int close) {
    List<int[]> args = new ArrayList<>();
    int start = open + 1;
    int k = open + 1;
    while (k < close) {
      RedactItem item = items.get(k);
      if (item.isPunct(",")) {
        args.add(new int[] {start, k});
        start = k + 1;
        k++;
      } else if ((item.isPunct("(") || item.isPunct("[")) && match[k] > k) {
        k = match[k] + 1;
      } else {
        k++;
      }
    }
    if (start < close || !args.isEmpty()) {
      args.add(new int[] {start, close});
    }
    return args;
  }

  private void constants(int from, int to) {
    mark(from, to, false);
  }

  /**
   * Marks every constant in [from, to) (and, with {@code words}, every identifier) a secret. Ranges
   * come left to right and nest like the brackets that bound them, so a range inside the last one
   * marked is skipped: nested key functions cost linear time, not quadratic.
   */
  private void mark(int from, int to, boolean words) {
    if (from >= markedFrom && to <= markedTo && (!words || markedWords)) {
      return;
    }
    for (int k = from; k < to; k++) {
      RedactItem v = items.get(k);
      if (v.isConstant() || (words && v.kind() == RedactItem.Kind.WORD && !v.keyword())) {
        secret[k] = true;
      }
    }
    markedFrom = from;
    markedTo = to;
    markedWords = words;
  }

  private void content(int i) {
    RedactItem item = items.get(i);
    String value = RedactLiteral.value(item, text, standardStrings);
    if (value == null) {
      // the server would refuse it; what it holds cannot be read, so it is not kept
      secret[i] = true;
      return;
    }
    String redacted = RedactContent.redact(value);
    if (innerSql != null && RedactTriggers.any(redacted)) {
      redacted = innerSql.redact(redacted, item.raw().startsWith("$"));
    }
    if (!redacted.equals(value)) {
      rewritten[i] = RedactLiteral.literal(item, redacted, standardStrings);
    }
  }

  /** For each ( and [ the index of its partner, and back; -1 when unbalanced. */
  private static int[] matchBrackets(List<RedactItem> items) {
    int[] match = new int[items.size()];
    java.util.Arrays.fill(match, -1);
    Deque<Integer> open = new ArrayDeque<>();
    for (int i = 0; i < items.size(); i++) {
      RedactItem item = items.get(i);
      if (item.isPunct("(") || item.isPunct("[")) {
        open.push(i);
      } else if (item.isPunct(")") || item.isPunct("]")) {
        if (open.isEmpty()) {
          continue;
        }
        int o = open.pop();
        match[o] = i;
        match[i] = o;
      }
    }
    return match;
  }
}

package dev.warden.sql.postgres;

import dev.warden.core.audit.Redactor;
import dev.warden.core.statement.LexicalSettings;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * PostgreSQL's {@link Redactor} (THREATS AD06): statement text loses its secrets before the audit
 * trail stores it, and stays readable ({@code ALTER ROLE alice PASSWORD '***'}).
 *
 * <p>The text is lexed by PostgreSQL's own lexer (libpg_query), with the session's {@code
 * standard_conforming_strings}, so that what is a literal, a comment or a keyword is what the
 * server will see; the rules ({@link RedactRules}) then work on those tokens and on the decoded
 * values of string constants, never on the raw text. Text that cannot be lexed with certainty (a
 * backslash while the setting may be changing, non-ASCII text in an encoding that is not
 * ASCII-safe, a lexer error) is replaced whole, keeping only its first keywords.
 *
 * <p>Two modes: {@link Mode#CREDENTIALS} removes credentials only; {@link Mode#ALL_LITERALS} also
 * replaces every constant by a {@code $n} placeholder and every comment, as pg_stat_statements
 * normalises. In both, comments in a statement that lost a secret, and comments naming one of the
 * {@link RedactTriggers trigger words}, are replaced by a comment holding only {@code ***}.
 *
 * <p>With {@code standard_conforming_strings} off, a text holding a backslash is lexed on platform
 * threads only (see {@link PgQuery#scanWithoutStandardStrings}); on a virtual thread it is redacted
 * whole. The audit writer is a platform thread.
 *
 * <p>Fast path: text with none of the trigger words (and, in ALL_LITERALS mode, no quote, digit,
 * {@code $} or comment) is returned as it is, the same instance, without being lexed. Thread-safe;
 * never throws on non-null arguments.
 */
public final class PostgresRedactor implements Redactor {
  /** What is redacted. */
  public enum Mode {
    /** Passwords, keys, tokens and connection strings; other constants stay. */
    CREDENTIALS,
    /** Also every constant (as {@code $n}) and every comment. */
    ALL_LITERALS
  }

  private static final String SECRET = "'" + RedactContent.MASK + "'";
  private static final int MAX_DEPTH = 3;
  private static final Pattern ENCODING_NAME = Pattern.compile("[A-Za-z0-9_\\-]{1,32}");

  /** Words kept at the front of a text that is redacted whole: commands, then object kinds. */
  private static final Set<String> COMMANDS =
      Set.of(
          "select",
          "insert",
          "update",
          "delete",
          "merge",
          "with",
          "values",
          "table",
          "create",
          "alter",
          "drop",
          "set",
          "reset",
          "show",
          "grant",
          "revoke",
          "copy",
          "do",
          "call",
          "begin",
          "start",
          "commit",
          "end",
          "rollback",
          "abort",
          "savepoint",
          "release",
          "prepare",
          "execute",
          "deallocate",
          "explain",
          "analyze",
          "vacuum",
          "truncate",
          "lock",
          "listen",
          "notify",
          "unlisten",
          "comment",
          "security",
          "refresh",
          "reindex",
          "cluster",
          "discard",
          "fetch",
          "move",
          "close",
          "declare",
          "import",
          "load",
          "checkpoint");

  private static final Set<String> OBJECTS =
      Set.of(
          "role",
          "user",
          "group",
          "server",
          "subscription",
          "publication",
          "database",
          "schema",
          "table",
          "view",
          "index",
          "function",
          "procedure",
          "extension",
          "sequence",
          "type",
          "trigger",
          "policy",
          "foreign",
          "system",
          "default",
          "materialized",
          "or",
          "unique",
          "temp",
          "temporary",
          "mapping",
          "into",
          "from",
          "session",
          "local",
          "transaction");

  private final Mode mode;
  private final PgQuery pgQuery;

  /**
   * Loads libpg_query.
   *
   * @throws PgQueryUnavailableException if libpg_query is not installed
   */
  public PostgresRedactor(Mode mode) {
    this.mode = Objects.requireNonNull(mode, "mode");
    this.pgQuery = PgQuery.load();
  }

  /** Redacts credentials only. */
  public PostgresRedactor() {
    this(Mode.CREDENTIALS);
  }

  public Mode mode() {
    return mode;
  }

  @Override
  public String redact(String sql, LexicalSettings lexical) {
    Objects.requireNonNull(sql, "the statement text to redact is null");
    Objects.requireNonNull(lexical, "the lexical settings are null");
    if (!RedactTriggers.any(sql) && (mode == Mode.CREDENTIALS || !mayHoldLiterals(sql))) {
      return sql;
    }
    try {
      String refusal = refusal(sql, lexical);
      if (refusal != null) {
        return whole(sql, refusal);
      }
      boolean standardStrings = sql.indexOf('\\') < 0 || lexical.standardConformingStrings();
      return redactSql(sql, standardStrings, mode, 0);
    } catch (RedactLexer.Unlexable e) {
      return whole(sql, e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      return whole(sql, "the redactor failed on this text");
    }
  }

  /** Whether a text holds anything ALL_LITERALS replaces: a quote, a digit, $, or a comment. */
  private static boolean mayHoldLiterals(String sql) {
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '$' || (c >= '0' && c <= '9') || c == '-' || c == '/') {
        return true;
      }
    }
    return false;
  }

  /** Why {@code sql} cannot be lexed as the server will under {@code lexical}, or null. */
  private static String refusal(String sql, LexicalSettings lexical) {
    boolean backslash = false;
    boolean nonAscii = false;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      backslash |= c == '\\';
      nonAscii |= c >= 0x80;
    }
    if (nonAscii && !(lexical.settled() && LexicalSettings.asciiSafe(lexical.clientEncoding()))) {
      if (!lexical.settled()) {
        return "non-ASCII text while client_encoding may be changing";
      }
      String encoding = lexical.clientEncoding();
      return "non-ASCII text in client_encoding "
          + (ENCODING_NAME.matcher(encoding).matches() ? encoding : "(unknown)")
          + ", which is not ASCII-safe";
    }
    if (backslash && !lexical.settled()) {
      return "a backslash while standard_conforming_strings may be changing";
    }
    return null;
  }

  /**
   * {@code sql} with its secrets removed.
   *
   * @throws RedactLexer.Unlexable if it cannot be lexed
   */
  private String redactSql(String sql, boolean standardStrings, Mode how, int depth) {
    RedactLexer.Lexed lexed = RedactLexer.lex(pgQuery, sql, standardStrings);
    RedactRules rules =
        new RedactRules(
            lexed,
            standardStrings,
            depth + 1 < MAX_DEPTH
                ? (value, code) -> inner(value, code, standardStrings, depth + 1)
                : null);
    rules.apply(how == Mode.CREDENTIALS);
    return render(lexed, rules, how);
  }

  /**
   * SQL inside a string value, redacted: a dollar-quoted body (a function, a DO block) or a string
   * that starts with a command word (for EXECUTE, dblink); any other value is left as it is, since
   * prose or data lexed as SQL would lose its readability (a line of dashes is a comment).
   */
  private String inner(String value, boolean code, boolean standardStrings, int depth) {
    if (!code && !startsWithCommand(value)) {
      return value;
    }
    try {
      return redactSql(value, standardStrings, Mode.CREDENTIALS, depth);
    } catch (RedactLexer.Unlexable e) {
      return value; // not SQL: RedactContent has already looked at it
    }
  }

  private static boolean startsWithCommand(String value) {
    int i = 0;
    while (i < value.length() && RedactLiteral.isSpace(value.charAt(i))) {
      i++;
    }
    int start = i;
    while (i < value.length() && isAsciiLetter(value.charAt(i))) {
      i++;
    }
    return i > start && COMMANDS.contains(value.substring(start, i).toLowerCase(Locale.ROOT));
  }

  private static String render(RedactLexer.Lexed lexed, RedactRules rules, Mode how) {
    String text = lexed.text();
    List<RedactItem> items = lexed.items();
    List<RedactToken> comments = lexed.comments();
    boolean all = how == Mode.ALL_LITERALS;
    int placeholder = all ? highestParameter(items) + 1 : 0;
    // which statements lost something: their comments go too
    List<Integer> bounds = rules.statements();
    boolean[] touched = new boolean[bounds.size()];
    for (int s = 0; s + 1 < bounds.size(); s++) {
      for (int i = bounds.get(s); i < bounds.get(s + 1); i++) {
        touched[s] |= rules.secret[i] || rules.rewritten[i] != null;
      }
    }
    StringBuilder out = null;
    int pos = 0;
    int c = 0;
    int statement = 0;
    for (int i = 0; i <= items.size(); i++) {
      int limit = i < items.size() ? items.get(i).start() : Integer.MAX_VALUE;
      while (statement + 1 < bounds.size() && bounds.get(statement + 1) <= i && i < items.size()) {
        statement++;
      }
      for (; c < comments.size() && comments.get(c).start() < limit; c++) {
        RedactToken comment = comments.get(c);
        String body = text.substring(comment.start(), comment.end());
        if (all || touched[Math.min(statement, touched.length - 1)] || RedactTriggers.any(body)) {
          String replacement = comment.type() == PgTokens.C_COMMENT ? "/* *** */" : "-- ***";
          if (!body.equals(replacement)) {
            out = append(out, text, pos, comment.start()).append(replacement);
            pos = comment.end();
          }
        }
      }
      if (i == items.size()) {
        break;
      }
      RedactItem item = items.get(i);
      String replacement = null;
      if (all && item.isConstant()) {
        replacement = "$" + placeholder++;
      } else if (rules.secret[i]) {
        replacement = item.kind() == RedactItem.Kind.WORD ? RedactContent.MASK : SECRET;
      } else if (rules.rewritten[i] != null) {
        replacement = rules.rewritten[i];
      }
      if (replacement != null) {
        out = append(out, text, pos, item.start()).append(replacement);
        pos = item.end();
      }
    }
    if (out == null) {
      return text;
    }
    return out.append(text, pos, text.length()).toString();
  }

  private static StringBuilder append(StringBuilder out, String text, int from, int to) {
    StringBuilder b = out == null ? new StringBuilder(text.length() + 16) : out;
    return b.append(text, from, to);
  }

  private static int highestParameter(List<RedactItem> items) {
    int highest = 0;
    for (RedactItem item : items) {
      if (item.kind() == RedactItem.Kind.PARAM) {
        String digits = item.raw().substring(1);
        try {
          highest = Math.max(highest, Math.min(Integer.parseInt(digits), 1_000_000));
        } catch (NumberFormatException e) {
          highest = 1_000_000;
        }
      }
    }
    return highest;
  }

  /**
   * The text redacted whole: its first words if they are SQL command words (so the record still
   * says what kind of statement it was), then why the rest is gone.
   */
  static String whole(String sql, String reason) {
    StringBuilder kept = new StringBuilder();
    int i = 0;
    int words = 0;
    while (words < 3) {
      while (i < sql.length() && RedactLiteral.isSpace(sql.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < sql.length() && isAsciiLetter(sql.charAt(i))) {
        i++;
      }
      if (i == start || (i < sql.length() && !RedactLiteral.isSpace(sql.charAt(i)))) {
        break;
      }
      String word = sql.substring(start, i);
      String lower = word.toLowerCase(Locale.ROOT);
      if (!(words == 0 ? COMMANDS.contains(lower) : OBJECTS.contains(lower))) {
        break;
      }
      kept.append(word).append(' ');
      words++;
    }
    return kept + "/* redacted whole: " + reason + " */";
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}

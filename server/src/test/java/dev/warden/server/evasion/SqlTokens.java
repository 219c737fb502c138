package dev.warden.server.evasion;

import java.util.ArrayList;
import java.util.List;

/**
 * A test-side tokenizer that is just good enough to mutate the corpus without changing what a
 * statement means: it knows where strings, quoted identifiers, dollar quotes and comments begin and
 * end, so mutations touch only keywords, identifiers and the space between tokens. It is not
 * Warden's lexer and must not become one: the analyser uses PostgreSQL's own.
 */
final class SqlTokens {
  enum Kind {
    SPACE,
    LINE_COMMENT,
    BLOCK_COMMENT,
    WORD,
    QUOTED_IDENT,
    UNICODE_IDENT,
    STRING,
    OTHER_STRING,
    DOLLAR_STRING,
    PARAM,
    NUMBER,
    SEMICOLON,
    SYMBOL
  }

  record Token(Kind kind, String text) {
    boolean isWord(String word) {
      return kind == Kind.WORD && text.equalsIgnoreCase(word);
    }
  }

  private SqlTokens() {}

  static List<Token> tokenize(String sql) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = sql.length();
    while (i < n) {
      char c = sql.charAt(i);
      int start = i;
      Kind kind;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        while (i < n && " \t\n\r\f".indexOf(sql.charAt(i)) >= 0) {
          i++;
        }
        kind = Kind.SPACE;
      } else if (sql.startsWith("--", i)) {
        while (i < n && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') {
          i++;
        }
        // The newline that ends the comment belongs to it, so that rewriting the space after a
        // comment can never join the next line to the comment.
        if (sql.startsWith("\r\n", i)) {
          i += 2;
        } else if (i < n) {
          i++;
        }
        kind = Kind.LINE_COMMENT;
      } else if (sql.startsWith("/*", i)) {
        int depth = 0;
        do {
          if (sql.startsWith("/*", i)) {
            depth++;
            i += 2;
          } else if (sql.startsWith("*/", i)) {
            depth--;
            i += 2;
          } else {
            i++;
          }
        } while (depth > 0 && i < n);
        kind = Kind.BLOCK_COMMENT;
      } else if ((c == 'U' || c == 'u') && sql.startsWith("&\"", i + 1)) {
        i = endOfQuoted(sql, i + 2, '"', false);
        kind = Kind.UNICODE_IDENT;
      } else if ((c == 'U' || c == 'u') && sql.startsWith("&'", i + 1)) {
        i = endOfQuoted(sql, i + 2, '\'', false);
        kind = Kind.OTHER_STRING;
      } else if ("EeBbXxNn".indexOf(c) >= 0 && i + 1 < n && sql.charAt(i + 1) == '\'') {
        i = endOfQuoted(sql, i + 1, '\'', c == 'E' || c == 'e');
        kind = Kind.OTHER_STRING;
      } else if (c == '\'') {
        i = endOfQuoted(sql, i, '\'', false);
        kind = Kind.STRING;
      } else if (c == '"') {
        i = endOfQuoted(sql, i, '"', false);
        kind = Kind.QUOTED_IDENT;
      } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))) {
        i++;
        while (i < n && Character.isDigit(sql.charAt(i))) {
          i++;
        }
        kind = Kind.PARAM;
      } else if (c == '$') {
        int tagEnd = i + 1;
        while (tagEnd < n && isIdentPart(sql.charAt(tagEnd)) && sql.charAt(tagEnd) != '$') {
          tagEnd++;
        }
        if (tagEnd < n && sql.charAt(tagEnd) == '$') {
          String tag = sql.substring(i, tagEnd + 1);
          int close = sql.indexOf(tag, tagEnd + 1);
          i = close < 0 ? n : close + tag.length();
          kind = Kind.DOLLAR_STRING;
        } else {
          i++;
          kind = Kind.SYMBOL;
        }
      } else if (isIdentStart(c)) {
        while (i < n && isIdentPart(sql.charAt(i))) {
          i++;
        }
        kind = Kind.WORD;
      } else if (Character.isDigit(c)) {
        while (i < n && (Character.isDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
          i++;
        }
        kind = Kind.NUMBER;
      } else if (c == ';') {
        i++;
        kind = Kind.SEMICOLON;
      } else {
        i++;
        kind = Kind.SYMBOL;
      }
      tokens.add(new Token(kind, sql.substring(start, i)));
    }
    return tokens;
  }

  private static int endOfQuoted(String sql, int open, char quote, boolean backslashEscapes) {
    int i = open + 1;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (backslashEscapes && c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        i++;
      }
    }
    return sql.length();
  }

  private static boolean isIdentStart(char c) {
    return Character.isLetter(c) || c == '_' || c >= 0x80;
  }

  private static boolean isIdentPart(char c) {
    return isIdentStart(c) || Character.isDigit(c) || c == '$';
  }

  static String join(List<Token> tokens) {
    StringBuilder sb = new StringBuilder();
    tokens.forEach(t -> sb.append(t.text()));
    return sb.toString();
  }

  /**
   * The statements of a multi-statement string as a client library splits them (top-level
   * semicolons), without empty ones, each trimmed of surrounding space.
   */
  static List<String> statements(String sql) {
    List<String> pieces = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean meaningful = false;
    for (Token t : tokenize(sql)) {
      if (t.kind() == Kind.SEMICOLON) {
        if (meaningful) {
          pieces.add(trim(current.toString()));
        }
        current.setLength(0);
        meaningful = false;
      } else {
        current.append(t.text());
        meaningful |=
            t.kind() != Kind.SPACE
                && t.kind() != Kind.LINE_COMMENT
                && t.kind() != Kind.BLOCK_COMMENT;
      }
    }
    if (meaningful) {
      pieces.add(trim(current.toString()));
    }
    return pieces;
  }

  /** Trims what PostgreSQL counts as space, and nothing else (no Unicode spaces). */
  static String trim(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && " \t\n\r\f".indexOf(s.charAt(start)) >= 0) {
      start++;
    }
    while (end > start && " \t\n\r\f".indexOf(s.charAt(end - 1)) >= 0) {
      end--;
    }
    return s.substring(start, end);
  }
}

package dev.warden.sql.postgres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits text into {@link RedactItem}s and comments with PostgreSQL's own lexer (libpg_query's
 * scanner), in chars of the Java string, for {@link PostgresRedactor}.
 *
 * <p>libpg_query reports a wrong end for {@code U&'...'} strings and {@code U&"..."} identifiers
 * (the length of the last piece the lexer matched), so their ends are found here from the text; any
 * token that does not fit the text as expected makes the whole text {@link Unlexable}, never a
 * guess.
 */
final class RedactLexer {
  /** pg_query.proto's token number of a parameter ({@code $1}). */
  private static final int PARAM = 267;

  /** The text with its items and comments. */
  record Lexed(String text, List<RedactItem> items, List<RedactToken> comments) {
    Lexed {
      items = List.copyOf(items);
      comments = List.copyOf(comments);
    }
  }

  /** The text cannot be lexed with certainty; {@code getMessage()} is a fixed reason, no text. */
  static final class Unlexable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unlexable(String reason) {
      super(reason, null, false, false);
    }
  }

  private RedactLexer() {}

  /**
   * Lexes {@code text} as the server does with the given {@code standard_conforming_strings}.
   *
   * @throws Unlexable if it cannot be lexed with certainty
   */
  static Lexed lex(PgQuery pgQuery, String text, boolean standardStrings) {
    if (text.indexOf('\0') >= 0) {
      throw new Unlexable("the text holds a NUL character");
    }
    int[] charAt = byteToChar(text);
    PgQuery.ScanResult scan;
    try {
      scan = standardStrings ? pgQuery.scan(text) : pgQuery.scanWithoutStandardStrings(text);
    } catch (IllegalStateException e) {
      throw new Unlexable("standard_conforming_strings is off and this thread cannot lex that");
    }
    if (scan.error().isPresent()) {
      // the lexer's message quotes the text near the error: it is not kept
      throw new Unlexable("PostgreSQL's lexer rejected the text");
    }
    List<RedactToken> tokens = new ArrayList<>(scan.tokens().size());
    for (PgQuery.Token t : scan.tokens()) {
      if (t.start() < 0 || t.end() < t.start() || t.end() >= charAt.length) {
        throw new Unlexable("the lexer returned a token outside the text");
      }
      int start = charAt[t.start()];
      int end = charAt[t.end()];
      if (start < 0 || end < 0) {
        throw new Unlexable("the lexer returned a token inside a character");
      }
      tokens.add(new RedactToken(start, end, t.token(), t.keywordKind()));
    }
    tokens = fixUnicodeEnds(text, tokens);
    return group(text, tokens);
  }

  /** Char index of every UTF-8 byte offset that starts a char (or the end), -1 elsewhere. */
  private static int[] byteToChar(String text) {
    int bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
          throw new Unlexable("the text is not valid Unicode (an unpaired surrogate)");
        }
        bytes += 4;
        i++;
      } else if (Character.isLowSurrogate(c)) {
        throw new Unlexable("the text is not valid Unicode (an unpaired surrogate)");
      } else {
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    }
    int[] map = new int[bytes + 1];
    Arrays.fill(map, -1);
    int b = 0;
    for (int i = 0; i < text.length(); i++) {
      map[b] = i;
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)) {
        b += 4;
        i++;
      } else {
        b += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    }
    map[b] = text.length();
    if (b != text.getBytes(StandardCharsets.UTF_8).length) {
      throw new Unlexable("the text's UTF-8 length is not what was computed");
    }
    return map;
  }

  private static List<RedactToken> fixUnicodeEnds(String text, List<RedactToken> tokens) {
    List<RedactToken> fixed = new ArrayList<>(tokens.size());
    for (int i = 0; i < tokens.size(); i++) {
      RedactToken t = tokens.get(i);
      if (t.type() == PgTokens.USCONST || t.type() == PgTokens.UIDENT) {
        int limit = i + 1 < tokens.size() ? tokens.get(i + 1).start() : text.length();
        int end = unicodeEnd(text, t.start(), limit, t.type() == PgTokens.USCONST ? '\'' : '"');
        t = new RedactToken(t.start(), end, t.type(), t.keywordKind());
      }
      if (!fixed.isEmpty() && t.start() < fixed.getLast().end()) {
        throw new Unlexable("the lexer returned overlapping tokens");
      }
      fixed.add(t);
    }
    return fixed;
  }

  /**
   * The end of the {@code U&} token at {@code start}: {@code U&}, the quote, its body with the
   * quote doubled inside, and (for strings) continuations on a new line. Only whitespace may follow
   * it before {@code limit}, the next token.
   */
  private static int unicodeEnd(String text, int start, int limit, char quote) {
    if (start + 3 > limit
        || (text.charAt(start) != 'U' && text.charAt(start) != 'u')
        || text.charAt(start + 1) != '&'
        || text.charAt(start + 2) != quote) {
      throw new Unlexable("a Unicode escape token is not where the lexer put it");
    }
    int i = start + 3;
    while (true) {
      int close = text.indexOf(quote, i);
      if (close < 0 || close >= limit) {
        throw new Unlexable("a Unicode escape token has no end");
      }
      if (close + 1 < limit && text.charAt(close + 1) == quote) {
        i = close + 2;
        continue;
      }
      int end = close + 1;
      if (quote == '\'') {
        int next = RedactLiteral.continuation(text, end, limit);
        if (next >= 0) {
          i = next + 1;
          continue;
        }
      }
      for (int j = end; j < limit; j++) {
        if (!RedactLiteral.isSpace(text.charAt(j))) {
          throw new Unlexable("a Unicode escape token is followed by something unexpected");
        }
      }
      return end;
    }
  }

  private static boolean isString(int type) {
    return type == PgTokens.SCONST
        || type == PgTokens.USCONST
        || type == PgTokens.BCONST
        || type == PgTokens.XCONST;
  }

  private static Lexed group(String text, List<RedactToken> tokens) {
    List<RedactItem> items = new ArrayList<>();
    List<RedactToken> comments = new ArrayList<>();
    int i = 0;
    while (i < tokens.size()) {
      RedactToken t = tokens.get(i);
      if (t.isComment()) {
        comments.add(t);
        i++;
        continue;
      }
      if (isString(t.type())) {
        List<RedactToken> parts = new ArrayList<>();
        parts.add(t);
        int last = i;
        int j = i + 1;
        char escape = '\\';
        while (j < tokens.size()) {
          RedactToken n = tokens.get(j);
          if (n.isComment()) {
            j++;
          } else if (isString(n.type())) {
            parts.add(n);
            last = j;
            j++;
          } else if (n.type() == PgTokens.UESCAPE) {
            int k = nextSignificant(tokens, j + 1);
            if (k < 0 || tokens.get(k).type() != PgTokens.SCONST) {
              throw new Unlexable("UESCAPE without its escape character");
            }
            escape = uescape(text, tokens.get(k));
            last = k;
            j = k + 1;
            break;
          } else {
            break;
          }
        }
        int end = tokens.get(last).end();
        items.add(
            new RedactItem(
                RedactItem.Kind.STRING,
                text.substring(t.start(), end),
                t.start(),
                end,
                "",
                false,
                parts,
                escape));
        i = last + 1;
        continue;
      }
      if (t.type() == PgTokens.UIDENT) {
        int last = i;
        char escape = '\\';
        int j = nextSignificant(tokens, i + 1);
        if (j >= 0 && tokens.get(j).type() == PgTokens.UESCAPE) {
          int k = nextSignificant(tokens, j + 1);
          if (k < 0 || tokens.get(k).type() != PgTokens.SCONST) {
            throw new Unlexable("UESCAPE without its escape character");
          }
          escape = uescape(text, tokens.get(k));
          last = k;
        }
        int end = tokens.get(last).end();
        String raw = text.substring(t.start(), t.end());
        String name = RedactLiteral.unicodeIdentifier(raw, escape);
        if (name == null) {
          throw new Unlexable("a U&\"\" identifier has an invalid escape");
        }
        items.add(
            new RedactItem(
                RedactItem.Kind.WORD,
                text.substring(t.start(), end),
                t.start(),
                end,
                name,
                false,
                List.of(),
                escape));
        i = last + 1;
        continue;
      }
      String raw = text.substring(t.start(), t.end());
      if (t.keywordKind() != 0 || t.type() == PgTokens.IDENT) {
        boolean keyword = t.keywordKind() != 0;
        String name =
            raw.startsWith("\"")
                ? RedactLiteral.quotedIdentifier(raw)
                : RedactLiteral.asciiLower(raw);
        if (name == null) {
          throw new Unlexable("a quoted identifier is not closed where the lexer ended it");
        }
        items.add(
            new RedactItem(
                RedactItem.Kind.WORD, raw, t.start(), t.end(), name, keyword, List.of(), '\\'));
      } else {
        RedactItem.Kind kind =
            switch (t.type()) {
              case PgTokens.ICONST, PgTokens.FCONST -> RedactItem.Kind.NUMBER;
              case PARAM -> RedactItem.Kind.PARAM;
              default -> RedactItem.Kind.PUNCT;
            };
        items.add(new RedactItem(kind, raw, t.start(), t.end(), "", false, List.of(), '\\'));
      }
      i++;
    }
    // comments swallowed by a constant (between its parts) are dropped from the list: the
    // constant's replacement covers them
    List<RedactToken> outside = new ArrayList<>(comments.size());
    int item = 0;
    for (RedactToken c : comments) {
      while (item < items.size() && items.get(item).end() <= c.start()) {
        item++;
      }
      boolean inside = item < items.size() && items.get(item).start() < c.start();
      if (!inside) {
        outside.add(c);
      }
    }
    return new Lexed(text, items, outside);
  }

  private static int nextSignificant(List<RedactToken> tokens, int from) {
    for (int i = from; i < tokens.size(); i++) {
      if (!tokens.get(i).isComment()) {
        return i;
      }
    }
    return -1;
  }

  /** The escape char of {@code UESCAPE 'c'}: one char, not a hex digit, +, quote or space. */
  private static char uescape(String text, RedactToken literal) {
    String raw = text.substring(literal.start(), literal.end());
    if (raw.length() != 3 || raw.charAt(0) != '\'' || raw.charAt(2) != '\'') {
      throw new Unlexable("UESCAPE needs a one-character literal");
    }
    char c = raw.charAt(1);
    if (Character.digit(c, 16) >= 0
        || c == '+'
        || c == '\''
        || c == '"'
        || RedactLiteral.isSpace(c)) {
      throw new Unlexable("UESCAPE names an invalid escape character");
    }
    return c;
  }
}

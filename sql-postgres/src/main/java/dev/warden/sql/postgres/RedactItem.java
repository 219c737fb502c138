package dev.warden.sql.postgres;

import java.util.List;

/**
 * One unit of SQL text as the redaction rules see it: a word, a constant, a parameter or a piece of
 * punctuation, with its place in the text in chars. Comments are not items.
 *
 * <p>A string constant is one item even when the lexer reported several tokens: a literal continued
 * on the next line after a {@code --} comment ({@code 'a'} newline {@code -- c} newline {@code 'b'}
 * is the one value {@code ab} to the server, three tokens to libpg_query), and a {@code U&'...'
 * UESCAPE '!'} with its escape clause.
 *
 * @param kind what it is
 * @param raw the item's text as written
 * @param start first char
 * @param end char after the last
 * @param word for a {@link Kind#WORD}, the name as the server resolves it (unquoted: ASCII lower
 *     case; quoted: as written, with escapes decoded), else empty
 * @param keyword for a {@link Kind#WORD}, whether it is a keyword rather than an identifier
 * @param parts for a {@link Kind#STRING}, the string tokens, in order (the escape clause's literal
 *     not among them)
 * @param uescape the escape char of a {@code U&} string or identifier
 */
record RedactItem(
    Kind kind,
    String raw,
    int start,
    int end,
    String word,
    boolean keyword,
    List<RedactToken> parts,
    char uescape) {
  /** What an item is. */
  enum Kind {
    /** A keyword or an identifier, quoted or not. */
    WORD,
    /** A string constant in any of its forms: '', E'', U&'', $$, B'', X''. */
    STRING,
    /** An integer or a decimal constant. */
    NUMBER,
    /** A parameter: {@code $1}. */
    PARAM,
    /** An operator or a punctuation mark. */
    PUNCT
  }

  RedactItem {
    parts = List.copyOf(parts);
  }

  boolean isConstant() {
    return kind == Kind.STRING || kind == Kind.NUMBER;
  }

  /** Whether this is the word {@code name} (lower case), keyword or identifier. */
  boolean isWord(String name) {
    return kind == Kind.WORD && word.equals(name);
  }

  /** Whether this is the punctuation or operator {@code symbol}. */
  boolean isPunct(String symbol) {
    return kind == Kind.PUNCT && raw.equals(symbol);
  }
}

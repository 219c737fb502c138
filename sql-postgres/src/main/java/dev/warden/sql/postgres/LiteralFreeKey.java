package dev.warden.sql.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The text's tokens as the server's lexer sees them, with each constant replaced by its kind: equal
 * for texts that differ only in constants, whitespace, comments and the case of keywords and
 * unquoted identifiers. The parser sees nothing else of the text, so two texts with one key parse
 * to the same tree up to constant values.
 *
 * <p>One exception: {@code UESCAPE 'c'} makes a constant's value part of an identifier ({@code
 * U&"d!0061ta" UESCAPE '!'} is {@code data}); texts using it get no key.
 */
final class LiteralFreeKey {
  private LiteralFreeKey() {}

  /**
   * The key of a text.
   *
   * @param text the key itself
   * @param shareable false when constants' values are part of the key (UESCAPE), so that texts with
   *     it must not share facts with others
   */
  record Key(String text, boolean shareable) {}

  /** The key of {@code utf8} (the text's UTF-8 bytes) from its tokens. */
  static Key of(byte[] utf8, List<PgQuery.Token> tokens) {
    boolean shareable = true;
    for (PgQuery.Token token : tokens) {
      shareable &= token.token() != PgTokens.UESCAPE;
    }
    StringBuilder key = new StringBuilder(utf8.length + 16);
    for (PgQuery.Token token : tokens) {
      int t = token.token();
      if (PgTokens.isComment(t)) {
        continue;
      }
      if (token.start() < 0 || token.end() > utf8.length || token.start() > token.end()) {
        throw new IllegalStateException("libpg_query returned a token outside the text");
      }
      String text =
          new String(utf8, token.start(), token.end() - token.start(), StandardCharsets.UTF_8);
      if (PgTokens.isConstant(t) && shareable) {
        key.append('?').append(t);
      } else {
        boolean folds = token.keywordKind() != 0 || (t == PgTokens.IDENT && !text.startsWith("\""));
        key.append(folds ? asciiLower(text) : text);
      }
      key.append(' ');
    }
    return new Key(key.toString(), shareable);
  }

  /** The server folds unquoted identifiers by ASCII rules only (in multi-byte encodings). */
  private static String asciiLower(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        StringBuilder b = new StringBuilder(s);
        for (int j = i; j < b.length(); j++) {
          char d = b.charAt(j);
          if (d >= 'A' && d <= 'Z') {
            b.setCharAt(j, (char) (d + 32));
          }
        }
        return b.toString();
      }
    }
    return s;
  }

  /** A 128-bit hex digest of a key: the {@link dev.warden.core.statement.Analysis} fingerprint. */
  static String fingerprint(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}

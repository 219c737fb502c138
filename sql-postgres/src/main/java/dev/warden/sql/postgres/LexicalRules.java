package dev.warden.sql.postgres;

import dev.warden.core.statement.LexicalSettings;
import java.util.Optional;

/**
 * When libpg_query's lexer sees the same tokens as the server's, and when it may not.
 *
 * <p>libpg_query always lexes as a server with {@code standard_conforming_strings = on} and a UTF-8
 * client encoding. The server lexes with the session's settings. Two facts make most text safe
 * anyway:
 *
 * <ul>
 *   <li>{@code standard_conforming_strings} only changes what a backslash means inside an ordinary
 *       string literal ({@code 'a\'; DROP TABLE t; --'} is one literal when it is off, a literal
 *       and a DROP when on). Text with no backslash lexes the same either way.
 *   <li>The client encoding only matters for non-ASCII bytes. In an ASCII-safe encoding (UTF8,
 *       LATIN*, WIN*, ISO_8859_*, KOI8*, EUC_*, ...) no byte of a multi-byte character is an ASCII
 *       byte, so the server's tokens are those of the decoded text. In SJIS, BIG5, GBK, UHC,
 *       GB18030 and JOHAB a trailing byte may be {@code 0x5c} (backslash) or a quote, so the same
 *       characters may lex differently: non-ASCII text in those is not followed.
 * </ul>
 *
 * <p>So text holding a backslash is refused unless the setting is known to be on, and non-ASCII
 * text unless the encoding is known to be ASCII-safe; "known" means {@link
 * LexicalSettings#settled()}. Unknown encoding names count as unsafe.
 */
final class LexicalRules {

  private LexicalRules() {}

  /** Why {@code sql} cannot be analysed under {@code settings}, or empty if it can. */
  static Optional<String> refusal(String sql, LexicalSettings settings) {
    boolean backslashesSafe = settings.standardConformingStrings() && settings.settled();
    boolean nonAsciiSafe =
        settings.settled() && LexicalSettings.asciiSafe(settings.clientEncoding());
    if (backslashesSafe && nonAsciiSafe) {
      return Optional.empty();
    }
    boolean backslash = false;
    boolean nonAscii = false;
    for (int i = 0; i < sql.length(); i++) {
      char c = sql.charAt(i);
      backslash |= c == '\\';
      nonAscii |= c >= 0x80;
    }
    if (backslash && !backslashesSafe) {
      return Optional.of(
          settings.settled()
              ? "the text has a backslash and standard_conforming_strings is off: Warden's parser"
                  + " cannot lex it as the server will"
              : "the text has a backslash while standard_conforming_strings may be changing:"
                  + " Warden cannot know how the server will lex it");
    }
    if (nonAscii && !nonAsciiSafe) {
      return Optional.of(
          settings.settled()
              ? "the text has non-ASCII characters and client_encoding "
                  + settings.clientEncoding()
                  + " is not ASCII-safe (a trailing byte may be a backslash or quote): Warden's"
                  + " parser cannot lex it as the server will"
              : "the text has non-ASCII characters while client_encoding may be changing: Warden"
                  + " cannot know how the server will lex it");
    }
    return Optional.empty();
  }
}

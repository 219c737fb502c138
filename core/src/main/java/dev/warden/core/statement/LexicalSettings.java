package dev.warden.core.statement;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The session settings that change how SQL text is split into tokens: the analyser must lex with
 * the same ones the database will.
 *
 * @param standardConformingStrings PostgreSQL's {@code standard_conforming_strings}: whether a
 *     backslash in an ordinary string literal is an ordinary character
 * @param clientEncoding the client encoding's name as the server reports it (e.g. {@code UTF8},
 *     {@code SJIS})
 * @param settled false while a statement that may change these settings is still running, so that
 *     neither value is certain
 */
public record LexicalSettings(
    boolean standardConformingStrings, String clientEncoding, boolean settled) {
  /** The server defaults: standard strings, UTF-8, nothing in flight. */
  public static final LexicalSettings DEFAULT = new LexicalSettings(true, "UTF8", true);

  /**
   * Normalised names (upper case, no '_' or '-') of the server encodings that keep ASCII intact.
   */
  private static final Set<String> ASCII_SAFE =
      Set.of(
          "UTF8",
          "UNICODE",
          "SQLASCII",
          "LATIN1",
          "LATIN2",
          "LATIN3",
          "LATIN4",
          "LATIN5",
          "LATIN6",
          "LATIN7",
          "LATIN8",
          "LATIN9",
          "LATIN10",
          "ISO88591",
          "ISO88592",
          "ISO88593",
          "ISO88594",
          "ISO88595",
          "ISO88596",
          "ISO88597",
          "ISO88598",
          "ISO88599",
          "ISO885910",
          "ISO885913",
          "ISO885914",
          "ISO885915",
          "ISO885916",
          "WIN866",
          "WIN874",
          "WIN1250",
          "WIN1251",
          "WIN1252",
          "WIN1253",
          "WIN1254",
          "WIN1255",
          "WIN1256",
          "WIN1257",
          "WIN1258",
          "WIN",
          "ALT",
          "CP866",
          "CP874",
          "CP1250",
          "CP1251",
          "CP1252",
          "CP1253",
          "CP1254",
          "CP1255",
          "CP1256",
          "CP1257",
          "CP1258",
          "KOI8",
          "KOI8R",
          "KOI8U",
          "TCVN",
          "TCVN5712",
          "VSCII",
          "ABC",
          "EUCJP",
          "EUCCN",
          "EUCKR",
          "EUCTW",
          "EUCJIS2004",
          "MULEINTERNAL");

  /**
   * Whether {@code encoding} (a PostgreSQL encoding name, in any case, with or without '_' and '-')
   * keeps ASCII intact: no byte of a multi-byte character is an ASCII byte. In SJIS, BIG5, GBK,
   * UHC, GB18030 and JOHAB a trailing byte may be a backslash, a quote or a delimiter; unknown
   * names count as unsafe.
   */
  public static boolean asciiSafe(String encoding) {
    String normalised = encoding.toUpperCase(Locale.ROOT).replace("_", "").replace("-", "").strip();
    return ASCII_SAFE.contains(normalised);
  }

  public LexicalSettings {
    Objects.requireNonNull(clientEncoding, "clientEncoding");
  }

  public LexicalSettings withStandardConformingStrings(boolean on) {
    return new LexicalSettings(on, clientEncoding, settled);
  }

  public LexicalSettings withClientEncoding(String encoding) {
    return new LexicalSettings(standardConformingStrings, encoding, settled);
  }

  public LexicalSettings withSettled(boolean now) {
    return new LexicalSettings(standardConformingStrings, clientEncoding, now);
  }
}

package dev.warden.core.statement;

import java.util.Objects;

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

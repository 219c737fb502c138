package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.StatementKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The analyser lexes as the server will, or says it cannot (THREATS S03, G20, P17). */
class LexicalSettingsTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer();
  private static final LexicalSettings NON_STANDARD =
      LexicalSettings.DEFAULT.withStandardConformingStrings(false);

  @Test
  void theClassicEvasionIsUnknownOnceStandardConformingStringsIsOff() {
    String sql = "SELECT 'a\\'; DROP TABLE t; --'";
    // with standard strings the server sees a SELECT, then a DROP: both are reported
    Analysis standard = ANALYZER.analyze(sql, LexicalSettings.DEFAULT);
    assertThat(standard.statements()).hasSize(2);
    assertThat(standard.statements().get(1).command()).isEqualTo("DROP TABLE");
    // after SET standard_conforming_strings = off the server sees one literal: Warden cannot lex
    // that, so it says so instead of guessing
    Analysis off = ANALYZER.analyze(sql, NON_STANDARD);
    assertThat(off.hasUnknown()).isTrue();
    assertThat(off.statements().get(0).unknownReason()).contains("standard_conforming_strings");
  }

  @Test
  void textWithoutBackslashLexesTheSameEitherWay() {
    Analysis a = ANALYZER.analyze("SELECT 'it''s'; DELETE FROM t WHERE id = 1", NON_STANDARD);
    assertThat(a.hasUnknown()).isFalse();
    assertThat(a.statements()).hasSize(2);
  }

  @Test
  void aBackslashWhileTheSettingMayBeChangingIsUnknown() {
    Analysis a = ANALYZER.analyze("SELECT E'\\\\'", LexicalSettings.DEFAULT.withSettled(false));
    assertThat(a.hasUnknown()).isTrue();
    assertThat(a.statements().get(0).unknownReason()).contains("may be changing");
    assertThat(
            ANALYZER.analyze("SELECT 1", LexicalSettings.DEFAULT.withSettled(false)).hasUnknown())
        .isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SJIS",
        "BIG5",
        "GBK",
        "UHC",
        "GB18030",
        "JOHAB",
        "SHIFT_JIS_2004",
        "WIN932",
        "NOT_AN_ENCODING"
      })
  void nonAsciiTextInAnUnsafeEncodingIsUnknown(String encoding) {
    LexicalSettings settings = LexicalSettings.DEFAULT.withClientEncoding(encoding);
    Analysis a = ANALYZER.analyze("SELECT 'ソ'; DROP TABLE t", settings);
    assertThat(a.hasUnknown()).isTrue();
    assertThat(a.statements().get(0).unknownReason()).contains("client_encoding");
    assertThat(ANALYZER.analyze("SELECT 'x'; DROP TABLE t", settings).statements())
        .hasSize(2)
        .allMatch(s -> s.kind() != StatementKind.UNKNOWN);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "UTF8",
        "LATIN1",
        "WIN1252",
        "EUC_JP",
        "KOI8R",
        "ISO_8859_5",
        "SQL_ASCII",
        "utf-8"
      })
  void nonAsciiTextInAnAsciiSafeEncodingIsAnalysed(String encoding) {
    Analysis a =
        ANALYZER.analyze(
            "SELECT 'é' FROM café", LexicalSettings.DEFAULT.withClientEncoding(encoding));
    assertThat(a.hasUnknown()).isFalse();
    assertThat(a.statements().get(0).tablesRead())
        .extracting(t -> t.name())
        .containsExactly("café");
  }

  @Test
  void nonAsciiWhileTheEncodingMayBeChangingIsUnknown() {
    assertThat(
            ANALYZER.analyze("SELECT 'é'", LexicalSettings.DEFAULT.withSettled(false)).hasUnknown())
        .isTrue();
  }

  @Test
  void aNulCharacterIsUnknownNotATruncatedStatement() {
    Analysis a = ANALYZER.analyze("SELECT 1\0; DROP TABLE t", LexicalSettings.DEFAULT);
    assertThat(a.hasUnknown()).isTrue();
    assertThat(a.statements().get(0).unknownReason()).contains("NUL");
    assertThat(ANALYZER.analyze("SELECT '\0'", LexicalSettings.DEFAULT).hasUnknown()).isTrue();
  }

  @Test
  void anUnpairedSurrogateIsUnknown() {
    assertThat(ANALYZER.analyze("SELECT '\uD800'", LexicalSettings.DEFAULT).hasUnknown()).isTrue();
    assertThat(ANALYZER.analyze("SELECT '\uD83D\uDE00'", LexicalSettings.DEFAULT).hasUnknown())
        .isFalse();
  }

  @Test
  void unicodeWhitespaceIsNotWhitespaceToTheServer() {
    // PostgreSQL's lexer takes U+00A0 as part of an identifier: "DELETE\u00a0FROM" is one word
    Analysis a = ANALYZER.analyze("DELETE\u00a0FROM t", LexicalSettings.DEFAULT);
    assertThat(a.hasUnknown()).isTrue();
  }

  @Test
  void lexerErrorsAreUnknownWithTheLibrarysMessage() {
    Analysis a = ANALYZER.analyze("SELECT E'\\uD800'", LexicalSettings.DEFAULT);
    assertThat(a.hasUnknown()).isTrue();
    assertThat(a.statements().get(0).unknownReason()).startsWith("syntax error: ");
  }

  @Test
  void theEncodingRulesNameSafeAndUnsafeEncodings() {
    assertThat(LexicalSettings.asciiSafe("UTF8")).isTrue();
    assertThat(LexicalSettings.asciiSafe("latin1")).isTrue();
    assertThat(LexicalSettings.asciiSafe("SJIS")).isFalse();
    assertThat(LexicalSettings.asciiSafe("")).isFalse();
  }
}

package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.warden.core.statement.LexicalSettings;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Whatever the text, redact() returns (never throws), and no literal that follows PASSWORD in it
 * comes back. A plain {@code mvn test} replays the seeds in {@code
 * PostgresRedactorFuzzTestInputs/}; to fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl sql-postgres
 * test -Dtest=PostgresRedactorFuzzTest}.
 */
class PostgresRedactorFuzzTest {
  private static final PostgresRedactor CREDENTIALS = new PostgresRedactor();
  private static final PostgresRedactor ALL =
      new PostgresRedactor(PostgresRedactor.Mode.ALL_LITERALS);
  private static final PgQuery PG_QUERY = PgQuery.load();
  private static final List<LexicalSettings> SETTINGS =
      List.of(
          LexicalSettings.DEFAULT,
          LexicalSettings.DEFAULT.withStandardConformingStrings(false),
          LexicalSettings.DEFAULT.withSettled(false),
          LexicalSettings.DEFAULT.withClientEncoding("SJIS"));

  @FuzzTest(maxDuration = "10m")
  void redactNeverThrowsNorKeepsAPassword(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    String credentials = null;
    for (LexicalSettings settings : SETTINGS) {
      String out = CREDENTIALS.redact(text, settings);
      assertThat(out).isNotNull();
      assertThat(ALL.redact(text, settings)).isNotNull();
      if (settings == LexicalSettings.DEFAULT) {
        credentials = out;
      }
    }
    passwordsLexedInTheText(text, credentials);
    // the input itself as a password, in two forms of literal
    String quoted = "'" + text.replace("'", "''") + "'";
    assertPasswordGone("ALTER ROLE r PASSWORD " + quoted + " LOGIN", quoted);
    if (!text.contains("$x$") && !text.endsWith("$")) {
      String dollar = "$x$" + text + "$x$";
      assertPasswordGone("CREATE USER u WITH PASSWORD " + dollar, dollar);
    }
  }

  private static void assertPasswordGone(String sql, String literal) {
    String out = CREDENTIALS.redact(sql, LexicalSettings.DEFAULT);
    if (!literal.equals("'***'")) {
      assertThat(out).as(sql).doesNotContain(literal);
    }
  }

  /**
   * Every plain or dollar-quoted literal that follows the keyword PASSWORD, as libpg_query lexes
   * the text, is gone from the redaction (unless the same literal is written elsewhere too).
   */
  private static void passwordsLexedInTheText(String text, String out) {
    if (text.indexOf('\0') >= 0
        || !text.equals(
            new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))) {
      return;
    }
    PgQuery.ScanResult scan = PG_QUERY.scan(text);
    if (scan.error().isPresent()) {
      return;
    }
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    List<PgQuery.Token> tokens =
        scan.tokens().stream().filter(t -> !PgTokens.isComment(t.token())).toList();
    for (int i = 0; i + 1 < tokens.size(); i++) {
      PgQuery.Token keyword = tokens.get(i);
      PgQuery.Token literal = tokens.get(i + 1);
      String word =
          new String(
              utf8, keyword.start(), keyword.end() - keyword.start(), StandardCharsets.UTF_8);
      if (keyword.keywordKind() == 0
          || !word.equalsIgnoreCase("password")
          || literal.token() != PgTokens.SCONST) {
        continue;
      }
      String raw =
          new String(
              utf8, literal.start(), literal.end() - literal.start(), StandardCharsets.UTF_8);
      if (raw.equals("'***'") || text.indexOf(raw) != text.lastIndexOf(raw)) {
        continue;
      }
      assertThat(out).as("the literal after PASSWORD in %s", text).doesNotContain(raw);
    }
  }
}

package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.TableRef;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code COPY ... TO STDOUT} says about the stream it sends, read from its options in both
 * spellings (the {@code WITH (...)} list and the keywords before PostgreSQL 9.0), as masking needs
 * it to split rows into values.
 */
class CopyOutTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(0);

  private static Optional<CopyOut> copyOut(String sql) {
    Statement s = ANALYZER.analyze(sql, LexicalSettings.DEFAULT).statements().get(0);
    return s.copyOut();
  }

  /** The export in one line: table, columns, format, delimiter, null, quote, escape, header. */
  private static String describe(CopyOut c) {
    return c.table().map(TableRef::qualifiedName).orElse("query")
        + " "
        + c.columns()
        + " "
        + c.format()
        + " d="
        + c.delimiter().replace("\t", "TAB")
        + " n="
        + c.nullString()
        + " q="
        + c.quote()
        + " e="
        + c.escape()
        + (c.header() ? " header" : "")
        + c.encoding().map(e -> " encoding=" + e).orElse("")
        + (c.readable() ? "" : " unsupported: " + c.unsupported());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          COPY users TO STDOUT ⇒ users [] TEXT d=TAB n=\\N q=" e="
          COPY s.users (id, "E-mail") TO STDOUT ⇒ s.users [id, E-mail] TEXT d=TAB n=\\N q=" e="
          COPY users TO STDOUT (FORMAT csv) ⇒ users [] CSV d=, n= q=" e="
          COPY users TO STDOUT WITH CSV HEADER DELIMITER ';' NULL 'NULL' QUOTE '''' ESCAPE '\\' ⇒ users [] CSV d=; n=NULL q=' e=\\ header
          COPY users TO STDOUT (FORMAT csv, HEADER true, FORCE_QUOTE *) ⇒ users [] CSV d=, n= q=" e=" header
          COPY users TO STDOUT (FORMAT csv, HEADER off) ⇒ users [] CSV d=, n= q=" e="
          COPY users TO STDOUT (FORMAT text, HEADER, NULL '', DELIMITER '|') ⇒ users [] TEXT d=| n= q=" e=" header
          COPY users TO STDOUT BINARY ⇒ users [] BINARY d=TAB n=\\N q=" e="
          COPY users TO STDOUT (FORMAT BINARY) ⇒ users [] BINARY d=TAB n=\\N q=" e="
          COPY (SELECT 1) TO STDOUT (ENCODING 'LATIN1') ⇒ query [] TEXT d=TAB n=\\N q=" e=" encoding=LATIN1
          COPY users TO STDOUT (FORMAT json) ⇒ users [] TEXT d=TAB n=\\N q=" e=" unsupported: COPY format json
          COPY users TO STDOUT (ON_ERROR stop) ⇒ users [] TEXT d=TAB n=\\N q=" e=" unsupported: COPY option on_error
          COPY users TO STDOUT (DELIMITER 'ab') ⇒ users [] TEXT d=ab n=\\N q=" e=" unsupported: a COPY delimiter, quote or escape that is not one ASCII character
          """)
  void theStreamIsDescribedFromTheOptions(String sql, String expected) {
    assertThat(copyOut(sql.strip()).map(CopyOutTest::describe)).contains(expected.strip());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "COPY users FROM STDIN",
        "COPY users TO '/tmp/users.csv'",
        "COPY users TO PROGRAM 'gzip > /tmp/u.gz'",
        "SELECT * FROM users"
      })
  void onlyACopyToTheClientSendsAStream(String sql) {
    assertThat(copyOut(sql)).isEmpty();
  }
}

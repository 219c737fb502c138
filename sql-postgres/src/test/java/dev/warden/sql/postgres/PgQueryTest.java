package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The FFM binding calls libpg_query correctly, frees what it returns, and is thread-safe. */
class PgQueryTest {
  private static final PgQuery PG_QUERY = PgQuery.load();

  @Test
  void parsesIntoJson() {
    PgQuery.ParseResult result = PG_QUERY.parse("SELECT 1; DELETE FROM t");
    assertThat(result.error()).isEmpty();
    assertThat(result.json().orElseThrow())
        .startsWith("{\"version\":150001")
        .contains("SelectStmt")
        .contains("DeleteStmt");
  }

  @Test
  void reportsSyntaxErrorsWithTheirCursor() {
    PgQuery.ParseResult result = PG_QUERY.parse("SELECT 1; SELEC 2");
    assertThat(result.json()).isEmpty();
    PgQuery.Failure failure = result.error().orElseThrow();
    assertThat(failure.message()).isEqualTo("syntax error at or near \"SELEC\"");
    assertThat(failure.cursorPosition()).isEqualTo(11);
    assertThat(failure.describe()).isEqualTo("syntax error (at character 11)");
  }

  @Test
  void aFailureDescribedForTheAuditTrailQuotesNothingOfTheText() {
    for (String sql :
        new String[] {
          "ALTER ROLE x PASSWORD 'hunter2-canary", "ALTER ROLE x PASSWORD $$hunter2-canary",
          "SELECT \"hunter2-canary", "ALTER ROLE x PASSWORD hunter2-canary"
        }) {
      PgQuery.Failure failure = PG_QUERY.parse(sql).error().orElseThrow();
      assertThat(failure.describe()).as(sql).doesNotContain("hunter2").doesNotContain("canary");
    }
  }

  @Test
  void scansTokensWithByteOffsets() {
    PgQuery.ScanResult result = PG_QUERY.scan("SELECT 'é', 42 /* c */ -- d\n");
    assertThat(result.error()).isEmpty();
    List<PgQuery.Token> tokens = result.tokens();
    assertThat(tokens)
        .extracting(PgQuery.Token::token)
        .containsExactly(
            PgTokens.SELECT,
            PgTokens.SCONST,
            ',' + 0,
            PgTokens.ICONST,
            PgTokens.C_COMMENT,
            PgTokens.SQL_COMMENT);
    // 'é' is four bytes in UTF-8: quote, two bytes, quote
    assertThat(tokens.get(1)).isEqualTo(new PgQuery.Token(7, 11, PgTokens.SCONST, 0));
    assertThat(tokens.get(0).keywordKind()).isEqualTo(4); // SELECT is reserved
  }

  @Test
  void scanReportsLexerErrors() {
    PgQuery.ScanResult result = PG_QUERY.scan("SELECT 'unterminated");
    assertThat(result.error()).isPresent();
    assertThat(result.error().orElseThrow().message()).contains("unterminated quoted string");
  }

  @Test
  void splitsStatementsAsTheParserDoes() {
    assertThat(PG_QUERY.split("SELECT ';'; SELECT $$;$$ ;; /* ; */ SELECT 3"))
        .containsExactly(
            new PgQuery.Span(0, 10), new PgQuery.Span(11, 14), new PgQuery.Span(27, 17));
  }

  @Test
  void fingerprintIgnoresConstants() {
    assertThat(PG_QUERY.fingerprint("SELECT * FROM t WHERE id = 1"))
        .isEqualTo(PG_QUERY.fingerprint("select * from t where id = 42"))
        .isNotEqualTo(PG_QUERY.fingerprint("SELECT * FROM u WHERE id = 1"));
  }

  @Test
  void refusesTextWithANulCharacter() {
    assertThatThrownBy(() -> PG_QUERY.parse("SELECT 1\0; DROP TABLE t"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NUL");
  }

  @Test
  void isSafeToCallFromManyThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        Callable<Boolean> work =
            () -> {
              for (int i = 0; i < 2_000; i++) {
                String table = "t" + thread + "_" + i;
                String json = PG_QUERY.parse("SELECT a FROM " + table).json().orElseThrow();
                if (!json.contains("\"relname\":\"" + table + "\"")) {
                  return false;
                }
                if (PG_QUERY.parse("SELEC " + i).error().isEmpty()) {
                  return false;
                }
                if (PG_QUERY.scan("SELECT " + i).tokens().size() != 2) {
                  return false;
                }
              }
              return true;
            };
        results.add(pool.submit(work));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aMissingLibraryNamesTheDebianPackage() {
    String previous = System.getProperty("warden.pgquery.library");
    System.setProperty("warden.pgquery.library", "/nonexistent/libpg_query.so");
    try {
      assertThatThrownBy(PgQuery::load)
          .isInstanceOf(PgQueryUnavailableException.class)
          .hasMessageContaining("apt-get install libpg-query-dev")
          .hasMessageContaining("/nonexistent/libpg_query.so");
    } finally {
      if (previous == null) {
        System.clearProperty("warden.pgquery.library");
      } else {
        System.setProperty("warden.pgquery.library", previous);
      }
    }
  }
}

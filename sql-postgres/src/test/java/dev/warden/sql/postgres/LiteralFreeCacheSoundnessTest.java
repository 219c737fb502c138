package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The literal-free cache never changes an answer: for every case of {@code statements.txt}, a text
 * with other constants gets from a warmed cache exactly what an uncached analyser finds.
 */
class LiteralFreeCacheSoundnessTest {
  private static final PgQuery PG_QUERY = PgQuery.load();
  private static final PostgresAnalyzer UNCACHED = new PostgresAnalyzer(0);

  /** Replacement constants: each variant swaps every constant for one of these. */
  private static final String[][] VARIANTS = {
    {"0", "'t'", "0.0"}, {"1", "'off'", "1.5"}, {"2", "'role'", "-3.25"}, {"7", "'%'", "1e9"}
  };

  @TestFactory
  Stream<DynamicTest> cachedAnswersEqualFreshOnes() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (StatementFactsTest.Case c : StatementFactsTest.cases()) {
      tests.add(DynamicTest.dynamicTest(c.sql(), () -> check(c.sql())));
    }
    return tests.stream();
  }

  private static void check(String sql) {
    PostgresAnalyzer cached = new PostgresAnalyzer(100);
    cached.analyze(sql, LexicalSettings.DEFAULT);
    for (String[] variant : VARIANTS) {
      String other = withConstants(sql, variant);
      Analysis fromCache = cached.analyze(other, LexicalSettings.DEFAULT);
      Analysis fresh = UNCACHED.analyze(other, LexicalSettings.DEFAULT);
      assertThat(fromCache).as("%s (warmed with %s)", other, sql).isEqualTo(fresh);
    }
  }

  static String withConstants(String sql, String[] variant) {
    PgQuery.ScanResult scan = PG_QUERY.scan(sql);
    if (scan.error().isPresent()) {
      return sql;
    }
    byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    for (PgQuery.Token token : scan.tokens()) {
      String replacement =
          switch (token.token()) {
            case PgTokens.ICONST -> variant[0];
            case PgTokens.SCONST -> variant[1];
            case PgTokens.FCONST -> variant[2];
            default -> null;
          };
      if (replacement != null) {
        out.write(utf8, at, token.start() - at);
        out.writeBytes(replacement.getBytes(StandardCharsets.UTF_8));
        at = token.end();
      }
    }
    out.write(utf8, at, utf8.length - at);
    return out.toString(StandardCharsets.UTF_8);
  }
}

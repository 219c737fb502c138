package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import java.nio.charset.StandardCharsets;

/**
 * Whatever the text, analyse() returns (never throws) an analysis whose unknown statements say why.
 * A plain {@code mvn test} replays the seeds in {@code AnalyzerFuzzTestInputs/}; to fuzz for real:
 * {@code JAZZER_FUZZ=1 mvn -pl sql-postgres test -Dtest=AnalyzerFuzzTest}.
 */
class AnalyzerFuzzTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(1000);

  @FuzzTest(maxDuration = "10m")
  void analyseNeverThrows(byte[] input) {
    String sql = new String(input, StandardCharsets.UTF_8);
    for (LexicalSettings settings :
        new LexicalSettings[] {
          LexicalSettings.DEFAULT, LexicalSettings.DEFAULT.withStandardConformingStrings(false)
        }) {
      Analysis a = ANALYZER.analyze(sql, settings);
      assertThat(a).isNotNull();
      for (Statement s : a.statements()) {
        if (s.kind() == StatementKind.UNKNOWN) {
          assertThat(s.unknownReason()).isNotEmpty();
        }
      }
    }
  }
}

package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Many threads analysing at once each get their own text's facts. */
class ConcurrentAnalysisTest {
  @Test
  void analysesFromManyThreadsDoNotMix() throws Exception {
    PostgresAnalyzer analyzer = new PostgresAnalyzer(100);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<String>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 400; i++) {
                    String table = "t" + thread + "_" + (i % 150);
                    Analysis a =
                        analyzer.analyze(
                            "SELECT a FROM "
                                + table
                                + " WHERE id = "
                                + i
                                + "; DELETE FROM "
                                + table,
                            LexicalSettings.DEFAULT);
                    if (a.statements().size() != 2
                        || !a.statements()
                            .get(0)
                            .tablesRead()
                            .iterator()
                            .next()
                            .name()
                            .equals(table)
                        || !a.statements()
                            .get(1)
                            .tablesWritten()
                            .iterator()
                            .next()
                            .name()
                            .equals(table)) {
                      return "wrong facts for " + table + ": " + a;
                    }
                  }
                  return "";
                }));
      }
      for (Future<String> result : results) {
        assertThat(result.get()).isEmpty();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}

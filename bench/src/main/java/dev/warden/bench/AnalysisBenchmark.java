package dev.warden.bench;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What analysing one statement costs the proxy, on the three paths a statement can take: parsed
 * from scratch ({@code cold}), found by its literal-free key because only its constants are new
 * ({@code literalFree}, e.g. pgbench {@code -M simple}), and found by its exact text ({@code
 * exactText}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AnalysisBenchmark {
  /** Each workload as a template: {@code %d} is a constant that changes per call when asked. */
  @Param({"point", "orm", "multi"})
  public String workload;

  private static final String POINT = "SELECT abalance FROM pgbench_accounts WHERE aid = %d";
  private static final String ORM =
      "select u1_0.id,u1_0.email,u1_0.name,o1_0.id,o1_0.total,o1_0.status,a1_0.city"
          + " from users u1_0 join orders o1_0 on u1_0.id=o1_0.user_id"
          + " left join addresses a1_0 on a1_0.user_id=u1_0.id"
          + " where u1_0.tenant_id=%d and o1_0.status in ('paid','shipped')"
          + " and o1_0.created_at>now()-interval '30 days' order by o1_0.created_at desc limit 50";
  private static final String MULTI =
      "BEGIN; UPDATE pgbench_accounts SET abalance = abalance + -17 WHERE aid = %d;"
          + " SELECT abalance FROM pgbench_accounts WHERE aid = 5123;"
          + " UPDATE pgbench_tellers SET tbalance = tbalance + -17 WHERE tid = 7;"
          + " UPDATE pgbench_branches SET bbalance = bbalance + -17 WHERE bid = 1;"
          + " INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)"
          + " VALUES (7, 1, 5123, -17, CURRENT_TIMESTAMP); END;";

  private String template;
  private String fixed;
  private long counter;
  private PostgresAnalyzer uncached;
  private PostgresAnalyzer cached;

  @Setup
  public void setUp() {
    template =
        switch (workload) {
          case "point" -> POINT;
          case "orm" -> ORM;
          case "multi" -> MULTI;
          default -> throw new IllegalArgumentException(workload);
        };
    fixed = String.format(template, 42);
    uncached = new PostgresAnalyzer(0);
    cached = new PostgresAnalyzer(10_000);
    cached.analyze(fixed, LexicalSettings.DEFAULT);
  }

  /** Cache miss: lex, parse, walk the tree. */
  @Benchmark
  public Analysis cold() {
    return uncached.analyze(fixed, LexicalSettings.DEFAULT);
  }

  /** New constants each call: the exact-text cache misses, the literal-free key hits (lex only). */
  @Benchmark
  public Analysis literalFree() {
    return cached.analyze(
        String.format(template, 1_000_000 + (counter++ % 50_000_000)), LexicalSettings.DEFAULT);
  }

  /** The same text again: a hash lookup. The text is a new String each time, as off the wire. */
  @Benchmark
  public Analysis exactText() {
    return cached.analyze(new String(fixed), LexicalSettings.DEFAULT);
  }
}

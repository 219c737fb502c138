package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.LexicalSettings;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Report-only timing of the redactor's two paths (no timed assertion: the machine is shared). Run
 * with {@code mvn -pl sql-postgres test -Dtest=RedactTimingTest -Dwarden.redact.timing=true}.
 */
@EnabledIfSystemProperty(named = "warden.redact.timing", matches = "true")
class RedactTimingTest {
  private static final PostgresRedactor REDACTOR = new PostgresRedactor();

  private record Case(String name, String sql, boolean changes) {}

  @Test
  void timeBothPaths() {
    String longSelect =
        "SELECT c.id, c.full_name, c.email, o.id AS order_id, o.total, o.created_at FROM customers"
            + " c JOIN orders o ON o.customer_id = c.id WHERE c.country = 'DE' AND o.created_at >="
            + " now() - interval '30 days' AND o.status IN ('paid', 'shipped') ORDER BY o.created_at"
            + " DESC LIMIT 100";
    List<Case> cases =
        List.of(
            new Case("fast path, 38 chars", "SELECT * FROM customers WHERE id = 42", false),
            new Case("fast path, " + longSelect.length() + " chars", longSelect, false),
            new Case(
                "slow path, trigger word, nothing to remove",
                "SELECT provider, token FROM api_keys WHERE id = 5",
                false),
            new Case("slow path, role password", "ALTER ROLE alice PASSWORD 'hunter2'", true),
            new Case(
                "slow path, connection string",
                "SELECT dblink_connect('c', 'host=db user=app password=hunter2')",
                true));
    // a yardstick for a shared machine: one case-sensitive search of the long text
    time(
        "baseline: longSelect.indexOf(\"password\")",
        2_000_000,
        () -> longSelect.indexOf("password") + 2);
    for (Case c : cases) {
      String out = REDACTOR.redact(c.sql(), LexicalSettings.DEFAULT);
      assertThat(out == c.sql()).as(c.name()).isEqualTo(!c.changes());
      int iterations = c.name().startsWith("fast") ? 2_000_000 : 50_000;
      time(
          "redact " + c.name(),
          iterations,
          () -> REDACTOR.redact(c.sql(), LexicalSettings.DEFAULT).length());
    }
  }

  private static void time(String name, int iterations, IntSupplier work) {
    run(work, iterations / 4); // warm-up
    long best = Long.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long start = System.nanoTime();
      run(work, iterations);
      best = Math.min(best, System.nanoTime() - start);
    }
    System.out.printf(
        "%-52s %8.0f ns/op (best of 5 x %d)%n", name, (double) best / iterations, iterations);
  }

  private static void run(IntSupplier work, int iterations) {
    int sink = 0;
    for (int i = 0; i < iterations; i++) {
      sink += work.getAsInt();
    }
    assertThat(sink).isPositive();
  }
}

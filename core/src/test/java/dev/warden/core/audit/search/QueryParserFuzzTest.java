package dev.warden.core.audit.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Instant;

/**
 * Any text either reads as a query or is refused with an {@link AuditQueryException} that points
 * inside it; nothing else escapes, and a query that reads can be matched against any record.
 *
 * <p>A plain {@code mvn test} replays the seeds in {@code
 * src/test/resources/dev/warden/core/audit/search/QueryParserFuzzTestInputs/parse/}. To fuzz:
 * {@code JAZZER_FUZZ=1 mvn -pl core test -Djazzer.version=0.30.0 -Dtest=QueryParserFuzzTest}.
 */
class QueryParserFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void parse(String input) {
    if (input == null) {
      return;
    }
    AuditQuery query;
    try {
      query = AuditQuery.parse(input);
    } catch (AuditQueryException e) {
      assertThat(e.position()).isBetween(0, input.length());
      assertThat(e.expected()).isNotEmpty();
      return;
    }
    assertThat(query.source()).isEqualTo(input);
    Instant now = Instant.parse("2026-11-02T12:00:00Z");
    query.matches(AuditQueryTest.deleteStatement(), now, now);
    query.since(now);
    query.until(now);
  }
}

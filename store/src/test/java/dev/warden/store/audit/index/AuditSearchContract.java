package dev.warden.store.audit.index;

import static dev.warden.store.audit.index.AuditFixture.allow;
import static dev.warden.store.audit.index.AuditFixture.deny;
import static dev.warden.store.audit.index.AuditFixture.event;
import static dev.warden.store.audit.index.AuditFixture.intent;
import static dev.warden.store.audit.index.AuditFixture.outcome;
import static dev.warden.store.audit.index.AuditFixture.session;
import static dev.warden.store.audit.index.AuditFixture.statement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.statement.StatementKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * What every {@link AuditSearch} must answer, run against the embedded index and the PostgreSQL
 * search alike: a hand-checked scenario, and seeded random logs and queries compared with {@link
 * ReferenceSearch} (the documented meaning, in plain Java).
 */
public abstract class AuditSearchContract {
  /**
   * A search over {@code logs} (each log's records in order), resolving times with {@code clock}.
   */
  protected abstract AuditSearch load(Map<String, List<ChainedRecord>> logs, Clock clock)
      throws Exception;

  static final String A = "log-warden-a";
  static final String B = "log-warden-b";

  static Instant at(String time) {
    return Instant.parse("2026-11-02T" + time + "Z");
  }

  /** Two instances' logs: a short session of each, with an intent still awaiting its outcome. */
  static Map<String, List<ChainedRecord>> scenario() {
    SessionContext alice = session("s1", "alice", "production", "psql");
    AuditFixture.Writer a = new AuditFixture.Writer("warden-a");
    a.add(event(at("10:00:00"), "connect", "alice", Optional.of(alice)));
    a.add(
        intent(
            at("10:00:01"),
            alice,
            1,
            "SELECT * FROM users WHERE id = 5",
            allow(statement(StatementKind.READ, "SELECT", "users", List.of("id")))));
    a.add(
        outcome(
            at("10:00:01.002"), "s1", 1, Status.OK, OptionalLong.of(1), Duration.ofMillis(2), ""));
    a.add(
        intent(
            at("10:00:02"),
            alice,
            2,
            "DELETE FROM users WHERE id = 5",
            deny(
                statement(StatementKind.WRITE, "DELETE", "users", List.of("id")),
                "no-deletes",
                "42501")));
    a.add(
        intent(
            at("10:00:03"),
            alice,
            3,
            "UPDATE orders SET total = 0",
            allow(statement(StatementKind.WRITE, "UPDATE", "orders", List.of("total")))));
    a.add(
        outcome(
            at("10:00:04.5"),
            "s1",
            3,
            Status.OK,
            OptionalLong.of(250),
            Duration.ofMillis(1500),
            ""));
    a.add(event(at("10:00:05"), "policy-reload", "admin", Optional.empty()));

    SessionContext bob = session("s1", "bob", "staging", "DBeaver 24");
    AuditFixture.Writer b = new AuditFixture.Writer("warden-b");
    b.add(
        intent(
            at("09:00:00"),
            bob,
            1,
            "delete from public.users where id = 7",
            allow(statement(StatementKind.WRITE, "DELETE", "public.users", List.of("id")))));
    b.add(
        outcome(
            at("09:00:01"),
            "s1",
            1,
            Status.ERROR,
            OptionalLong.empty(),
            Duration.ofSeconds(1),
            "57014"));
    b.add(
        outcome(at("09:30:00"), "s9", 4, Status.OK, OptionalLong.of(3), Duration.ofMillis(1), ""));

    Map<String, List<ChainedRecord>> logs = new LinkedHashMap<>();
    logs.put(A, a.chain(A));
    logs.put(B, b.chain(B));
    return logs;
  }

  static List<String> ids(AuditResults results) {
    List<String> ids = new ArrayList<>();
    for (AuditHit h : results.hits()) {
      ids.add((h.logId().equals(A) ? "A" : "B") + h.seq());
    }
    return ids;
  }

  @Test
  void theScenarioAnswersAsDocumented() throws Exception {
    AuditSearch search = load(scenario(), AuditFixture.CLOCK);
    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put(
        "user:alice table:users kind:delete verdict:denied since:24h \"where id =\"",
        List.of("A4"));
    expected.put("", List.of("A7", "A5", "A4", "A2", "A1", "B3", "B1"));
    expected.put("rows>100 verdict:allowed", List.of("A5"));
    expected.put("duration>=1s", List.of("A5", "B1"));
    expected.put("duration>1s", List.of("A5"));
    expected.put("type:outcome", List.of("A5", "A2", "B3", "B1"));
    expected.put("type:intent -type:outcome", List.of("A4"));
    expected.put("type:event", List.of("A7", "A1"));
    expected.put("status:error", List.of("B1"));
    expected.put("sqlstate:57014", List.of("B1"));
    expected.put("sqlstate:42*", List.of("A4"));
    expected.put("table:users", List.of("A4", "A2", "B1"));
    expected.put("table:public.users", List.of("B1"));
    expected.put("table:public.*", List.of("B1"));
    expected.put("instance:warden-b", List.of("B3", "B1"));
    expected.put("session:s1 instance:warden-b", List.of("B1"));
    expected.put("DELETE", List.of("A4", "B1"));
    expected.put("-delete type:intent", List.of("A5", "A2"));
    expected.put("\"id = 5\"", List.of("A4", "A2"));
    expected.put("id", List.of("A4", "A2", "B1"));
    expected.put("until:2026-11-02T10:00Z", List.of("B3", "B1"));
    expected.put("since:2026-11-02T10:00:02Z until:2026-11-02T10:00:04Z", List.of("A5", "A4"));
    expected.put("event:policy-reload user:admin", List.of("A7"));
    expected.put("kind:write -verdict:denied", List.of("A5", "B1"));
    expected.put("user:alice,bob kind:write", List.of("A5", "A4", "B1"));
    expected.put("-user:*", List.of("B3"));
    expected.put("application:\"DBeaver 24\" group:dba env:staging", List.of("B1"));
    expected.put("column:users.id column:id", List.of("A4", "A2", "B1"));
    expected.put("command:delete rule:no-deletes", List.of("A4"));
    expected.put("rows=1 status:ok", List.of("A2"));
    expected.put("since:1h", List.of());
    expected.put("user:nobody", List.of());
    expected.put("\"no such text\"", List.of());
    for (Map.Entry<String, List<String>> e : expected.entrySet()) {
      AuditResults r = search.search(AuditQuery.parse(e.getKey()), 50);
      assertThat(ids(r)).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(r.more()).as(e.getKey()).isFalse();
    }
  }

  @Test
  void aStatementsHitCarriesItsOutcome() throws Exception {
    AuditSearch search = load(scenario(), AuditFixture.CLOCK);

    AuditResults r = search.search(AuditQuery.parse("rows>100"), 10);

    AuditHit hit = r.hits().getFirst();
    assertThat(hit.logId()).isEqualTo(A);
    assertThat(hit.seq()).isEqualTo(5);
    assertThat(hit.outcomeSeq()).hasValue(6);
    assertThat(hit.time()).isEqualTo(at("10:00:03"));
    assertThat(hit.fields())
        .containsEntry("type", "intent")
        .containsEntry("user", "alice")
        .containsEntry("text", "UPDATE orders SET total = 0")
        .containsEntry("rows", 250L)
        .containsEntry("status", "ok")
        .containsEntry("duration_us", 1_500_000L)
        .containsEntry("outcome_time", "2026-11-02T10:00:04.500000Z")
        .containsEntry("stmt", 3L)
        .containsEntry("tables", List.of("orders"));

    AuditHit denied = search.search(AuditQuery.parse("verdict:denied"), 10).hits().getFirst();
    assertThat(denied.outcomeSeq()).isEmpty();
    assertThat(denied.fields()).doesNotContainKey("status").containsEntry("sqlstate", "42501");

    AuditHit orphan = search.search(AuditQuery.parse("session:s9"), 10).hits().getFirst();
    assertThat(orphan.fields()).containsEntry("type", "outcome").containsEntry("rows", 3L);
    assertThat(orphan.outcomeSeq()).isEmpty();
  }

  @Test
  void theLimitCutsNewestFirstAndSaysThereIsMore() throws Exception {
    AuditSearch search = load(scenario(), AuditFixture.CLOCK);

    AuditResults r = search.search(AuditQuery.all(), 3);

    assertThat(ids(r)).containsExactly("A7", "A5", "A4");
    assertThat(r.more()).isTrue();
    assertThat(search.search(AuditQuery.all(), 7).more()).isFalse();
    assertThatThrownBy(() -> search.search(AuditQuery.all(), 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> search.search(AuditQuery.all(), AuditSearch.MAX_LIMIT + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** How many random queries {@link #randomLogsAndQueriesAnswerAsTheReference} asks. */
  protected int randomQueries() {
    return 400;
  }

  @Test
  void randomLogsAndQueriesAnswerAsTheReference() throws Exception {
    Map<String, List<ChainedRecord>> logs = AuditFixture.randomLogs(20261102L, 700);
    AuditSearch search = load(logs, AuditFixture.CLOCK);
    ReferenceSearch reference = new ReferenceSearch(logs, AuditFixture.CLOCK);
    Random r = new Random(4);
    int nonEmpty = 0;
    int queries = randomQueries();
    for (int i = 0; i < queries; i++) {
      String q = RandomQueries.query(r);
      int limit = r.nextInt(4) == 0 ? 1 + r.nextInt(5) : 200;
      AuditQuery query = AuditQuery.parse(q);
      AuditResults expected = reference.search(query, limit);
      AuditResults actual = search.search(query, limit);
      assertThat(actual.hits()).as(q).isEqualTo(expected.hits());
      assertThat(actual.more()).as(q).isEqualTo(expected.more());
      if (!expected.hits().isEmpty()) {
        nonEmpty++;
      }
    }
    // The queries must find something often enough to prove anything.
    assertThat(nonEmpty).isGreaterThan(queries * 3 / 8);
  }
}

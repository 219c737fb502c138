package dev.warden.core.audit.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.audit.search.AuditQuery.Comparison;
import dev.warden.core.audit.search.AuditQuery.Field;
import dev.warden.core.audit.search.AuditQuery.FieldFilter;
import dev.warden.core.audit.search.AuditQuery.Match;
import dev.warden.core.audit.search.AuditQuery.Measure;
import dev.warden.core.audit.search.AuditQuery.NumberFilter;
import dev.warden.core.audit.search.AuditQuery.TextTerm;
import dev.warden.core.audit.search.AuditQuery.TimeBound;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.StatementKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The query language: what each term means, and where and why a bad query is refused. */
class AuditQueryTest {
  static final Instant NOW = Instant.parse("2026-11-02T12:00:00Z");

  @Test
  void theIssuesExampleReadsAsFiltersATimeBoundAndAPhrase() {
    AuditQuery q =
        AuditQuery.parse(
            "user:alice table:users kind:delete verdict:denied since:24h \"where id =\"");

    assertThat(q.filters())
        .containsExactly(
            new FieldFilter(Field.USER, false, List.of(new Match("user:alice", false))),
            new FieldFilter(Field.TABLE, false, List.of(new Match("table:users", false))),
            new FieldFilter(
                Field.KIND,
                false,
                List.of(new Match("command:DELETE", false), new Match("command:DELETE ", true))),
            new FieldFilter(Field.VERDICT, false, List.of(new Match("verdict:denied", false))));
    assertThat(q.texts()).containsExactly(new TextTerm("where id =", false));
    assertThat(q.since()).contains(new TimeBound.Ago(Duration.ofHours(24)));
    assertThat(q.since(NOW)).contains(Instant.parse("2026-11-01T12:00:00Z"));
    assertThat(q.until()).isEmpty();
    assertThat(q.source()).startsWith("user:alice");
  }

  @Test
  void negationAnyOfPrefixesAndNormalisedValues() {
    AuditQuery q =
        AuditQuery.parse(
            "-user:bob,carol table:public.* command:\"drop table\" sqlstate:42* kind:READ"
                + " event:Connect");

    assertThat(q.filters())
        .containsExactly(
            new FieldFilter(
                Field.USER,
                true,
                List.of(new Match("user:bob", false), new Match("user:carol", false))),
            new FieldFilter(Field.TABLE, false, List.of(new Match("table:public.", true))),
            new FieldFilter(Field.COMMAND, false, List.of(new Match("command:DROP TABLE", false))),
            new FieldFilter(Field.SQLSTATE, false, List.of(new Match("sqlstate:42", true))),
            new FieldFilter(Field.KIND, false, List.of(new Match("kind:read", false))),
            new FieldFilter(Field.EVENT, false, List.of(new Match("event:connect", false))));
  }

  @Test
  void comparisonsOfRowsAndDurations() {
    AuditQuery q =
        AuditQuery.parse("rows>100 duration>=1s rows<=5 duration<250ms rows:7 duration=2m");

    assertThat(q.numbers())
        .containsExactly(
            new NumberFilter(Measure.ROWS, Comparison.GT, 100),
            new NumberFilter(Measure.DURATION, Comparison.GE, 1_000_000),
            new NumberFilter(Measure.ROWS, Comparison.LE, 5),
            new NumberFilter(Measure.DURATION, Comparison.LT, 250_000),
            new NumberFilter(Measure.ROWS, Comparison.EQ, 7),
            new NumberFilter(Measure.DURATION, Comparison.EQ, 120_000_000));
  }

  @ParameterizedTest
  @CsvSource({
    "since:30m, 2026-11-02T11:30:00Z",
    "since:90s, 2026-11-02T11:58:30Z",
    "since:7d, 2026-10-26T12:00:00Z",
    "since:2w, 2026-10-19T12:00:00Z",
    "since:2026-11-01, 2026-11-01T00:00:00Z",
    "since:2026-11-01T10:00Z, 2026-11-01T10:00:00Z",
    "since:2026-11-01T10:00:30+02:00, 2026-11-01T08:00:30Z",
    "since:2026-11-01T10:00, 2026-11-01T10:00:00Z",
    "since:2026-11-01T10:00:00.250Z, 2026-11-01T10:00:00.250Z",
  })
  void timesAreUtcUnlessTheyCarryAnOffsetAndRelativeOnesCountBackFromTheSearch(
      String query, String expected) {
    assertThat(AuditQuery.parse(query).since(NOW)).contains(Instant.parse(expected));
    assertThat(AuditQuery.parse(query.replace("since", "until")).until(NOW))
        .contains(Instant.parse(expected));
  }

  @Test
  void freeWordsAndPhrases() {
    AuditQuery q =
        AuditQuery.parse("  select  10:00 a::int -  -secret \"say \\\"hi\\\" \\\\o/\" -\"x y\"  ");

    assertThat(q.texts())
        .containsExactly(
            new TextTerm("select", false),
            new TextTerm("10:00", false),
            new TextTerm("a::int", false),
            new TextTerm("-", false),
            new TextTerm("secret", true),
            new TextTerm("say \"hi\" \\o/", false),
            new TextTerm("x y", true));
    assertThat(q.filters()).isEmpty();
    assertThat(AuditQuery.parse("").texts()).isEmpty();
    assertThat(AuditQuery.parse(" \t\n").filters()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "user:|5|a value for user",
        "user:a,|7|a value for user",
        "usr:alice|0|a field name before ':'",
        "-usr:alice|1|a field name before ':'",
        "verdict:maybe|8|verdict to be one of allowed, denied, observed",
        "verdict:den*|11|a whole value for verdict",
        "type:statement|5|type to be one of intent, outcome, event",
        "status:done|7|status to be one of ok, error, refused, not-run, unknown",
        "kind:raed|5|a kind (read, write",
        "\"where id|9|a closing quote",
        "\"\"|0|text between the quotes",
        "rows>|5|a number of rows after rows>",
        "rows>10x|7|a plain number of rows",
        "rows>1234567890123456|5|a number of at most 15 digits",
        "duration>5|10|a unit after the number",
        "duration>5d|10|a unit after the number",
        "duration>|9|a duration such as 500ms",
        "-rows>5|0|a comparison without '-'",
        "since:yesterday|6|a time such as 24h",
        "since:2026-13-01|6|a time such as 24h",
        "until:|6|a time such as 24h",
        "since:1d since:2d|9|one since: in a query",
        "-since:1d|0|since without '-'",
        "table:pub*lic|9|'*' only at the end of a value",
        "user:\"alice\"x|12|a space between terms",
        "user:al\"ice\"|7|a space or ',' before a quote",
        "foo\"bar\"|3|a space before a quote",
        "sqlstate:4260|9|a SQLSTATE of five letters or digits",
        "sqlstate:4260$|9|a SQLSTATE of five letters or digits",
        "user>alice|4|':' after user",
        "kind:del*|8|a whole value for kind",
      })
  void badQueriesSayWhereAndWhatWasExpected(String query, int position, String expected) {
    assertThatThrownBy(() -> AuditQuery.parse(query))
        .isInstanceOfSatisfying(
            AuditQueryException.class,
            e -> {
              assertThat(e.position()).isEqualTo(position);
              assertThat(e.expected()).startsWith(expected);
              assertThat(e.getMessage()).contains("at character " + (position + 1));
            });
  }

  @Test
  void longQueriesAndTooManyTermsAreRefused() {
    assertThatThrownBy(() -> AuditQuery.parse("x".repeat(4097)))
        .isInstanceOf(AuditQueryException.class)
        .hasMessageContaining("at most 4096 characters");
    assertThatThrownBy(() -> AuditQuery.parse("w ".repeat(65)))
        .isInstanceOfSatisfying(
            AuditQueryException.class, e -> assertThat(e.position()).isEqualTo(128));
    assertThat(AuditQuery.parse("w ".repeat(64)).texts()).hasSize(64);
  }

  // --- matches: the reference meaning every store is tested against ---

  static final SessionContext ALICE = Records.session("s1", "alice", "production");
  static final Instant T = Instant.parse("2026-11-02T11:00:00Z");

  static Map<String, Object> deleteStatement() {
    Map<String, Object> intent =
        Records.intent(
            T,
            ALICE,
            3,
            "DELETE FROM users WHERE id = 5",
            Records.statement(StatementKind.WRITE, "DELETE", "users", "id"),
            Verdict.ALLOW);
    return AuditHit.merge(
        intent, Records.outcome(T.plusMillis(5), "s1", 3, Status.OK, 150, 1_500_000));
  }

  static boolean matches(String query, Map<String, Object> fields) {
    return AuditQuery.parse(query).matches(fields, T, NOW);
  }

  @Test
  void aStatementMatchesByItsIntentsAndItsOutcomesFields() {
    Map<String, Object> row = deleteStatement();

    for (String q :
        List.of(
            "",
            "user:alice table:users kind:delete verdict:allowed since:24h \"where id =\"",
            "table:public.users column:users.id column:id table:public.*",
            "kind:write command:delete group:staff env:production database:shop",
            "client:10.0.0.* application:psql session:s1 instance:warden-a",
            "fingerprint:fp-delete type:intent type:outcome status:ok",
            "rows>100 rows<=150 duration>1s duration<2s",
            "WHERE -select -\"id = 6\" -user:bob -kind:read -rule:*",
            "until:2026-11-02T11:00:00.000001Z since:2026-11-02T11:00Z")) {
      assertThat(matches(q, row)).as(q).isTrue();
    }
    for (String q :
        List.of(
            "user:bob",
            "table:orders",
            "table:users2",
            "table:public.u",
            "column:email",
            "kind:read",
            "kind:select",
            "verdict:denied",
            "-type:outcome",
            "type:event",
            "status:error",
            "rows>150",
            "duration<1s",
            "insert",
            "-where",
            "until:2026-11-02T11:00Z",
            "since:30m",
            "sqlstate:*")) {
      assertThat(matches(q, row)).as(q).isFalse();
    }
  }

  @Test
  void aStatementWithoutOutcomeHasNoRowsStatusOrOutcomeType() {
    Map<String, Object> intent =
        Records.intent(
            T,
            ALICE,
            4,
            "SELECT * FROM users",
            Records.statement(StatementKind.READ, "SELECT", "users", "*"),
            new Verdict.Deny("42501", "no", "ask"));

    assertThat(matches("type:intent -type:outcome verdict:denied sqlstate:42501", intent)).isTrue();
    assertThat(matches("rows<1000", intent)).isFalse();
    assertThat(matches("status:unknown", intent)).isFalse();
    assertThat(matches("rule:no-deletes kind:select", intent)).isTrue();
  }

  @Test
  void anIntentsSqlstateWinsOverItsOutcomes() {
    Map<String, Object> intent =
        Records.intent(
            T,
            ALICE,
            4,
            "SELECT 1",
            Records.statement(StatementKind.READ, "SELECT", "users", "*"),
            new Verdict.Deny("42501", "no", "ask"));
    Map<String, Object> merged =
        AuditHit.merge(intent, Records.outcome(T, "s1", 4, Status.ERROR, 0, 10));

    assertThat(merged).containsEntry("sqlstate", "42501").containsEntry("status", "error");
    assertThat(merged.get(AuditHit.OUTCOME_TIME)).isEqualTo("2026-11-02T11:00:00.000000Z");
    assertThat(merged.get("type")).isEqualTo("intent");
    assertThat(matches("sqlstate:57014", merged)).isFalse();
  }

  @Test
  void eventsHaveNoTextButTheirOwnFields() {
    Map<String, Object> event = Records.event(T, "policy-reload", "admin");

    assertThat(matches("type:event event:policy-reload user:admin", event)).isTrue();
    assertThat(matches("reload", event)).isFalse();
    assertThat(matches("-reload", event)).isTrue();
    assertThat(matches("type:intent", event)).isFalse();
    assertThat(matches("rows>=0", event)).isFalse();
  }

  @Test
  void textIsMatchedCaseInsensitively() {
    Map<String, Object> row = deleteStatement();
    assertThat(matches("delete \"FROM USERS\" wHeRe", row)).isTrue();
    assertThat(AuditQuery.all().matches(row, T, NOW)).isTrue();
    assertThat(AuditQuery.all().since()).isEqualTo(Optional.empty());
  }
}

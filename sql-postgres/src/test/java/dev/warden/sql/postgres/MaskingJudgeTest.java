package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.MaskingJudge;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.TableRef;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Masking's judgement of statements the analyser parsed, against {@link MaskingFixture}'s map: the
 * taint of computed result columns for each THREATS M case (and its kind of data), error scrubbing,
 * and each refusal. Expected: {@code clear} (nothing computed is sensitive), a {@link DataKind}
 * (computed results carry that kind), {@code unknown} (they carry data of several or unknown
 * kinds), or {@code deny: text} (refused, the message holding the text).
 */
class MaskingJudgeTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(0);
  private static final DataMap MAP = MaskingFixture.map(1);

  static MaskingJudge.Judgement judge(String sql, DataMap map, boolean denyInference) {
    Analysis analysis = ANALYZER.analyze(sql, LexicalSettings.DEFAULT);
    return MaskingJudge.judge(analysis.statements(), map, denyInference);
  }

  static void check(MaskingJudge.Judgement j, String expected, String sql) {
    String what = sql + " → " + j;
    if (expected.startsWith("deny:")) {
      assertThat(j.refusal()).as(what).isPresent();
      assertThat(j.refusal().get().message())
          .as(what)
          .startsWith("Warden refused this statement: ")
          .contains(expected.substring(5).strip());
      assertThat(j.refusal().get().hint()).as(what).isNotBlank();
      return;
    }
    assertThat(j.refusal()).as(what).isEmpty();
    switch (expected) {
      case "clear" -> assertThat(j.computedTainted()).as(what).isFalse();
      case "unknown" -> {
        assertThat(j.computedTainted()).as(what).isTrue();
        assertThat(j.computedKind()).as(what).isEmpty();
        assertThat(j.scrubErrors()).as(what).isTrue();
      }
      default -> {
        assertThat(j.computedTainted()).as(what).isTrue();
        assertThat(j.computedKind()).as(what).contains(DataKind.valueOf(expected));
        assertThat(j.scrubErrors()).as(what).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          # M01: expressions over a sensitive column
          SELECT upper(email) FROM users ⇒ EMAIL
          SELECT email || '' FROM users ⇒ EMAIL
          SELECT substring(email, 1, 3), left(email, 2), right(email, 2) FROM users ⇒ EMAIL
          SELECT replace(reverse(email), '@', '') FROM users ⇒ EMAIL
          SELECT concat(ssn, email) FROM users ⇒ unknown
          SELECT format('%s', ssn) FROM users ⇒ NATIONAL_ID
          SELECT email::bytea FROM users ⇒ EMAIL
          SELECT encode(convert_to(email, 'UTF8'), 'base64') FROM users ⇒ EMAIL
          SELECT md5(email) FROM users ⇒ EMAIL
          SELECT length(email), position('@' IN email) FROM users ⇒ EMAIL
          SELECT coalesce(email, 'x') FROM users ⇒ EMAIL
          SELECT CASE WHEN ssn LIKE '1%' THEN 'a' END FROM users ⇒ NATIONAL_ID
          SELECT greatest(email, 'a') FROM users ⇒ EMAIL
          SELECT upper(card) FROM billing.users ⇒ PAYMENT_CARD
          SELECT upper(card) FROM users ⇒ PAYMENT_CARD
          SELECT upper(id::text) FROM billing.users ⇒ clear
          SELECT upper(body) FROM notes ⇒ clear
          SELECT id + 1 FROM users ⇒ clear
          SELECT id, email, name FROM users ⇒ clear
          SELECT email AS city FROM users ⇒ clear
          SELECT upper(t.y) FROM users AS t(id, y) ⇒ unknown
          SELECT upper(y) FROM public.users AS t(a, y) ⇒ unknown
          SELECT upper(t.b) FROM notes AS t(a, b) ⇒ clear
          # M02: whole-row references
          SELECT u FROM users u ⇒ unknown
          SELECT users.*::text FROM users ⇒ unknown
          SELECT row_to_json(u) FROM users u ⇒ unknown
          SELECT to_jsonb(u.*) FROM users u ⇒ unknown
          SELECT json_agg(u) FROM users u ⇒ unknown
          SELECT ROW(u.*) FROM users u ⇒ unknown
          SELECT row_to_json(n) FROM notes n ⇒ clear
          SELECT * FROM users ⇒ clear
          # M03: aggregates
          SELECT string_agg(email, ',') FROM users ⇒ EMAIL
          SELECT array_agg(ssn) FROM users ⇒ NATIONAL_ID
          SELECT json_object_agg(id, email) FROM users ⇒ EMAIL
          SELECT min(email), max(email) FROM users ⇒ EMAIL
          SELECT count(*) FROM users ⇒ clear
          SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ssn) FROM users ⇒ NATIONAL_ID
          SELECT mode() WITHIN GROUP (ORDER BY email) FROM users ⇒ EMAIL
          # M04: subqueries, set operations, CTEs, LATERAL
          SELECT * FROM (SELECT email FROM users) s ⇒ EMAIL
          SELECT s.x FROM (SELECT email AS x FROM users) s ⇒ EMAIL
          SELECT name FROM staff UNION SELECT email FROM users ⇒ EMAIL
          SELECT 'x' AS city UNION ALL SELECT ssn FROM users ⇒ NATIONAL_ID
          WITH c AS (SELECT ssn FROM users) SELECT * FROM c ⇒ NATIONAL_ID
          SELECT l.e FROM notes n, LATERAL (SELECT email AS e FROM users WHERE users.id = n.user_id) l ⇒ EMAIL
          SELECT (SELECT email FROM users LIMIT 1) AS city ⇒ EMAIL
          SELECT id FROM notes UNION SELECT id FROM orders ⇒ clear
          SELECT n.body FROM notes n JOIN users u ON u.id = n.user_id ⇒ clear
          SELECT * FROM users NATURAL JOIN staff ⇒ unknown
          SELECT upper(j.email) FROM (users u JOIN orders o ON o.user_id = u.id) AS j ⇒ EMAIL
          SELECT row_to_json(j) FROM (users u JOIN orders o ON o.user_id = u.id) AS j ⇒ unknown
          # M11: RETURNING
          UPDATE notes SET body = 'x' WHERE id = 1 RETURNING * ⇒ clear
          DELETE FROM users WHERE id = 1 RETURNING email ⇒ clear
          DELETE FROM users WHERE id = 1 RETURNING upper(email) ⇒ EMAIL
          DELETE FROM users WHERE id = 1 RETURNING ssn || '' ⇒ NATIONAL_ID
          # M12: cursors; their rows come from a statement judged earlier
          DECLARE c CURSOR FOR SELECT email FROM users ⇒ clear
          DECLARE c CURSOR FOR SELECT lower(email) FROM users ⇒ EMAIL
          FETCH 10 FROM c ⇒ unknown
          MOVE 1 IN c ⇒ unknown
          # M14: functions whose data Warden cannot attribute
          SELECT get_user(1) ⇒ unknown
          SELECT * FROM public.get_users() ⇒ unknown
          SELECT lo_get(16400) ⇒ unknown
          SELECT pg_read_file('/etc/hosts') ⇒ unknown
          SELECT encode(data, 'escape') FROM pg_largeobject ⇒ unknown
          # M17: JSON in a column the map marks
          SELECT data->>'ssn' FROM documents ⇒ NATIONAL_ID
          SELECT jsonb_path_query(data, '$.ssn') FROM documents ⇒ NATIONAL_ID
          SELECT data::text FROM documents ⇒ NATIONAL_ID
          SELECT data->>'ssn' FROM users ⇒ clear
          # a column named without its table, several in scope: that column of each
          SELECT upper(email) FROM users u, orders o ⇒ EMAIL
          SELECT lower(email) FROM staff s, notes n ⇒ clear
          SELECT lower(card) FROM orders o, users u ⇒ PAYMENT_CARD
          # relations and columns the map lacks (created, added or renamed since it was built)
          SELECT upper(e) FROM users ⇒ unknown
          SELECT upper(u.e) FROM users u ⇒ unknown
          SELECT upper(e) FROM users u, notes n ⇒ unknown
          SELECT ctid::text, xmin::text FROM users ⇒ clear
          SELECT upper(x) FROM created_since ⇒ unknown
          SELECT count(*) FROM pg_class ⇒ clear
          SELECT relname FROM pg_catalog.pg_class ⇒ clear
          SELECT 1 ⇒ clear
          # EXPLAIN shows a plan, not the data
          EXPLAIN SELECT upper(email) FROM users ⇒ clear
          EXPLAIN ANALYZE SELECT upper(email) FROM users ⇒ clear
          """)
  void computedResultsAreTaintedByWhatFeedsThem(String sql, String expected) {
    check(judge(sql.strip(), MAP, false), expected.strip(), sql);
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          # M16: statistics and other sessions' statements
          SELECT * FROM pg_stats ⇒ deny: pg_stats
          SELECT most_common_vals FROM pg_catalog.pg_stats WHERE attname = 'email' ⇒ deny: pg_stats
          SELECT * FROM pg_stats_ext ⇒ deny: pg_stats_ext
          SELECT * FROM pg_stats_ext_exprs ⇒ deny: pg_stats_ext_exprs
          SELECT query FROM pg_stat_activity ⇒ deny: pg_stat_activity
          SELECT query FROM public.pg_stat_statements ⇒ deny: pg_stat_statements
          SELECT * FROM pg_stat_get_activity(NULL) ⇒ deny: pg_stat_get_activity()
          SELECT stavalues1 FROM pg_catalog.pg_statistic ⇒ deny: pg_statistic
          # M09: dynamic SQL in a database with sensitive columns
          DO $$ BEGIN RAISE NOTICE '%', (SELECT email FROM users LIMIT 1); END $$ ⇒ deny: DO runs SQL that Warden cannot see
          CALL refresh_users() ⇒ deny: CALL runs SQL
          CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1' ⇒ deny: CREATE FUNCTION runs SQL
          SELECT query_to_xml('SELECT email FROM users', true, true, '') ⇒ deny: SELECT runs SQL
          # a statement Warden cannot parse could read anything
          SELEC email FROM users ⇒ deny: Warden could not analyse it
          # M06: COPY out to where masking cannot reach, or in a stream Warden cannot read
          COPY public.users TO '/tmp/users.csv' ⇒ deny: COPY ... TO a file or program would write masked columns public.users.email, public.users.name and public.users.ssn
          COPY (SELECT email FROM users) TO PROGRAM 'cat' ⇒ deny: column public.users.email
          COPY (SELECT get_user(1)) TO '/tmp/x' ⇒ deny: data Warden cannot attribute
          COPY users (id, ssn) TO STDOUT (FORMAT csv, FUTURE_OPTION 1) ⇒ deny: COPY ... TO STDOUT with COPY option future_option writes rows Warden cannot read
          COPY users TO STDOUT (DELIMITER '||') ⇒ deny: not one ASCII character
          COPY users TO STDOUT; COPY users (email) TO STDOUT ⇒ deny: more than one COPY ... TO STDOUT
          # M10, M18: notifications and settings
          SELECT pg_notify('c', email) FROM users ⇒ deny: pg_notify() would carry masked column public.users.email
          SELECT pg_catalog.pg_notify('c', upper(ssn)) FROM users ⇒ deny: pg_notify()
          SELECT set_config('application_name', email, false) FROM users ⇒ deny: set_config()
          SELECT pg_notify('c', get_user(1)::text) ⇒ deny: pg_notify()
          # M07: lineage
          INSERT INTO notes (body) SELECT email FROM users ⇒ deny: INSERT would copy masked column public.users.email
          INSERT INTO notes (body) VALUES ((SELECT ssn FROM users LIMIT 1)) ⇒ deny: INSERT would copy
          CREATE TABLE x AS SELECT email FROM users ⇒ deny: CREATE TABLE AS would copy
          CREATE TEMP TABLE x AS SELECT id, ssn FROM users ⇒ deny: CREATE TABLE AS would copy
          SELECT email INTO x FROM users ⇒ deny: SELECT INTO would copy
          CREATE VIEW v AS SELECT ssn FROM users ⇒ deny: CREATE VIEW would copy
          CREATE MATERIALIZED VIEW v AS SELECT upper(email) FROM users ⇒ deny: CREATE MATERIALIZED VIEW would copy
          UPDATE notes SET body = u.email FROM users u WHERE u.id = notes.user_id ⇒ deny: UPDATE would copy
          UPDATE users SET name = email WHERE id = 1 ⇒ deny: UPDATE would copy
          MERGE INTO notes n USING users u ON n.user_id = u.id WHEN MATCHED THEN UPDATE SET body = u.ssn ⇒ deny: MERGE would copy
          WITH x AS (INSERT INTO notes (body) SELECT email FROM users RETURNING id) SELECT * FROM x ⇒ deny: SELECT would copy
          INSERT INTO notes (body) SELECT row_to_json(u)::text FROM users u ⇒ deny: INSERT would copy
          EXPLAIN ANALYZE CREATE TABLE x AS SELECT email FROM users ⇒ deny: CREATE TABLE AS would copy
          PREPARE p AS INSERT INTO notes (body) SELECT email FROM users ⇒ deny: INSERT would copy
          DECLARE c CURSOR FOR SELECT pg_notify('c', email) FROM users ⇒ deny: pg_notify()
          SELECT 1; INSERT INTO notes (body) SELECT ssn FROM users ⇒ deny: INSERT would copy
          # over-refused: a computed RETURNING of a write counts as copied (the facts do not tell it apart)
          INSERT INTO users (id) VALUES (1) RETURNING ssn || '' ⇒ deny: INSERT would copy
          """)
  void refusals(String sql, String expected) {
    check(judge(sql.strip(), MAP, false), expected.strip(), sql);
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          COPY users (id) TO STDOUT ⇒ clear
          COPY notes TO STDOUT ⇒ clear
          COPY (SELECT id, body FROM notes) TO STDOUT ⇒ clear
          COPY users FROM STDIN ⇒ clear
          SELECT pg_notify('c', body) FROM notes ⇒ clear
          NOTIFY c, 'x' ⇒ clear
          SELECT set_config('application_name', 'psql', false) ⇒ clear
          INSERT INTO notes (body) SELECT name FROM staff ⇒ clear
          INSERT INTO notes (body) SELECT body FROM notes WHERE user_id IN (SELECT id FROM users WHERE email = 'a') ⇒ clear
          INSERT INTO users (id, email) VALUES (1, 'a@example.com') ⇒ clear
          INSERT INTO users (id, email) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET email = excluded.email ⇒ clear
          UPDATE users SET name = 'x' WHERE email = 'a' ⇒ clear
          CREATE TABLE x AS SELECT id, body FROM notes ⇒ clear
          EXPLAIN CREATE TABLE x AS SELECT email FROM users ⇒ clear
          SELECT count(*) FROM pg_stat_user_tables ⇒ clear
          SELECT id FROM users WHERE email LIKE 'a%' ⇒ clear
          SELECT id FROM users ORDER BY ssn ⇒ clear
          """)
  void whatMaskingAllows(String sql, String expected) {
    check(judge(sql.strip(), MAP, false), expected.strip(), sql);
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          COPY public.users TO STDOUT ⇒ public.users [] TEXT
          COPY users TO STDOUT WITH (FORMAT binary) ⇒ users [] BINARY
          COPY users (id, ssn) TO STDOUT (FORMAT csv, HEADER) ⇒ users [id, ssn] CSV
          COPY billing.users TO STDOUT WITH CSV ⇒ billing.users [] CSV
          COPY (SELECT email FROM users) TO STDOUT ⇒ query [] TEXT
          COPY (SELECT get_user(1)) TO STDOUT ⇒ query [] TEXT
          COPY created_since TO STDOUT ⇒ created_since [] TEXT
          COPY (SELECT id FROM users WHERE email LIKE 'a%') TO STDOUT (ENCODING 'LATIN1') ⇒ query [] TEXT
          """)
  void copiesToTheClientAreMaskedByPositionNotRefused(String sql, String expected) {
    MaskingJudge.Judgement j = judge(sql.strip(), MAP, false);
    assertThat(j.refusal()).as(sql).isEmpty();
    assertThat(j.computedTainted())
        .as("every column a copied query reads may reach its rows")
        .isTrue();
    CopyOut copy = j.export().orElseThrow();
    assertThat(copy.readable()).isTrue();
    assertThat(
            copy.table().map(TableRef::qualifiedName).orElse("query")
                + " "
                + copy.columns()
                + " "
                + copy.format())
        .isEqualTo(expected.strip());
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          # M15: with deny_inference, predicates on masked columns are refused
          SELECT id FROM users WHERE email LIKE 'a%' ⇒ deny: filters, joins, groups or sorts on masked column public.users.email
          SELECT id FROM users ORDER BY ssn ⇒ deny: column public.users.ssn
          SELECT count(*) FROM users WHERE email = 'x' ⇒ deny: column public.users.email
          SELECT u.id FROM users u JOIN staff s ON s.email = u.email ⇒ deny: column public.users.email
          SELECT id, email FROM users GROUP BY id, email ⇒ deny: column public.users.email
          SELECT DISTINCT ON (ssn) id FROM users ⇒ deny: column public.users.ssn
          SELECT id, rank() OVER (PARTITION BY email) FROM users ⇒ deny: column public.users.email
          SELECT id FROM notes WHERE user_id IN (SELECT id FROM users WHERE ssn = '1') ⇒ deny: column public.users.ssn
          SELECT id FROM users u WHERE u IS NOT NULL ⇒ deny: masked columns
          SELECT * FROM users FULL JOIN staff USING (email) ⇒ deny: column public.users.email
          DELETE FROM users WHERE email = 'a' ⇒ deny: column public.users.email
          SELECT email FROM users WHERE id = 1 ORDER BY id ⇒ clear
          SELECT u.email FROM users u JOIN notes n ON n.user_id = u.id ⇒ clear
          SELECT id FROM staff WHERE email = 'a' ⇒ clear
          """)
  void inferenceIsRefusedWhenPolicySaysSo(String sql, String expected) {
    check(judge(sql.strip(), MAP, true), expected.strip(), sql);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          SELECT id, email FROM users WHERE id = 1 ⇒ true
          SELECT id FROM users WHERE ssn = '1' ⇒ true
          INSERT INTO users (id, email) VALUES (1, 'a') ⇒ true
          INSERT INTO users VALUES (1) ⇒ true
          UPDATE users SET email = 'b' WHERE id = 1 ⇒ true
          SELECT get_user(1) ⇒ true
          SELECT id FROM users WHERE id = 1 ⇒ false
          SELECT body FROM notes WHERE id::text = 'x' ⇒ false
          SELECT 1 ⇒ false
          SELECT * FROM notes ⇒ false
          """)
  void errorsAreScrubbedForStatementsTouchingSensitiveColumns(String sql, boolean scrub) {
    assertThat(judge(sql.strip(), MAP, false).scrubErrors()).as(sql).isEqualTo(scrub);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          SELECT upper(email) FROM users
          SELECT get_user(1)
          DO $$ BEGIN END $$
          COPY users TO STDOUT
          INSERT INTO notes (body) SELECT email FROM users
          FETCH 10 FROM c
          SELECT id FROM users WHERE email = 'a'
          SELEC email FROM users
          """)
  void withNothingSensitiveInTheMapNothingIsTaintedNorRefused(String sql) {
    MaskingJudge.Judgement j = judge(sql.strip(), MaskingFixture.plain(1), true);
    assertThat(j.refusal()).as(sql).isEmpty();
    assertThat(j.computedTainted()).as(sql).isFalse();
    assertThat(j.scrubErrors()).as(sql).isFalse();
  }

  @ParameterizedTest(name = "{0} ⇒ {1}")
  @CsvSource(
      delimiter = '⇒',
      quoteCharacter = '`',
      textBlock =
          """
          SELECT id FROM notes ⇒ unknown
          SELECT 1 ⇒ unknown
          DO $$ BEGIN END $$ ⇒ deny: DO
          COPY notes TO STDOUT ⇒ unknown
          INSERT INTO notes (body) SELECT body FROM notes ⇒ deny: INSERT would copy
          """)
  void withNoMapEveryColumnIsSensitive(String sql, String expected) {
    MaskingJudge.Judgement j = judge(sql.strip(), null, false);
    check(j, expected.strip(), sql);
    assertThat(j.scrubErrors()).as(sql).isTrue();
  }

  @org.junit.jupiter.api.Test
  void anExecuteIsTaintedAndJudgedAsWhatItRuns() {
    Analysis prepare =
        ANALYZER.analyze(
            "PREPARE p AS INSERT INTO notes (body) SELECT email FROM users",
            LexicalSettings.DEFAULT);
    Analysis execute = ANALYZER.analyze("EXECUTE p", LexicalSettings.DEFAULT);
    MaskingJudge.Judgement alone = MaskingJudge.judge(execute.statements(), MAP, false);
    assertThat(alone.refusal()).isEmpty();
    assertThat(alone.computedTainted()).isTrue();
    assertThat(alone.computedKind()).isEqualTo(Optional.empty());
    MaskingJudge.Judgement withWhatItRuns =
        MaskingJudge.judge(
            java.util.List.of(
                execute.statements().get(0), prepare.statements().get(0).inner().orElseThrow()),
            MAP,
            false);
    assertThat(withWhatItRuns.refusal()).isPresent();
  }
}

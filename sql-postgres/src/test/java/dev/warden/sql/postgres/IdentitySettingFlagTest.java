package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link StatementFlag#CHANGES_IDENTITY_SETTING}: every way a client's statement can set, reset or
 * name a {@code warden.*} setting (the verified identity that row-level security reads) is flagged,
 * and statements that only look alike are not.
 */
class IdentitySettingFlagTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(0);

  /** Every statement of the text and the statements they hold (PREPARE's, EXPLAIN's). */
  private static List<Statement> statements(PostgresAnalyzer analyzer, String sql) {
    Analysis analysis = analyzer.analyze(sql, LexicalSettings.DEFAULT);
    List<Statement> all = new ArrayList<>();
    for (Statement s : analysis.statements()) {
      for (Statement at = s; at != null; at = at.inner().orElse(null)) {
        all.add(at);
      }
    }
    return all;
  }

  private static boolean flagged(PostgresAnalyzer analyzer, String sql) {
    return statements(analyzer, sql).stream()
        .anyMatch(s -> s.has(StatementFlag.CHANGES_IDENTITY_SETTING));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // SET and RESET in every spelling PostgreSQL takes as the same setting
        "SET warden.identity = 'bob@corp.example'",
        "SET SESSION warden.identity TO 'bob@corp.example'",
        "SET LOCAL warden.groups = 'admins'",
        "SET WARDEN.IDENTITY = 'bob'",
        "SET \"WARDEN\".identity = 'bob'",
        "SET \"warden.identity\" = 'bob'",
        "SET warden . identity = 'bob'",
        "SET warden/**/./**/identity = 'bob'",
        "SET U&\"\\0077arden\".identity = 'bob'",
        "SET warden.on_behalf_of = DEFAULT",
        "SET warden.identity TO DEFAULT",
        "RESET warden.identity",
        "SET warden.anything.deeper = 'x'",
        // near misses of warden.reason, the one setting a session may change
        "SET warden.reasonx = 'INC-1'",
        "SET warden.reason.x = 'INC-1'",
        "SET \"warden.reason \" = 'INC-1'",
        "SET warden.reason FROM CURRENT",
        "SET warden.reason = 'a', 'b'",
        "RESET warden.reasons",
        "SET warden.reason = 'INC-1'; SET warden.identity = 'bob'",
        "SELECT set_config('warden.reason', 'INC-1', false)",
        "SELECT set_config('WARDEN.REASON', 'INC-1', true)",
        "ALTER ROLE alice SET warden.reason = 'INC-1'",
        "ALTER DATABASE app SET warden.reason = 'INC-1'",
        "ALTER SYSTEM SET warden.reason = 'INC-1'",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET warden.reason = 'x' AS 'select 1'",
        "DO $$ BEGIN SET warden.reason = 'INC-1'; END $$",
        "BEGIN; SET LOCAL warden.session_id = '1'; COMMIT",
        // set_config with the name as a constant in any case and quoting, or not a constant
        "SELECT set_config('warden.identity', 'bob', false)",
        "SELECT set_config('WARDEN.Identity', 'bob', true)",
        "SELECT pg_catalog.set_config('warden.auth_method', 'mtls', false)",
        "SELECT set_config(E'warden.identity', 'bob', false)",
        "SELECT set_config(U&'\\0077arden.identity', 'bob', false)",
        "SELECT set_config('warden.' || 'identity', 'bob', false)",
        "SELECT set_config(name, 'bob', false) FROM settings",
        "SELECT set_config($1, 'bob', false)",
        "SELECT set_config(setting_name => 'warden.identity', new_value => 'bob', is_local => false)",
        "SELECT 1 WHERE set_config('warden.identity', 'bob', false) IS NOT NULL",
        "WITH x AS (SELECT set_config('warden.identity', 'bob', false)) SELECT * FROM x",
        "CREATE VIEW v AS SELECT set_config('warden.identity', 'bob', false)",
        "PREPARE p AS SELECT set_config('warden.identity', $1, false)",
        "EXPLAIN ANALYZE SELECT set_config('warden.identity', 'bob', false)",
        // the pg_settings view's update rule calls set_config
        "UPDATE pg_settings SET setting = 'bob' WHERE name = 'warden.identity'",
        "UPDATE pg_catalog.pg_settings SET setting = 'bob' WHERE name = 'warden.identity'",
        // defaults of roles and databases, and the server's configuration
        "ALTER ROLE alice SET warden.identity = 'bob'",
        "ALTER USER alice IN DATABASE app SET warden.groups TO 'admins'",
        "ALTER ROLE ALL SET warden.identity = 'bob'",
        "ALTER ROLE alice RESET warden.identity",
        "ALTER DATABASE app SET warden.identity = 'bob'",
        "ALTER SYSTEM SET warden.identity = 'bob'",
        // functions and procedures that set one when they run
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET warden.identity = 'bob' AS 'select 1'",
        "CREATE PROCEDURE p() LANGUAGE sql SET warden.identity FROM CURRENT AS $$ select 1 $$",
        "ALTER FUNCTION f() SET warden.identity = 'bob'",
        "ALTER PROCEDURE p() RESET warden.identity",
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql"
            + " RETURN set_config('warden.identity', 'bob', false)",
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql"
            + " BEGIN ATOMIC SELECT set_config('warden.identity', 'bob', false); END",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql"
            + " AS $$ BEGIN EXECUTE format('SET warden.identity = %L', 'bob'); END $$",
        "CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE sql"
            + " AS 'SELECT set_config(''WARDEN.identity'', ''bob'', false)'",
        // DO blocks, whatever the body does with the name
        "DO $$ BEGIN PERFORM set_config('warden.identity', 'bob', false); END $$",
        "DO $$ BEGIN EXECUTE 'SET warden.identity = ''bob'''; END $$",
        "DO $$ BEGIN SET \"WARDEN\" . identity = 'bob'; END $$",
        "DO $$ BEGIN EXECUTE 'SET ' || U&\"\\0077arden\" || '.identity = 1'; END $$",
        "DO LANGUAGE plpgsql 'BEGIN SET WARDEN.GROUPS = ''admins''; END'",
        "DO $$ BEGIN RAISE NOTICE '%', current_setting('warden.identity');"
            + " PERFORM set_config('warden.identity', 'bob', false); END $$",
        // rules, whose actions run on later statements
        "CREATE RULE r AS ON INSERT TO t DO ALSO SELECT set_config('warden.identity', 'bob', false)",
        // functions that run SQL given as text
        "SELECT query_to_xml('select set_config(''warden.identity'', ''bob'', false)', true, true,"
            + " '')",
        "SELECT query_to_xml(q, true, true, '') FROM queries",
        "SELECT dblink_exec('dbname=app', 'SET warden.identity = ''bob''')",
      })
  void changesOfAnIdentitySettingAreFlagged(String sql) {
    assertThat(flagged(ANALYZER, sql)).as(sql).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SET wardenx.y = 'a'",
        "SET warden_x.identity = 'a'",
        "SET my.warden = 'a'",
        "SET application_name = 'warden.identity'",
        "SELECT set_config('application_name', 'warden.identity', false)",
        "SELECT set_config('my.warden', 'x', false)",
        // not a valid setting name: PostgreSQL refuses it
        "SELECT set_config(' warden.identity', 'x', false)",
        "SELECT 'warden.identity'",
        "SELECT current_setting('warden.identity')",
        "SELECT current_setting('warden.identity', true)",
        "SELECT * FROM orders WHERE owner = current_setting('warden.identity')",
        "SHOW warden.identity",
        "RESET ALL",
        "DISCARD ALL",
        "SELECT * FROM pg_settings WHERE name LIKE 'warden.%'",
        "UPDATE settings SET value = 'x' WHERE name = 'warden.identity'",
        "CREATE POLICY own ON orders USING (owner = current_setting('warden.identity'))",
        "CREATE FUNCTION me() RETURNS text LANGUAGE sql STABLE"
            + " AS $$ SELECT current_setting('warden.identity', true) $$",
        "CREATE FUNCTION me() RETURNS text LANGUAGE sql STABLE"
            + " RETURN current_setting('warden.identity')",
        "DO $$ BEGIN RAISE NOTICE '%', current_setting('warden.identity'); END $$",
        "DO $$ BEGIN INSERT INTO wardens VALUES (1); END $$",
        "SELECT query_to_xml('select * from wardens', true, true, '')",
        "SELECT table_to_xml('orders'::regclass, true, false, '')",
        "ALTER ROLE alice SET search_path = app",
        // warden.reason is the session's reason, not an identity setting (see ReasonSettingTest)
        "SET warden.reason = 'INC-1'",
        "SET LOCAL warden.reason = 'INC-1'",
        "RESET warden.reason",
        "SELECT current_setting('warden.reason', true)",
      })
  void lookAlikesAreNotFlagged(String sql) {
    List<Statement> statements = statements(ANALYZER, sql);
    assertThat(statements).as(sql).isNotEmpty();
    assertThat(statements)
        .as("%s parses", sql)
        .noneMatch(s -> s.kind() == StatementKind.UNKNOWN && s.preparedName().isEmpty());
    assertThat(flagged(ANALYZER, sql)).as(sql).isFalse();
  }

  @Test
  void aCachedAnalysisOfTheSameShapeIsNotServedForTextThatNamesOne() {
    PostgresAnalyzer caching = new PostgresAnalyzer(100);
    assertThat(flagged(caching, "SELECT query_to_xml('select 1', true, true, '')")).isFalse();
    assertThat(flagged(caching, "SELECT query_to_xml('set warden.identity = 1', true, true, '')"))
        .isTrue();
    assertThat(flagged(caching, "SELECT set_config('application_name', 'x', false)")).isFalse();
    assertThat(flagged(caching, "SELECT set_config('warden.identity', 'x', false)")).isTrue();
  }

  @Test
  void theTextualCheckFindsTheIdentifierAndSkipsConstantReads() {
    assertThat(QueryWalker.mayNameIdentitySetting("SET warden.identity = 1")).isTrue();
    assertThat(QueryWalker.mayNameIdentitySetting("SET \"Warden\" /* x */ . identity = 1"))
        .isTrue();
    assertThat(QueryWalker.mayNameIdentitySetting("select U&\"\\0077arden\"")).isTrue();
    assertThat(QueryWalker.mayNameIdentitySetting("select * from wardens, my_warden, warden_2"))
        .isFalse();
    assertThat(QueryWalker.mayNameIdentitySetting("select current_setting('warden.identity')"))
        .isFalse();
    assertThat(
            QueryWalker.mayNameIdentitySetting(
                "select current_setting( 'WARDEN.groups' , true ), 1"))
        .isFalse();
    // a read whose second argument is not a plain boolean is not recognised as a read
    assertThat(
            QueryWalker.mayNameIdentitySetting(
                "select current_setting('warden.identity', set_config('x', 'y', false) = 'y')"))
        .isTrue();
    // removing a read cannot join the text around it into the name
    assertThat(QueryWalker.mayNameIdentitySetting("war" + "current_setting('warden.x')" + "den.x"))
        .isFalse();
  }
}

package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.StatementFlag;
import org.junit.jupiter.api.Test;

/** A repeated statement is a cache hit, and a cached analysis never hides what a text does. */
class AnalysisCacheTest {
  private static final LexicalSettings DEFAULT = LexicalSettings.DEFAULT;

  @Test
  void theSameTextReturnsTheSameInstance() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis first = analyzer.analyze("SELECT * FROM users WHERE id = 1", DEFAULT);
    assertThat(analyzer.analyze("SELECT * FROM users WHERE id = 1", DEFAULT)).isSameAs(first);
  }

  @Test
  void textsDifferingOnlyInConstantsShareTheLiteralFreeEntry() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis first =
        analyzer.analyze("UPDATE accounts SET balance = balance + 5 WHERE aid = 7", DEFAULT);
    Analysis second =
        analyzer.analyze(
            "update  accounts SET balance = balance + 42 /* x */ WHERE aid = 99", DEFAULT);
    assertThat(second).isSameAs(first);
    assertThat(second.fingerprint()).isNotEmpty();
  }

  @Test
  void constantsOfADifferentKindAreADifferentKey() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis a = analyzer.analyze("SELECT * FROM t WHERE id = 1", DEFAULT);
    assertThat(analyzer.analyze("SELECT * FROM t WHERE id = '1'", DEFAULT)).isNotSameAs(a);
    assertThat(analyzer.analyze("SELECT * FROM t WHERE id = 1", DEFAULT).fingerprint())
        .isEqualTo(analyzer.analyze("SELECT * FROM t WHERE id = 2", DEFAULT).fingerprint())
        .isNotEqualTo(analyzer.analyze("SELECT * FROM t WHERE id = '1'", DEFAULT).fingerprint());
  }

  @Test
  void aTriviallyTrueWhereIsNotServedForOtherConstants() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis bounded = analyzer.analyze("DELETE FROM t WHERE 1 = 2", DEFAULT);
    assertThat(bounded.statements().get(0).flags()).doesNotContain(StatementFlag.UNBOUNDED);
    Analysis unbounded = analyzer.analyze("DELETE FROM t WHERE 1 = 1", DEFAULT);
    assertThat(unbounded.statements().get(0).flags()).contains(StatementFlag.UNBOUNDED);
    assertThat(analyzer.analyze("DELETE FROM t WHERE 2 = 2", DEFAULT).statements().get(0).flags())
        .contains(StatementFlag.UNBOUNDED);
  }

  @Test
  void settingsAndSequenceNamesAreNotServedForOtherConstants() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    assertThat(
            analyzer
                .analyze("SELECT set_config('application_name', 'x', false)", DEFAULT)
                .statements()
                .get(0)
                .flags())
        .doesNotContain(StatementFlag.ROLE_SWITCH);
    assertThat(
            analyzer
                .analyze("SELECT set_config('role', 'x', false)", DEFAULT)
                .statements()
                .get(0)
                .flags())
        .contains(StatementFlag.ROLE_SWITCH);
    analyzer.analyze("SELECT nextval('a')", DEFAULT);
    assertThat(analyzer.analyze("SELECT nextval('b')", DEFAULT).statements().get(0).tablesWritten())
        .extracting(t -> t.name())
        .containsExactly("b");
  }

  @Test
  void uescapeConstantsAreNeverShared() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis data = analyzer.analyze("SELECT * FROM U&\"d!0061ta\" UESCAPE '!'", DEFAULT);
    Analysis other = analyzer.analyze("SELECT * FROM U&\"d!0061ta\" UESCAPE '#'", DEFAULT);
    assertThat(data.statements().get(0).tablesRead())
        .extracting(t -> t.name())
        .containsExactly("data");
    assertThat(other.statements().get(0).tablesRead())
        .extracting(t -> t.name())
        .containsExactly("d!0061ta");
  }

  @Test
  void quotedIdentifiersKeepTheirCaseInTheKey() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    analyzer.analyze("SELECT * FROM \"Users\"", DEFAULT);
    assertThat(
            analyzer.analyze("SELECT * FROM \"users\"", DEFAULT).statements().get(0).tablesRead())
        .extracting(t -> t.name())
        .containsExactly("users");
    analyzer.analyze("SELECT * FROM Users", DEFAULT);
    assertThat(analyzer.analyze("SELECT * FROM USERS", DEFAULT).statements().get(0).tablesRead())
        .extracting(t -> t.name())
        .containsExactly("users");
  }

  @Test
  void theLexicalRulesApplyBeforeTheCache() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    String sql = "SELECT 'a\\'; DROP TABLE t; --'";
    assertThat(analyzer.analyze(sql, DEFAULT).hasUnknown()).isFalse();
    assertThat(analyzer.analyze(sql, DEFAULT.withStandardConformingStrings(false)).hasUnknown())
        .isTrue();
  }

  @Test
  void aTransactionOfPlainStatementsIsSharedToo() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer();
    Analysis first =
        analyzer.analyze(
            "BEGIN; UPDATE a SET v = v + 1 WHERE id = 1; SELECT v FROM a WHERE id = 1; END",
            DEFAULT);
    assertThat(
            analyzer.analyze(
                "BEGIN; UPDATE a SET v = v + 7 WHERE id = 3; SELECT v FROM a WHERE id = 3; END",
                DEFAULT))
        .isSameAs(first);
    // the read-write escape depends on the option's value: never shared
    Analysis readWrite = analyzer.analyze("BEGIN READ WRITE; SELECT 1", DEFAULT);
    assertThat(readWrite.statements().get(0).flags()).contains(StatementFlag.READ_WRITE_ESCAPE);
    assertThat(analyzer.analyze("BEGIN READ ONLY; SELECT 1", DEFAULT).statements().get(0).flags())
        .doesNotContain(StatementFlag.READ_WRITE_ESCAPE);
  }

  @Test
  void withoutCachingEveryCallParses() {
    PostgresAnalyzer analyzer = new PostgresAnalyzer(0);
    Analysis a = analyzer.analyze("SELECT 1", DEFAULT);
    assertThat(analyzer.analyze("SELECT 1", DEFAULT)).isNotSameAs(a).isEqualTo(a);
  }
}

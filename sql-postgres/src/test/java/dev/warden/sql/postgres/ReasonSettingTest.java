package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Statement#reasonSetting()}: a statement of its own that sets or resets {@code
 * warden.reason}, in every spelling PostgreSQL takes for that name, says what it sets (the value
 * exactly as the database will hold it), and is not flagged as changing an identity setting; {@code
 * RESET ALL} and {@code DISCARD ALL} forget the reason too; nothing else carries one.
 */
class ReasonSettingTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(0);

  private static Statement only(String sql) {
    Analysis analysis = ANALYZER.analyze(sql, LexicalSettings.DEFAULT);
    assertThat(analysis.statements()).as(sql).hasSize(1);
    Statement s = analysis.statements().getFirst();
    assertThat(s.kind()).as(sql).isEqualTo(StatementKind.SESSION);
    return s;
  }

  static Stream<Arguments> sets() {
    return Stream.of(
        Arguments.of("SET warden.reason = 'INC-1'", "INC-1"),
        Arguments.of("SET warden.reason TO 'INC-1'", "INC-1"),
        Arguments.of("SET SESSION warden.reason = 'INC-1'", "INC-1"),
        Arguments.of("set Warden.Reason = 'INC-1'", "INC-1"),
        Arguments.of("SET \"WARDEN\".\"REASON\" = 'INC-1'", "INC-1"),
        Arguments.of("SET \"warden.reason\" = 'INC-1'", "INC-1"),
        Arguments.of("SET warden /* the */ . reason = 'INC-1'", "INC-1"),
        Arguments.of("SET U&\"\\0077arden\".reason = 'INC-1'", "INC-1"),
        Arguments.of("SET warden.reason = E'two\\nlines'", "two\nlines"),
        Arguments.of("SET warden.reason = $$it's INC-1$$", "it's INC-1"),
        Arguments.of("SET warden.reason = 'it''s'", "it's"),
        Arguments.of("SET warden.reason = ''", ""),
        // a word is folded as PostgreSQL folds it; numbers are stored as PostgreSQL writes them
        Arguments.of("SET warden.reason = Hotfix", "hotfix"),
        Arguments.of("SET warden.reason = \"Hotfix\"", "Hotfix"),
        Arguments.of("SET warden.reason = on", "on"),
        Arguments.of("SET warden.reason = 4411", "4411"),
        Arguments.of("SET warden.reason = 0", "0"),
        Arguments.of("SET warden.reason = -7", "-7"),
        Arguments.of("SET warden.reason = 1.50", "1.50"),
        Arguments.of("SET warden.reason = 99999999999", "99999999999"));
  }

  @ParameterizedTest
  @MethodSource("sets")
  void aSetForTheSessionCarriesItsValue(String sql, String value) {
    Statement s = only(sql);
    assertThat(s.command()).isEqualTo("SET");
    assertThat(s.reasonSetting()).as(sql).contains(ReasonSetting.of(value));
    assertThat(s.has(StatementFlag.CHANGES_IDENTITY_SETTING)).as(sql).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"RESET warden.reason", "RESET \"WARDEN\".reason", "SET warden.reason TO DEFAULT"})
  void aResetForgetsIt(String sql) {
    Statement s = only(sql);
    assertThat(s.reasonSetting()).as(sql).contains(ReasonSetting.RESET);
    assertThat(s.has(StatementFlag.CHANGES_IDENTITY_SETTING)).as(sql).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"RESET ALL", "DISCARD ALL"})
  void resettingEverythingForgetsItToo(String sql) {
    assertThat(only(sql).reasonSetting()).as(sql).contains(ReasonSetting.RESET);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"SET LOCAL warden.reason = 'INC-1'", "SET LOCAL warden.reason TO DEFAULT"})
  void aLocalSetSaysSoForPolicyToRefuse(String sql) {
    Statement s = only(sql);
    assertThat(s.reasonSetting()).as(sql).isPresent();
    assertThat(s.reasonSetting().get().local()).isTrue();
    assertThat(s.has(StatementFlag.CHANGES_IDENTITY_SETTING)).as(sql).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SET warden.reasonx = 'INC-1'",
        "SET warden.reason.x = 'INC-1'",
        "SET warden.identity = 'INC-1'",
        "SET \"warden.identity\" = 'INC-1'",
        "SET warden.reason FROM CURRENT",
        "SET warden.reason = 'a', 'b'",
        "SET application_name = 'warden.reason'",
        "SHOW warden.reason",
        "DISCARD PLANS",
        "RESET search_path",
        "ALTER ROLE alice SET warden.reason = 'INC-1'",
        "ALTER SYSTEM SET warden.reason = 'INC-1'",
        "SELECT set_config('warden.reason', 'INC-1', false)",
        "SELECT current_setting('warden.reason', true)",
      })
  void nothingElseCarriesOne(String sql) {
    List<Statement> statements = ANALYZER.analyze(sql, LexicalSettings.DEFAULT).statements();
    assertThat(statements).as(sql).isNotEmpty().allMatch(s -> s.reasonSetting().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(strings = {"SET warden.reason = 'INC-1'; DELETE FROM t", "BEGIN; RESET ALL; COMMIT"})
  void eachStatementOfSeveralSaysWhatItDoes(String sql) {
    List<Optional<ReasonSetting>> settings =
        ANALYZER.analyze(sql, LexicalSettings.DEFAULT).statements().stream()
            .map(Statement::reasonSetting)
            .toList();
    assertThat(settings).as(sql).hasSizeGreaterThan(1).filteredOn(Optional::isPresent).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 100})
  void theCachedAnalysisOfOneValueIsNeverServedForAnother(int entries) {
    PostgresAnalyzer analyzer = new PostgresAnalyzer(entries);
    for (String value : List.of("INC-1", "INC-2", "INC-1")) {
      Statement s =
          analyzer
              .analyze("SET warden.reason = '" + value + "'", LexicalSettings.DEFAULT)
              .statements()
              .getFirst();
      assertThat(s.reasonSetting()).contains(ReasonSetting.of(value));
    }
  }
}

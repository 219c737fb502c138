package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyAction;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.Rule;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileTest {
  private static final String GOOD =
      """
      default: deny
      rules:
        - name: reads
          description: Everyone may read.
          when: statement.kind == 'read'
          action: allow
        - name: bounded-deletes
          when: "statement.command == 'DELETE' && statement.has_where"
          action: allow
          max_rows: 1_000
        - name: ddl
          when: statement.kind == 'ddl'
          action: require_approval
          sqlstate: 42P01
          message: schema changes need approval
          hint: Ask the on-call DBA.
      """;

  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  @Test
  void aGoodFileGivesItsRulesInOrder() throws PolicyException {
    Policy p = PolicyFile.parse("p.yaml", GOOD);
    assertThat(p.name()).isEqualTo("p.yaml");
    assertThat(p.defaultAction()).isEqualTo(PolicyAction.DENY);
    assertThat(p.rules()).extracting(Rule::name).containsExactly("reads", "bounded-deletes", "ddl");
    Rule reads = p.rules().get(0);
    assertThat(reads.description()).isEqualTo("Everyone may read.");
    assertThat(reads.sqlState()).isEqualTo("42501");
    assertThat(reads.origin()).isEqualTo("p.yaml:3:5");
    assertThat(p.rules().get(1).maxRows()).hasValue(1000);
    Rule ddl = p.rules().get(2);
    assertThat(ddl.action()).isEqualTo(PolicyAction.REQUIRE_APPROVAL);
    assertThat(ddl.sqlState()).isEqualTo("42P01");
    assertThat(ddl.message()).isEqualTo("schema changes need approval");
    assertThat(ddl.hint()).isEqualTo("Ask the on-call DBA.");
  }

  @Test
  void unknownKeysAreRefusedWithASuggestion() {
    assertThat(problems("default: allow\nrule: []\n"))
        .containsExactly(
            "p.yaml:2:1: unknown key 'rule' in the policy file (did you mean 'rules'?)");
    assertThat(
            problems(
                """
                default: allow
                rules:
                  - name: a
                    when: "true"
                    action: allow
                    max-rows: 5
                """))
        .containsExactly("p.yaml:6:5: unknown key 'max-rows' in a rule (did you mean 'max_rows'?)");
  }

  @Test
  void badActionsAreRefused() {
    assertThat(
            problems(
                "default: allow\nrules:\n  - {name: a, when: 'true', action: require-approval}\n"))
        .singleElement()
        .asString()
        .startsWith(
            "p.yaml:3:37: action 'require-approval' is not an action (did you mean 'require_approval'?)")
        .endsWith("expected one of: allow, deny, require_approval, observe");
    assertThat(problems("default: maybe\n"))
        .singleElement()
        .asString()
        .startsWith("p.yaml:1:10: default 'maybe' is not an action");
  }

  @Test
  void aMissingDefaultOrRequiredKeyIsReported() {
    assertThat(problems("rules: []\n"))
        .singleElement()
        .asString()
        .startsWith("p.yaml:1:1: the policy file is missing 'default:'");
    assertThat(problems("default: allow\nrules:\n  - name: a\n    action: deny\n"))
        .containsExactly("p.yaml:3:5: a rule is missing the required key 'when'");
    assertThat(problems("")).singleElement().asString().contains("the policy file is empty");
  }

  @Test
  void maxRowsMustBePositiveAndOnlyOnRulesThatLetThrough() {
    String rule =
        "default: allow\nrules:\n  - name: a\n    when: 'true'\n    action: %s\n    max_rows: %s\n";
    assertThat(problems(rule.formatted("allow", "0")))
        .containsExactly("p.yaml:6:15: max_rows must be a positive whole number, found '0'");
    assertThat(problems(rule.formatted("allow", "-3")))
        .containsExactly("p.yaml:6:15: max_rows must be a positive whole number, found '-3'");
    assertThat(problems(rule.formatted("allow", "lots")))
        .containsExactly("p.yaml:6:15: max_rows must be a positive whole number, found 'lots'");
    assertThat(problems(rule.formatted("deny", "10")))
        .singleElement()
        .asString()
        .startsWith(
            "p.yaml:6:5: rule 'a': max_rows limits what an allow or observe rule lets through");
  }

  @Test
  void badSqlStatesAndRuleNamesAreRefused() {
    assertThat(
            problems(
                "default: allow\nrules:\n  - name: a b\n    when: 'true'\n    action: deny\n"
                    + "    sqlstate: 4250\n"))
        .containsExactly(
            "p.yaml:3:11: rule name 'a b' may contain only letters, digits, '_', '-' and '.' (at"
                + " most 63)",
            "p.yaml:6:15: sqlstate must be five digits or capital letters (e.g. 42501), found"
                + " '4250'");
  }

  @Test
  void duplicateRuleNamesAndKeysAreRefused() {
    assertThat(
            problems(
                """
                default: allow
                rules:
                  - name: a
                    when: "true"
                    action: allow
                  - name: a
                    when: "false"
                    action: deny
                    action: allow
                """))
        .containsExactly(
            "p.yaml:6:5: duplicate rule name 'a' (first at p.yaml:3:5)",
            "p.yaml:9:5: duplicate key 'action' in a rule (first at line 8)");
  }

  @Test
  void celErrorsAreReportedWithTheRulesLocationAlongsideOtherProblems() {
    List<String> found =
        problems(
            """
            default: allow
            rules:
              - name: typo
                when: statement.knd == 'ddl'
                action: deny
              - name: fine
                when: statement.kind == 'ddl'
                action: nope
              - name: not-bool
                when: statement.tables
                action: deny
            """);
    assertThat(found).hasSize(3);
    assertThat(found.get(0))
        .startsWith(
            "p.yaml:3:5: rule 'typo': condition 1:1: no such variable; the statement.* variables are statement.kind,");
    assertThat(found.get(1)).startsWith("p.yaml:8:13: action 'nope' is not an action");
    assertThat(found.get(2)).startsWith("p.yaml:9:5: rule 'not-bool':").contains("bool");
  }

  @Test
  void invalidYamlIsReportedWithItsPosition() {
    assertThat(problems("default: allow\nrules:\n  - name: [unclosed\n"))
        .singleElement()
        .asString()
        .startsWith("p.yaml:4:1: invalid YAML:");
    assertThat(problems("- just\n- a list\n"))
        .containsExactly(
            "p.yaml:1:1: the policy file must be a mapping of key: value lines, found a list");
  }

  @Test
  void filesAreReadAsStrictUtf8WithASizeLimit(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, GOOD);
    assertThat(PolicyFile.load(good).rules()).hasSize(3);

    Path latin1 = dir.resolve("latin1.yaml");
    Files.write(latin1, "default: allow # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> PolicyFile.load(latin1)).hasMessageContaining("not valid UTF-8");

    Path big = dir.resolve("big.yaml");
    Files.write(big, new byte[PolicyFile.MAX_FILE_BYTES + 1]);
    assertThatThrownBy(() -> PolicyFile.load(big)).hasMessageContaining("larger than");

    assertThatThrownBy(() -> PolicyFile.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("no such file");
  }

  @Test
  void theDefaultPolicyLoadsThroughTheSameParser() {
    Policy p = PolicyFile.defaultPolicy();
    assertThat(p.name()).isEqualTo(PolicyFile.DEFAULT_NAME);
    assertThat(p.defaultAction()).isEqualTo(PolicyAction.ALLOW);
    assertThat(p.readsTime()).isFalse();
    assertThat(p.rules())
        .filteredOn(r -> r.action() == PolicyAction.DENY)
        .allSatisfy(
            r -> {
              assertThat(r.condition()).startsWith("'production' in env.tags");
              assertThat(r.message()).isNotEmpty();
              assertThat(r.hint()).isNotEmpty();
            });
    assertThat(PolicyFile.defaultPolicyText()).contains("name: production-drop");
  }

  @Test
  void docsQuoteTheDefaultPolicyAndTheirExamplesLoad() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "policy.md"));
    assertThat(doc).contains(PolicyFile.defaultPolicyText());
    java.util.regex.Matcher blocks =
        java.util.regex.Pattern.compile("```yaml\n(default:.*?)```", java.util.regex.Pattern.DOTALL)
            .matcher(doc);
    int loaded = 0;
    while (blocks.find()) {
      PolicyFile.parse("docs/policy.md example " + (loaded + 1), blocks.group(1));
      loaded++;
    }
    assertThat(loaded).isGreaterThanOrEqualTo(2);
  }
}

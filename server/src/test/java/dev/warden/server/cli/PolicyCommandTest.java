package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCommandTest {
  @TempDir Path dir;

  @Test
  void checkSummarisesAGoodFile() throws Exception {
    Files.writeString(
        dir.resolve("p.yaml"),
        "default: allow\nrules:\n  - name: no-ddl\n    when: statement.kind == 'ddl'\n"
            + "    action: deny\n");
    CliRun run = CliRun.run(dir, "", "policy", "check", "p.yaml");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .startsWith(dir.resolve("p.yaml") + ": OK, 1 rule, default allow, version ");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void checkListsEveryProblemOfABadFile() throws Exception {
    Files.writeString(
        dir.resolve("p.yaml"),
        "default: allow\nrules:\n  - name: a\n    when: statement.knd == 'ddl'\n    action: deny\n"
            + "  - name: b\n    when: 'true'\n    action: block\n");
    CliRun run = CliRun.run(dir, "", "policy", "check", "p.yaml");
    assertThat(run.exitCode()).isEqualTo(1);
    String file = dir.resolve("p.yaml").toString();
    List<String> lines = run.err().lines().toList();
    assertThat(lines.get(0))
        .startsWith(file + ":3:5: rule 'a': condition 1:1: no such variable; the statement.*");
    // CEL quotes the condition and points at the problem.
    assertThat(lines.get(1)).isEqualTo(" | statement.knd == 'ddl'");
    assertThat(lines.get(2)).isEqualTo(" | ^");
    assertThat(lines.get(3)).startsWith(file + ":8:13: action 'block' is not an action");
    assertThat(lines.getLast()).isEqualTo(file + ": 2 problems; the policy was not loaded");
    assertThat(CliRun.run(dir, "", "policy", "check", "missing.yaml").err())
        .contains("no such file");
  }

  @Test
  void testShowsTheVerdictTheRuleAndTheFacts() {
    CliRun run =
        CliRun.run(
            dir,
            "",
            "policy",
            "test",
            "--as",
            "alice",
            "--groups",
            "dev,oncall",
            "--env",
            "prod",
            "--tag",
            "production",
            "SELECT id FROM orders; DROP TABLE public.orders");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("verdict: deny (SQLSTATE 42501)")
        .contains(
            "Warden refused this statement: DROP is not allowed in production (rule"
                + " \"production-drop\")")
        .contains("hint: Run it in a non-production environment")
        .contains("rule: production-drop")
        .contains("policy: the built-in default policy")
        .contains("as: alice (groups: dev, oncall) in environment prod (tags: production)")
        .contains("statement 1 of 2: SELECT")
        .contains("  kind: read")
        .contains("  tables read: orders")
        .contains("statement 2 of 2: DROP TABLE")
        .contains("  kind: ddl")
        .contains("  rule: production-drop -> deny")
        .contains("  tables written: public.orders")
        .contains("  flags: destructive");
  }

  @Test
  void testAllowsOutsideProductionAndShowsTheWhereClause() {
    CliRun run =
        CliRun.run(dir, "", "policy", "test", "--as", "bob", "--env", "staging", "DELETE FROM t");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("verdict: allow\n")
        .contains("rule: none matched; the default (allow)")
        .contains("  where: none")
        .contains("  flags: unbounded");
  }

  @Test
  void testReadsEnvironmentsModesAndThePolicyFromTheConfiguration() throws Exception {
    Files.writeString(
        dir.resolve("policy.yaml"),
        "default: allow\nrules:\n  - name: no-truncate\n    when: \"statement.command.startsWith('TRUNCATE')\"\n"
            + "    action: deny\n    message: no truncating\n"
            + "access:\n  default: allow\n  rules:\n    - name: prod-engineers\n"
            + "      when: \"'production' in env.tags && !('engineers' in identity.groups)\"\n"
            + "      action: deny\n      message: production is for engineers\n");
    Files.writeString(
        dir.resolve("warden.yaml"),
        """
        policy: policy.yaml
        environments:
          - name: prod
            tags: [production]
            upstream: { host: localhost, user: postgres }
          - name: shadow
            mode: observe
            upstream: { host: localhost, user: postgres }
        """);
    CliRun prod =
        CliRun.run(
            dir,
            "",
            "policy",
            "test",
            "--config",
            "warden.yaml",
            "--as",
            "a",
            "--env",
            "prod",
            "TRUNCATE t");
    assertThat(prod.out())
        .as(prod.err())
        .contains("verdict: deny")
        .contains("no truncating (rule \"no-truncate\")")
        .contains("policy: " + dir.resolve("policy.yaml"))
        .contains("access: refused: production is for engineers (access rule prod-engineers)");
    CliRun shadow =
        CliRun.run(
            dir,
            "",
            "policy",
            "test",
            "--config",
            "warden.yaml",
            "--as",
            "a",
            "--env",
            "shadow",
            "TRUNCATE t");
    assertThat(shadow.out())
        .contains("verdict: allow (observe-only environment: it would have been refused)")
        .contains("rule: no-truncate")
        .contains("tags: -; observe-only")
        .contains("access: allowed (access rule (default))");
    CliRun missing =
        CliRun.run(
            dir,
            "",
            "policy",
            "test",
            "--config",
            "warden.yaml",
            "--as",
            "a",
            "--env",
            "nope",
            "SELECT 1");
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("no environment 'nope'; it has: prod, shadow");
  }

  @Test
  void testNeedsAnIdentityAndAnEnvironment() {
    CliRun run = CliRun.run(dir, "", "policy", "test", "SELECT 1");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--as").contains("--env");
  }
}

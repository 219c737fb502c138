package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.Rule;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code over_max_rows:} on an allow or observe rule: {@code deny} (the default) refuses a change
 * over {@code max_rows} for good, {@code require_approval} makes it wait for the rule's {@code
 * approval:} (and {@code auto_approve:}); each mistake is reported at its line and column.
 */
class PolicyFileOverMaxRowsTest {
  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  /** One rule named r with {@code block} (indented as a rule's keys) under it. */
  private static String rule(String action, String block) {
    return "default: allow\nrules:\n  - name: r\n    when: 'true'\n    action: "
        + action
        + "\n"
        + block.indent(4);
  }

  private static Rule only(String text) throws PolicyException {
    return PolicyFile.parse("p.yaml", text).rules().getFirst();
  }

  @Test
  void requireApprovalReadsTheApprovalBlockAndAutomaticApprovals() throws PolicyException {
    Rule r =
        only(
            rule(
                "allow",
                """
                max_rows: 1000
                over_max_rows: require_approval
                approval:
                  approvers: [dba, approvers]
                  min_approvals: 2
                  expires: 2h
                auto_approve:
                  - name: ci-up-to-5000
                    when: "rows >= 0 && rows <= 5000 && 'ci' in identity.groups"
                """));
    assertThat(r.approvesOverMaxRows()).isTrue();
    assertThat(r.maxRows()).hasValue(1000);
    assertThat(r.approval())
        .contains(
            new ApprovalRequirement(
                Set.of("dba", "approvers"),
                2,
                false,
                ApprovalRequirement.Wait.ERROR,
                Duration.ofMinutes(10),
                Duration.ofHours(2),
                false,
                true));
    assertThat(r.autoApprove())
        .singleElement()
        .satisfies(a -> assertThat(a.name()).isEqualTo("ci-up-to-5000"));
  }

  @Test
  void withoutAnApprovalBlockTheDefaultApproves() throws PolicyException {
    Rule r = only(rule("observe", "max_rows: 5\nover_max_rows: require_approval"));
    assertThat(r.approvesOverMaxRows()).isTrue();
    assertThat(r.approvalRequirement()).isEqualTo(ApprovalRequirement.DEFAULT);
  }

  @Test
  void denyIsTheDefaultAndChangesNothing() throws PolicyException {
    Policy written = PolicyFile.parse("p.yaml", rule("allow", "max_rows: 5\nover_max_rows: deny"));
    Policy left = PolicyFile.parse("p.yaml", rule("allow", "max_rows: 5"));
    assertThat(written.rules().getFirst().approvesOverMaxRows()).isFalse();
    assertThat(written.rules().getFirst().approval()).isEmpty();
    assertThat(written.version()).isEqualTo(left.version());
  }

  @Test
  void mistakesAreReportedWhereTheyAre() {
    assertThat(problems(rule("allow", "max_rows: 5\nover_max_rows: approve")))
        .containsExactly(
            "p.yaml:7:20: over_max_rows 'approve' is not what can happen to a change over"
                + " max_rows; expected deny (it is rolled back and refused) or require_approval"
                + " (it is rolled back and waits for approval)");
    assertThat(problems(rule("allow", "max_rows: 5\nover_max_rows: require-approval")))
        .singleElement()
        .asString()
        .contains("did you mean 'require_approval'?");
    assertThat(problems(rule("allow", "over_max_rows: require_approval")))
        .containsExactly(
            "p.yaml:6:5: rule 'r': over_max_rows says what happens to a change over max_rows, and"
                + " the rule has no max_rows");
    assertThat(
            problems(
                rule(
                    "allow",
                    "max_rows: 5\nover_max_rows: require_approval\napproval:\n  wait: hold")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:9:13: rule 'r': a change over max_rows cannot be held")
        .contains("use wait: error");
    // approval: and auto_approve: on an allow rule need over_max_rows: require_approval.
    assertThat(problems(rule("allow", "max_rows: 5\napproval:\n  approvers: dba")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:7:5: rule 'r': approval: applies only to a require_approval rule")
        .contains("over_max_rows: require_approval");
    assertThat(
            problems(
                rule(
                    "allow",
                    "max_rows: 5\nover_max_rows: deny\nauto_approve:\n  - name: a\n    when: 'true'")))
        .singleElement()
        .asString()
        .startsWith("p.yaml:8:5: rule 'r': auto_approve: applies only to a require_approval rule");
    // A refusing rule has no max_rows to go over.
    assertThat(problems(rule("deny", "max_rows: 5\nover_max_rows: require_approval")))
        .singleElement()
        .asString()
        .contains("max_rows limits what an allow or observe rule lets through");
    assertThat(problems(rule("allow", "max_rows: 5\nover_max_rows_: deny")))
        .singleElement()
        .asString()
        .contains("did you mean 'over_max_rows'?");
  }

  @Test
  void theDefaultPolicyLetsProductionChangesOverAThousandRowsWaitForApprovers() {
    Rule r =
        PolicyFile.defaultPolicy().rules().stream()
            .filter(Rule::approvesOverMaxRows)
            .findFirst()
            .orElseThrow();
    assertThat(r.name()).isEqualTo("production-row-limit");
    assertThat(r.maxRows()).hasValue(1000);
    assertThat(r.approvalRequirement().approverGroups()).containsExactly("approvers");
    assertThat(r.approvalRequirement().breakGlass()).isTrue();
    assertThat(r.approvalRequirement().waiting()).isEqualTo(ApprovalRequirement.Wait.ERROR);
  }
}

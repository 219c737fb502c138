package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden policy test} shows a row limit and whether a change over it waits for approval. */
class PolicyCommandRowLimitTest {
  @TempDir Path dir;

  @Test
  void theDefaultPolicysProductionLimitWaitsForApprovers() {
    CliRun run =
        CliRun.run(
            dir,
            "",
            "policy",
            "test",
            "--as",
            "alice",
            "--env",
            "prod",
            "--tag",
            "production",
            "DELETE FROM orders WHERE id < 5000");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("verdict: allow\n")
        .contains("rule: production-row-limit")
        .contains(
            "row limit: 1000 (beyond it Warden rolls back, and the change waits for approval by"
                + " approvers)");
  }
}

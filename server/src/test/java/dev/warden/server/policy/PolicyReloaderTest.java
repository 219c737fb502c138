package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyReloaderTest {
  private static final String ALLOW_ALL = "default: allow\n";
  private static final String DENY_DDL =
      """
      default: allow
      rules:
        - name: no-ddl
          when: statement.kind == 'ddl'
          action: deny
      """;

  @Test
  void aChangedValidFileReplacesThePolicy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, ALLOW_ALL);
    try (PolicyReloader reloader = PolicyReloader.load(file)) {
      Policy first = reloader.get();
      assertThat(first.rules()).isEmpty();
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Unchanged.class);
      assertThat(reloader.get()).isSameAs(first);

      Files.writeString(file, DENY_DDL);
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Reloaded.class);
      assertThat(reloader.get().rules())
          .singleElement()
          .extracting(r -> r.name())
          .isEqualTo("no-ddl");
      assertThat(reloader.get().version()).isNotEqualTo(first.version());
    }
  }

  @Test
  void aBadReloadKeepsTheLastGoodPolicy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, DENY_DDL);
    try (PolicyReloader reloader = PolicyReloader.load(file)) {
      Policy good = reloader.get();
      Files.writeString(file, DENY_DDL.replace("statement.kind", "statement.knd"));
      PolicyReloader.Outcome outcome = reloader.checkNow();
      assertThat(outcome)
          .isInstanceOfSatisfying(
              PolicyReloader.Outcome.Rejected.class,
              r -> assertThat(r.problem().getMessage()).contains(":3:5: rule 'no-ddl'"));
      assertThat(reloader.get()).isSameAs(good);
      // The same bad text is not reported again, and a deleted file keeps the policy too.
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Unchanged.class);
      Files.delete(file);
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Rejected.class);
      assertThat(reloader.get()).isSameAs(good);
      Files.writeString(file, ALLOW_ALL);
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Reloaded.class);
      assertThat(reloader.get().rules()).isEmpty();
    }
  }

  @Test
  void theWatcherPicksUpAChangeByItself(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, ALLOW_ALL);
    try (PolicyReloader reloader = PolicyReloader.watch(file, Duration.ofMillis(20))) {
      Files.writeString(file, DENY_DDL);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (reloader.get().rules().isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(reloader.get().rules()).hasSize(1);
    }
  }

  @Test
  void anInvalidFileIsNotLoadedAtStart(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, "default: nope\n");
    assertThatThrownBy(() -> PolicyReloader.load(file))
        .isInstanceOf(PolicyException.class)
        .hasMessageContaining("policy.yaml:1:10: default 'nope' is not an action");
  }
}

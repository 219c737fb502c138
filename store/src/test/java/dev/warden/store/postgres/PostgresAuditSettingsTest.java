package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.Secret;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PostgresAuditSettingsTest {
  private static final String URL = "jdbc:postgresql://db.internal:5432/audit?sslmode=verify-full";

  private static PostgresAuditSettings settings(String url, String logId) {
    return PostgresAuditSettings.defaults(url, "warden", Secret.of("hunter2-canary"), logId);
  }

  @Test
  void theDefaultsAreThoseDocumented() {
    PostgresAuditSettings s = settings(URL, "w-1");
    assertThat(s.boundedWindow()).isEqualTo(Duration.ofMillis(20));
    assertThat(s.checkpointEvery()).isEqualTo(1000);
    assertThat(s.checkpointInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.poolSize()).isEqualTo(4);
    assertThat(s.witness()).isEmpty();
  }

  @Test
  void printingShowsWhereAndWhoButNoSecretOrParameters() {
    PostgresAuditSettings s = settings(URL, "w-1");
    assertThat(s.toString())
        .contains("db.internal:5432/audit")
        .contains("warden")
        .contains("w-1")
        .doesNotContain("hunter2-canary")
        .doesNotContain("sslmode");
    assertThat(s.location()).isEqualTo("jdbc:postgresql://db.internal:5432/audit");
  }

  @Test
  void badSettingsAreRefusedWithWhatIsWrong() {
    assertThatThrownBy(() -> settings("jdbc:mysql://x/y", "w"))
        .hasMessageContaining("must start with jdbc:postgresql:");
    assertThatThrownBy(() -> settings(URL + "&password=secret", "w"))
        .hasMessageContaining("must not carry a password")
        .satisfies(
            e -> assertThat(e.getMessage()).doesNotContain("secret&").doesNotContain("=secret"));
    assertThatThrownBy(() -> settings(URL, ""))
        .hasMessageContaining("1 to 200 letters, digits or . _ - : @");
    assertThatThrownBy(() -> settings(URL, "bad id\u001b[31m"))
        .hasMessageContaining("\"bad id?[31m\"");
    assertThatThrownBy(() -> settings(URL, "w").withPoolSize(1))
        .hasMessageContaining("at least 2 connections");
    assertThatThrownBy(() -> settings(URL, "w").withMaxQueued(0))
        .hasMessageContaining("maxQueued must be positive");
    assertThatThrownBy(() -> settings(URL, "w").withBoundedWindow(Duration.ZERO))
        .hasMessageContaining("boundedWindow must be positive");
    assertThatThrownBy(() -> settings(URL, "w").withCheckpoints(0, Duration.ofSeconds(1)))
        .hasMessageContaining("checkpointEvery must be positive");
    assertThatThrownBy(() -> PostgresAuditSettings.defaults(URL, " ", Secret.of(""), "w"))
        .hasMessageContaining("needs a user name");
  }
}

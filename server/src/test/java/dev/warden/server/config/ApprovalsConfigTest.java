package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration's {@code approvals:} section: where requests are announced. */
class ApprovalsConfigTest {
  @TempDir Path dir;

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(
            Map.of(
                "HOOK_SECRET", "s3cret",
                "SLACK_URL", "https://hooks.slack.example/services/T0/B0/xyz"))
        .load(file);
  }

  @Test
  void readsThePublicAddressWebhooksAndSlack() throws Exception {
    ApprovalNotifications a =
        load("""
                approvals:
                  public-url: https://warden.corp.example
                  notify:
                    - webhook: https://hooks.corp.example/warden
                      secret: { env: HOOK_SECRET }
                    - slack: { env: SLACK_URL }
                    - slack: https://hooks.slack.example/services/T1/B1/abc
                """)
            .approvals();
    assertThat(a.publicUrl()).contains(URI.create("https://warden.corp.example"));
    assertThat(a.webhooks())
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.url()).isEqualTo(URI.create("https://hooks.corp.example/warden"));
              assertThat(w.secret().orElseThrow().reveal()).isEqualTo("s3cret");
            });
    assertThat(a.slack())
        .containsExactly(
            URI.create("https://hooks.slack.example/services/T0/B0/xyz"),
            URI.create("https://hooks.slack.example/services/T1/B1/abc"));
    assertThat(a.toString()).doesNotContain("s3cret", "xyz");
  }

  @Test
  void withoutTheSectionNothingIsAnnounced() throws Exception {
    assertThat(load("listen: 127.0.0.1:6432\n").approvals()).isEqualTo(ApprovalNotifications.NONE);
  }

  @Test
  void mistakesAreReportedAtTheirLine() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                load(
                    """
                    approvals:
                      notify:
                        - webhook: http://hooks.corp.example/warden
                    """));
    assertThat(e.line()).hasValue(3);
    assertThat(e.getMessage()).contains("https");
    e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                load(
                    """
                    approvals:
                      notify:
                        - slack: https://hooks.slack.example/x
                          secret: { env: HOOK_SECRET }
                    """));
    assertThat(e.line()).hasValue(4);
    assertThat(e.getMessage()).contains("secret is only used with webhook");
  }
}

package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Named role mappings and their {@code just-in-time:} blocks in the configuration file. */
class JustInTimeConfigTest {
  @TempDir Path dir;

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(Map.of("RW_PASSWORD", "rw-secret")).load(file);
  }

  private void failsAt(String roles, int line, String... fragments) {
    String yaml =
        """
        environments:
          - name: production
            upstream: { host: 127.0.0.1, user: warden }
            roles:
        """
            + roles.indent(6);
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading fails").isNotNull();
    assertThat(e.line()).as(e.getMessage()).hasValue(line);
    for (String fragment : fragments) {
      assertThat(e.getMessage()).contains(fragment);
    }
  }

  @Test
  void namedMappingsWithJustInTimeAndTheirDefaults() throws Exception {
    WardenConfig config =
        load(
            """
            environments:
              - name: production
                upstream: { host: 127.0.0.1, user: warden }
                roles:
                  - name: reader
                    groups: [engineers]
                    user: app_ro
                  - name: writer
                    user: app_rw
                    password: { env: RW_PASSWORD }
                    just-in-time:
                      approvers: [approvers, dba]
                      min-approvals: 2
                      max-duration: 1h30m
                      requestable-by: [engineers]
                      break-glass: true
                  - name: admin
                    groups: [dba]
                    user: app_admin
                    just-in-time: {}
                  - groups: [analysts]
                    user: app_ro
            """);
    Environment production = config.environments().getFirst();
    assertThat(production.role("reader").orElseThrow().justInTime()).isEmpty();
    RoleMapping writer = production.role("writer").orElseThrow();
    assertThat(writer.groups()).isEmpty();
    assertThat(writer.identities()).isEmpty();
    assertThat(writer.password().reveal()).isEqualTo("rw-secret");
    assertThat(writer.justInTime())
        .contains(
            new JustInTime(
                Set.of("approvers", "dba"), 2, Duration.ofMinutes(90), Set.of("engineers"), true));
    assertThat(production.role("admin").orElseThrow().justInTime()).contains(JustInTime.DEFAULT);
    assertThat(JustInTime.DEFAULT.maxDuration()).isEqualTo(Duration.ofHours(8));
    assertThat(JustInTime.DEFAULT.approvers()).containsExactly("approvers");
    assertThat(production.roles().getLast().name()).isEqualTo(Optional.empty());
    assertThat(production.upstreamAs("writer").orElseThrow().user()).isEqualTo("app_rw");
    assertThat(production.upstreamAs("nobody")).isEmpty();
  }

  @Test
  void mistakesAreRefusedWhereTheyAre() {
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            approver: [dba]
        """,
        8,
        "unknown key 'approver'",
        "did you mean 'approvers'");
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            max-duration: 8 hours
        """,
        8,
        "max-duration",
        "not a duration");
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            max-duration: 30d
        """,
        8,
        "between 1m and 7d");
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            min-approvals: 0
        """,
        8,
        "min-approvals must be between 1 and 10");
    failsAt(
        """
        - name: writer
          groups: [a]
          user: app_rw
        - name: writer
          groups: [b]
          user: app_rw2
        """,
        8,
        "two role mappings named 'writer'",
        "line 5");
    failsAt(
        """
        - user: app_rw
          just-in-time: {}
        """,
        6,
        "needs a name");
    failsAt(
        """
        - name: Writer!
          groups: [a]
          user: app_rw
        """,
        5,
        "lower-case letters");
    failsAt(
        """
        - name: writer
          user: app_rw
        """,
        5,
        "needs groups or identities",
        "just-in-time");
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            requestable-by: []
        """,
        8,
        "requestable-by must name at least one group");
    failsAt(
        """
        - name: writer
          user: app_rw
          just-in-time:
            break-glass: sometimes
        """,
        8,
        "break-glass must be true or false");
  }
}

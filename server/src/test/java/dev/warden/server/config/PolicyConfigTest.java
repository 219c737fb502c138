package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration's {@code policy:} key and the environments' {@code mode:}. */
class PolicyConfigTest {
  @TempDir Path dir;

  private WardenConfig parse(String text) throws ConfigException {
    return new ConfigLoader(Map.of()).parse("w.yaml", dir, text);
  }

  @Test
  void policyIsAFileRelativeToTheConfiguration() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), "default: allow\n");
    assertThat(parse("policy: p.yaml\n").policy()).contains(dir.resolve("p.yaml"));
    assertThat(parse("listen: 127.0.0.1:6432\n").policy()).isEmpty();
    assertThatThrownBy(() -> parse("policy: missing.yaml\n"))
        .hasMessageStartingWith("w.yaml:1:9: policy " + dir.resolve("missing.yaml"))
        .hasMessageContaining("does not exist");
  }

  @Test
  void modeIsEnforceOrObserve() throws Exception {
    WardenConfig config =
        parse(
            """
            environments:
              - name: prod
                mode: enforce
                upstream: { host: localhost, user: postgres }
              - name: shadow
                mode: observe
                upstream: { host: localhost, user: postgres }
              - name: dev
                upstream: { host: localhost, user: postgres }
            """);
    assertThat(config.observedEnvironments()).containsExactly("shadow");
    assertThatThrownBy(
            () ->
                parse(
                    """
                    environments:
                      - name: prod
                        mode: watch
                        upstream: { host: localhost, user: postgres }
                    """))
        .hasMessageStartingWith("w.yaml:3:11: mode must be enforce");
  }

  @Test
  void changingOtherSettingsKeepsPolicyAndModes() throws Exception {
    Files.writeString(dir.resolve("p.yaml"), "default: allow\n");
    WardenConfig config =
        parse(
                """
                policy: p.yaml
                environments:
                  - name: shadow
                    mode: observe
                    upstream: { host: localhost, user: postgres }
                """)
            .withListen(HostPort.parse("127.0.0.1:7000"))
            .withDataDir(dir);
    assertThat(config.policy()).contains(dir.resolve("p.yaml"));
    assertThat(config.observedEnvironments()).containsExactly("shadow");
  }
}

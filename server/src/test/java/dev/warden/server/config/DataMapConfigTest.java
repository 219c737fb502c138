package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code data-map:} keys of warden.yaml. */
class DataMapConfigTest {
  @TempDir Path dir;

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(Map.of()).load(file);
  }

  private void failsAt(String yaml, int line, int column, String fragment) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading fails").isNotNull();
    assertThat(e.getMessage())
        .startsWith(dir.resolve("warden.yaml") + ":" + line + ":" + column + ": ")
        .contains(fragment);
  }

  @Test
  void defaultsWhenAbsent() throws Exception {
    DataMapConfig c = load("listen: 127.0.0.1:6432\n").dataMap();
    assertThat(c).isEqualTo(DataMapConfig.defaults());
    assertThat(c.refresh()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.sampleRows()).isEqualTo(200);
    assertThat(c.maxSampledRelations()).isEqualTo(1000);
    assertThat(c.statementTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(WardenConfig.defaults().dataMap()).isEqualTo(DataMapConfig.defaults());
  }

  @Test
  void everyKeyIsRead() throws Exception {
    DataMapConfig c =
        load("""
                data-map:
                  refresh: 5m
                  sample-rows: 50
                  max-sampled-relations: 0
                  statement-timeout: 500ms
                """)
            .dataMap();
    assertThat(c)
        .isEqualTo(new DataMapConfig(Duration.ofMinutes(5), 50, 0, Duration.ofMillis(500)));
  }

  @Test
  void mistakesAreReportedWhereTheyAre() {
    failsAt("data-map:\n  refresh: soon\n", 2, 12, "refresh must be a duration such as 30s");
    failsAt("data-map:\n  refresh: 100ms\n", 2, 12, "refresh must be between 1s and");
    failsAt("data-map:\n  sample-rows: 0\n", 2, 16, "sample-rows must be between 1 and 10000");
    failsAt("data-map:\n  sample-rows: many\n", 2, 16, "sample-rows must be a whole number");
    failsAt("data-map:\n  max-sampled-relations: -1\n", 2, 26, "must be between 0 and 1000000");
    failsAt("data-map:\n  statement-timeout: 10m\n", 2, 22, "between 1ms and 5m");
    failsAt("data-map:\n  sample_rows: 10\n", 2, 3, "did you mean 'sample-rows'?");
    failsAt("data_map:\n  refresh: 1s\n", 1, 1, "did you mean 'data-map'?");
  }
}

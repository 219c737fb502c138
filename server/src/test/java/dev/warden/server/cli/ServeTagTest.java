package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.server.config.WardenConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code serve --tag}: tags the one environment of a zero-configuration setup. */
class ServeTagTest {
  @Test
  void tagsAreAddedToTheOneEnvironment() {
    WardenConfig tagged = ServeCommand.tagged(WardenConfig.defaults(), List.of("production", "eu"));
    assertThat(tagged.environments())
        .singleElement()
        .satisfies(e -> assertThat(e.tags()).containsExactlyInAnyOrder("production", "eu"));
  }

  @Test
  void severalEnvironmentsAreTaggedInTheFile() {
    WardenConfig two =
        WardenConfig.defaults()
            .withEnvironments(
                List.of(
                    WardenConfig.defaults().environments().getFirst(),
                    new dev.warden.core.environment.Environment(
                        "other",
                        java.util.Set.of(),
                        List.of(),
                        WardenConfig.defaults().environments().getFirst().upstream())));
    assertThatThrownBy(() -> ServeCommand.tagged(two, List.of("production")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("this configuration has 2");
  }
}

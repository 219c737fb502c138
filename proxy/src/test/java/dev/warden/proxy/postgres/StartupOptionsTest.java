package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupOptionsTest {
  @Test
  void eachSettingStaysOneWordWhateverItsValueHolds() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("warden.identity", "Ann Lee\tx\\y");
    settings.put("warden.on_behalf_of", "");
    String options = StartupOptions.of(settings);
    assertThat(options).isEqualTo("-c warden.identity=Ann\\ Lee\\\tx\\\\y -c warden.on_behalf_of=");
  }
}

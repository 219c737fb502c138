package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden serve --oidc-issuer URL --oidc-audience AUD}: token logins without a file. */
class ServeOidcFlagsTest {
  @Test
  void theFlagsAddOneProviderWhoseAudienceIsTheLoginClient() {
    WardenConfig config =
        ServeCommand.withOidc(WardenConfig.defaults(), "https://login.corp.example", "warden-cli");
    OidcProviderSettings provider = config.identity().oidc().getFirst();
    assertThat(provider.name()).isEqualTo("oidc");
    assertThat(provider.issuer()).isEqualTo(URI.create("https://login.corp.example"));
    assertThat(provider.audiences()).containsExactly("warden-cli");
    assertThat(provider.clientId()).isEqualTo(Optional.of("warden-cli"));
    assertThat(config.identity().atExpiry()).isEqualTo(LoginSettings.AtExpiry.WHEN_IDLE);
    // The same issuer again changes nothing.
    assertThat(
            ServeCommand.withOidc(config, "https://login.corp.example", "warden-cli")
                .identity()
                .oidc())
        .hasSize(1);
  }

  @Test
  void anIssuerInClearOverTheNetworkIsRefused() {
    assertThatThrownBy(
            () -> ServeCommand.withOidc(WardenConfig.defaults(), "http://login.corp.example", "a"))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("https://");
    assertThat(
            ServeCommand.withOidc(WardenConfig.defaults(), "http://127.0.0.1:8181", "a")
                .identity()
                .oidc())
        .hasSize(1);
    assertThatThrownBy(() -> ServeCommand.withOidc(WardenConfig.defaults(), "not a url", "a"))
        .isInstanceOf(UsageException.class);
  }

  @Test
  void bothFlagsOrNeither(@TempDir Path dir) {
    CliRun run = CliRun.run(dir, "", "serve", "--oidc-issuer", "https://login.corp.example");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("--oidc-issuer and --oidc-audience go together");
  }
}

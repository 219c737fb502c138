package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.oidc.MockIdentityProvider;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Discovery and the errors people see when the provider is wrong or away. */
@Timeout(60)
class OidcClientTest {
  private final MockIdentityProvider idp = MockIdentityProvider.start();
  private final OidcClient oidc = new OidcClient(OidcClient.defaultHttpClient(), Clock.systemUTC());

  @AfterEach
  void stop() {
    idp.close();
  }

  @Test
  void discoveryFindsTheEndpoints() {
    ProviderMetadata provider = oidc.discover(OidcClient.issuer(idp.issuer() + "/"));
    assertThat(provider.issuer()).isEqualTo(idp.issuer());
    assertThat(provider.tokenEndpoint()).isEqualTo(idp.tokenEndpoint());
    assertThat(provider.authorizationEndpoint()).isEqualTo(idp.authorizationEndpoint());
    assertThat(provider.deviceAuthorizationEndpoint()).contains(idp.deviceAuthorizationEndpoint());
  }

  @Test
  void aDocumentNamingAnotherIssuerIsRefused() {
    idp.discoveryIssuer("https://evil.example");
    assertThatThrownBy(() -> oidc.discover(idp.issuer()))
        .isInstanceOf(LoginException.class)
        .hasMessageContaining("names the issuer 'https://evil.example', not " + idp.issuer());
  }

  @Test
  void anUnreachableProviderIsOneLine() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    assertThatThrownBy(() -> oidc.discover(URI.create("http://127.0.0.1:" + port)))
        .isInstanceOf(LoginException.class)
        .hasMessageStartingWith("cannot reach the identity provider at 127.0.0.1:" + port);
  }

  @Test
  void anUnavailableProviderSaysWhatItAnswered() {
    idp.availability(MockIdentityProvider.Availability.UNAVAILABLE);
    assertThatThrownBy(() -> oidc.discover(idp.issuer()))
        .isInstanceOf(LoginException.class)
        .hasMessageContaining("answered the discovery request with HTTP 503");
  }

  @Test
  void tokensTravelOnlyOverHttpsBeyondThisMachine() {
    assertThatThrownBy(() -> OidcClient.issuer("http://login.corp.example"))
        .isInstanceOf(LoginException.class)
        .hasMessage("the issuer must be an https:// URL (http only for this machine)");
    assertThat(OidcClient.issuer("https://login.corp.example/realms/main/"))
        .isEqualTo(URI.create("https://login.corp.example/realms/main"));
    assertThatThrownBy(() -> OidcClient.issuer("not a url"))
        .isInstanceOf(LoginException.class)
        .hasMessageStartingWith("the issuer 'not a url' is not a URL");
  }
}

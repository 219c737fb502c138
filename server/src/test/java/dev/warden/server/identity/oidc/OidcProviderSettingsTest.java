package dev.warden.server.identity.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a provider's settings accept, and the messages for what they refuse. */
class OidcProviderSettingsTest {
  private static final URI ISSUER = URI.create("https://login.corp.example/realms/main");

  private static OidcProviderSettings.Builder corp() {
    return OidcProviderSettings.builder("corp", ISSUER, List.of("warden"));
  }

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    OidcProviderSettings s = corp().build();
    assertThat(s.userClaims()).containsExactly("email", "preferred_username", "sub");
    assertThat(s.groupsClaim()).isEqualTo("groups");
    assertThat(s.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.jwksMinRefreshInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.cacheLifetime()).isEqualTo(Duration.ofMinutes(15));
    assertThat(s.allowedAlgorithms()).isEmpty();
    assertThat(s.requireVerifiedEmail()).isTrue();
    assertThat(s.discoveryUri())
        .isEqualTo(URI.create(ISSUER + "/.well-known/openid-configuration"));
  }

  @Test
  void plainHttpIsOnlyForLoopback() {
    assertThat(
            OidcProviderSettings.builder("t", URI.create("http://127.0.0.1:8080"), List.of("w"))
                .build())
        .isNotNull();
    assertThatThrownBy(
            () ->
                OidcProviderSettings.builder(
                        "corp", URI.create("http://login.corp.example"), List.of("w"))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("identity provider corp: issuer must use https");
    assertThatThrownBy(() -> corp().jwksUri(URI.create("http://keys.corp.example/jwks")).build())
        .hasMessageContaining("jwks-uri must use https");
    assertThatThrownBy(
            () ->
                OidcProviderSettings.builder("corp", URI.create("/relative"), List.of("w")).build())
        .hasMessageContaining("absolute URL");
  }

  @Test
  void unsignedAndSharedSecretAlgorithmsCannotBeAllowed() {
    for (String alg : List.of("none", "HS256", "hs512")) {
      assertThatThrownBy(() -> corp().allowedAlgorithms(Set.of(alg)).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("never are");
    }
    assertThatThrownBy(() -> corp().allowedAlgorithms(Set.of("RSA-OAEP")).build())
        .hasMessageContaining("is not accepted");
  }

  @Test
  void meaninglessValuesAreRefusedWithTheSettingsName() {
    assertThatThrownBy(() -> OidcProviderSettings.builder("corp", ISSUER, List.of()).build())
        .hasMessageContaining("audience needs at least one value");
    assertThatThrownBy(() -> OidcProviderSettings.builder("bad name", ISSUER, List.of("w")).build())
        .hasMessageContaining("name 'bad name'");
    assertThatThrownBy(() -> corp().userClaims(List.of()).build())
        .hasMessageContaining("user-claims needs at least one value");
    assertThatThrownBy(() -> corp().groupsClaim("has space").build())
        .hasMessageContaining("groups-claim");
    assertThatThrownBy(() -> corp().clockSkew(Duration.ofHours(1)).build())
        .hasMessageContaining("clock-skew must be between");
    assertThatThrownBy(() -> corp().jwksMinRefreshInterval(Duration.ZERO).build())
        .hasMessageContaining("jwks-min-refresh-interval");
    assertThatThrownBy(
            () ->
                corp()
                    .jwksMinRefreshInterval(Duration.ofMinutes(5))
                    .cacheLifetime(Duration.ofMinutes(1))
                    .build())
        .hasMessageContaining("cache-lifetime");
  }
}

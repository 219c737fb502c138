package dev.warden.server.identity.login;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * The parts of an OpenID provider's discovery document ({@code /.well-known/openid-configuration},
 * OpenID Connect Discovery 1.0 §3) that the login flows use.
 *
 * @param issuer the issuer, equal to the URL it was discovered from (Discovery §4.3)
 * @param authorizationEndpoint where the browser is sent for the authorization-code flow
 * @param tokenEndpoint where codes, device codes and refresh tokens are exchanged for tokens
 * @param deviceAuthorizationEndpoint the RFC 8628 endpoint, when the provider offers the device
 *     flow
 */
public record ProviderMetadata(
    URI issuer,
    URI authorizationEndpoint,
    URI tokenEndpoint,
    Optional<URI> deviceAuthorizationEndpoint) {
  public ProviderMetadata {
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(authorizationEndpoint, "authorizationEndpoint");
    Objects.requireNonNull(tokenEndpoint, "tokenEndpoint");
    Objects.requireNonNull(deviceAuthorizationEndpoint, "deviceAuthorizationEndpoint");
  }
}

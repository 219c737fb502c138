package dev.warden.testkit.oidc;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An OAuth client registered with the {@link MockIdentityProvider}.
 *
 * @param clientId the {@code client_id}
 * @param secret the client secret of a confidential client; empty for a public client, which must
 *     use PKCE
 * @param redirectUris the registered redirect URIs; for loopback ones ({@code http://127.0.0.1},
 *     {@code localhost}, {@code [::1]}) any port matches, as RFC 8252 §7.3 asks
 * @param anyLoopbackRedirect accept any loopback {@code http} redirect URI (any port and path), for
 *     command-line clients that pick their callback path themselves
 */
public record MockClient(
    String clientId,
    Optional<String> secret,
    List<String> redirectUris,
    boolean anyLoopbackRedirect) {
  public MockClient {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(secret, "secret");
    redirectUris = List.copyOf(redirectUris);
  }

  /** A public client (PKCE, no secret) accepting any loopback redirect URI. */
  public static MockClient publicLoopback(String clientId) {
    return new MockClient(clientId, Optional.empty(), List.of(), true);
  }

  /** A confidential client with a secret and the given redirect URIs. */
  public static MockClient confidential(String clientId, String secret, String... redirectUris) {
    return new MockClient(clientId, Optional.of(secret), List.of(redirectUris), false);
  }
}

package dev.warden.server.identity.login;

import dev.warden.core.identity.Secret;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@code warden login} is registered with an identity provider: a public client (no secret),
 * except for providers such as Google whose installed-application clients carry a "secret" that is
 * not confidential but must still be sent.
 *
 * @param issuer the provider's issuer URL, as its discovery document names it
 * @param clientId the client id; Warden's verifier expects it as the ID token's audience
 * @param clientSecret the client secret, for providers that require one from native clients
 * @param scope the space-separated scopes to ask for
 */
public record ClientRegistration(
    URI issuer, String clientId, Optional<Secret> clientSecret, String scope) {
  /** The scopes asked for unless {@code --scope} says otherwise. */
  public static final String DEFAULT_SCOPE = "openid email profile groups";

  public ClientRegistration {
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(scope, "scope");
    if (clientId.isBlank()) {
      throw new IllegalArgumentException("the client id must not be empty");
    }
    if (!(" " + scope + " ").contains(" openid ")) {
      throw new IllegalArgumentException(
          "the scope must include openid (an ID token is what Warden verifies), found '"
              + scope
              + "'");
    }
  }
}

package dev.warden.core.identity;

import java.util.concurrent.CompletableFuture;

/**
 * Verifies a bearer token a client presents in place of a password (an OpenID Connect ID or access
 * token) and turns it into the identity it proves.
 *
 * <p>Verification may need the network (the provider's keys), so it completes asynchronously and
 * never on the caller's thread when it has to wait: proxies call it from an event loop. It fails
 * with an {@link AuthenticationFailure} whose reason says why, for the audit trail; clients only
 * see a generic message.
 */
public interface TokenVerifier {
  /** Accepts nothing: no provider is configured. */
  TokenVerifier NONE =
      new TokenVerifier() {
        @Override
        public boolean enabled() {
          return false;
        }

        @Override
        public CompletableFuture<Identity> verify(String claimedUser, String token) {
          return CompletableFuture.failedFuture(
              new AuthenticationFailure(
                  AuthenticationFailure.Reason.UNSUPPORTED, "no identity provider is configured"));
        }
      };

  /** True when at least one provider is configured, so clients may be asked for a token. */
  boolean enabled();

  /**
   * Verifies {@code token} for a client that logged in as {@code claimedUser}. The identity's name
   * is {@code claimedUser}, which must match the token's subject (or the claim the provider is
   * configured to match); its groups come from the token; its {@link Identity#expiresAt()} is the
   * token's expiry.
   */
  CompletableFuture<Identity> verify(String claimedUser, String token);
}

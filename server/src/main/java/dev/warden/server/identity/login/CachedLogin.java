package dev.warden.server.identity.login;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The tokens of a remembered login, made fresh for use: a token that expires within a minute is
 * renewed with the refresh token and the renewal saved, so {@code warden connect} works for as long
 * as the provider keeps the refresh token valid.
 */
public final class CachedLogin {
  /** A token that expires sooner than this is renewed before use. */
  public static final Duration REFRESH_MARGIN = Duration.ofMinutes(1);

  private final CredentialStore store;
  private final OidcClient oidc;
  private final Clock clock;

  public CachedLogin(CredentialStore store, OidcClient oidc, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.oidc = Objects.requireNonNull(oidc, "oidc");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The profile {@code name} with a token of {@code kind} valid for at least {@link
   * #REFRESH_MARGIN}, refreshed (and saved) when needed.
   *
   * @throws LoginException when there is no login, or it expired and cannot be renewed
   */
  public LoginProfile fresh(String name, Tokens.Kind kind) {
    LoginProfile profile =
        store
            .load(name)
            .orElseThrow(
                () -> new LoginException("not logged in (profile " + name + "); run warden login"));
    Tokens tokens =
        profile
            .tokens()
            .orElseThrow(
                () ->
                    new LoginException(
                        "not logged in (profile " + name + ", logged out); run warden login"));
    Instant now = clock.instant();
    if (!tokens.expiresWithin(kind, now, REFRESH_MARGIN)) {
      return profile;
    }
    if (tokens.refreshToken().isEmpty()) {
      throw new LoginException(
          "your login "
              + (tokens.expiresAt(kind).isAfter(now) ? "expires at " : "expired at ")
              + tokens.expiresAt(kind)
              + " and the provider gave no refresh token; run warden login");
    }
    Tokens renewed;
    try {
      ProviderMetadata provider = oidc.discover(profile.client().issuer());
      renewed = oidc.refresh(provider, profile.client(), tokens);
    } catch (LoginException e) {
      throw new LoginException(
          "could not renew your login (" + e.getMessage() + "); run warden login", e);
    }
    if (renewed.expiresWithin(kind, clock.instant(), REFRESH_MARGIN)) {
      throw new LoginException(
          kind == Tokens.Kind.ID
              ? "the identity provider renewed the login without a fresh ID token; run warden"
                  + " login (or use --token access)"
              : "the identity provider renewed the login with a token that expires at once; run"
                  + " warden login");
    }
    LoginProfile updated = profile.withTokens(java.util.Optional.of(renewed));
    store.save(updated);
    return updated;
  }
}

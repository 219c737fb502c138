package dev.warden.server.config;

import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Who may log in besides local users, and how long a session may live on its credential.
 *
 * @param oidc the OpenID Connect providers whose tokens are accepted as passwords; none turns token
 *     logins off
 * @param atExpiry what happens to a session when its token, certificate or service token expires
 * @param expiryGrace how long past expiry a busy session may run with {@code when-idle}
 */
public record IdentityConfig(
    List<OidcProviderSettings> oidc, LoginSettings.AtExpiry atExpiry, Duration expiryGrace) {
  /** Five minutes: long enough to finish a transaction, short enough to bound a stolen session. */
  public static final Duration DEFAULT_GRACE = Duration.ofMinutes(5);

  public IdentityConfig {
    oidc = List.copyOf(oidc);
    Objects.requireNonNull(atExpiry, "atExpiry");
    Objects.requireNonNull(expiryGrace, "expiryGrace");
  }

  /** Local users only. */
  public static IdentityConfig defaults() {
    return new IdentityConfig(List.of(), LoginSettings.AtExpiry.WHEN_IDLE, DEFAULT_GRACE);
  }

  public IdentityConfig withOidc(List<OidcProviderSettings> providers) {
    return new IdentityConfig(providers, atExpiry, expiryGrace);
  }
}

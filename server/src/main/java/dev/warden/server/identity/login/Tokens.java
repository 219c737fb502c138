package dev.warden.server.identity.login;

import dev.warden.core.identity.Secret;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The tokens a provider issued at login or refresh. Each token is a {@link Secret}, so printing
 * this record shows none of them.
 *
 * @param idToken the OpenID Connect ID token, whose audience is the client id
 * @param accessToken the OAuth access token
 * @param refreshToken the refresh token, when the provider issued one
 * @param idTokenExpiresAt the ID token's {@code exp}
 * @param accessTokenExpiresAt when the access token expires ({@code expires_in} after issue), if
 *     the provider said
 */
public record Tokens(
    Secret idToken,
    Secret accessToken,
    Optional<Secret> refreshToken,
    Instant idTokenExpiresAt,
    Optional<Instant> accessTokenExpiresAt) {
  public Tokens {
    Objects.requireNonNull(idToken, "idToken");
    Objects.requireNonNull(accessToken, "accessToken");
    Objects.requireNonNull(refreshToken, "refreshToken");
    Objects.requireNonNull(idTokenExpiresAt, "idTokenExpiresAt");
    Objects.requireNonNull(accessTokenExpiresAt, "accessTokenExpiresAt");
  }

  /** Which token to present to Warden as the password. */
  public enum Kind {
    /** The ID token (the default: its audience is the client id Warden is configured with). */
    ID,
    /** The access token, for providers whose access tokens are JWTs meant for Warden. */
    ACCESS
  }

  /** The token of {@code kind}. */
  public Secret token(Kind kind) {
    return switch (kind) {
      case ID -> idToken;
      case ACCESS -> accessToken;
    };
  }

  /**
   * When the token of {@code kind} expires; an access token without {@code expires_in} is taken to
   * live as long as the ID token.
   */
  public Instant expiresAt(Kind kind) {
    return switch (kind) {
      case ID -> idTokenExpiresAt;
      case ACCESS -> accessTokenExpiresAt.orElse(idTokenExpiresAt);
    };
  }

  /** True when the token of {@code kind} is expired or expires within {@code margin} of now. */
  public boolean expiresWithin(Kind kind, Instant now, Duration margin) {
    return !expiresAt(kind).isAfter(now.plus(margin));
  }
}

package dev.warden.server.identity.login;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import dev.warden.core.identity.Secret;
import java.text.ParseException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The claims of an ID token that the command line reads: who it names and until when. The signature
 * is not checked here: the token came straight from the provider's token endpoint over TLS, which
 * OpenID Connect Core 1.0 §3.1.3.7 (6) accepts in place of a signature check, and Warden verifies
 * it fully when it is presented.
 *
 * @param issuer the {@code iss} claim
 * @param audience the {@code aud} claim
 * @param subject the {@code sub} claim
 * @param email the {@code email} claim, if any
 * @param preferredUsername the {@code preferred_username} claim, if any
 * @param expiresAt the {@code exp} claim
 * @param nonce the {@code nonce} claim, if any
 */
public record TokenClaims(
    String issuer,
    List<String> audience,
    String subject,
    Optional<String> email,
    Optional<String> preferredUsername,
    Instant expiresAt,
    Optional<String> nonce) {
  public TokenClaims {
    Objects.requireNonNull(issuer, "issuer");
    audience = List.copyOf(audience);
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(preferredUsername, "preferredUsername");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(nonce, "nonce");
  }

  /** The longest ID token read; Warden's verifier refuses longer ones too (THREATS AU06). */
  static final int MAX_TOKEN_CHARS = 16 * 1024;

  /**
   * Reads the claims of an ID token.
   *
   * @throws LoginException when it is not a JWT with {@code iss}, {@code sub} and {@code exp}
   */
  public static TokenClaims of(Secret idToken) {
    String text = idToken.reveal();
    if (text.length() > MAX_TOKEN_CHARS) {
      throw new LoginException(
          "the provider's ID token is longer than " + MAX_TOKEN_CHARS + " characters");
    }
    JWTClaimsSet claims;
    try {
      claims = JWTParser.parse(text).getJWTClaimsSet();
    } catch (ParseException e) {
      // The parser's message may quote the token; say only what is wrong.
      throw new LoginException("the provider's ID token is not a valid JWT");
    }
    String issuer = claims.getIssuer();
    String subject = claims.getSubject();
    if (issuer == null || subject == null || claims.getExpirationTime() == null) {
      throw new LoginException("the provider's ID token lacks an iss, sub or exp claim");
    }
    return new TokenClaims(
        issuer,
        claims.getAudience() == null ? List.of() : claims.getAudience(),
        subject,
        stringClaim(claims, "email"),
        stringClaim(claims, "preferred_username"),
        claims.getExpirationTime().toInstant(),
        stringClaim(claims, "nonce"));
  }

  private static Optional<String> stringClaim(JWTClaimsSet claims, String name) {
    return claims.getClaim(name) instanceof String s && !s.isBlank()
        ? Optional.of(s)
        : Optional.empty();
  }

  /**
   * The name to log in to Warden with: {@code email}, else {@code preferred_username}, else {@code
   * sub}, matching the {@code user-claims} Warden checks by default.
   */
  public String userName() {
    return email.or(() -> preferredUsername).orElse(subject);
  }
}

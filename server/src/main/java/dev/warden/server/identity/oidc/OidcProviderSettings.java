package dev.warden.server.identity.oidc;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One OpenID Connect provider whose tokens Warden accepts as passwords, and how its tokens are
 * checked. The compact constructor refuses anything unsafe or meaningless with a message naming the
 * setting, so a configuration error is caught when Warden starts.
 *
 * @param name a short name for logs and audit (e.g. {@code corp})
 * @param issuer the issuer exactly as tokens' {@code iss} and the discovery document spell it;
 *     {@code https}, or {@code http} on a loopback address (tests)
 * @param audiences the token's {@code aud} must contain one of them
 * @param clientId the client {@code warden login} uses; also accepted as {@code azp}
 * @param userClaims the claims tried in order to match the login name; the first equal one wins
 *     ({@code email} compared ignoring case)
 * @param groupsClaim the claim holding the groups, or a dotted path into nested objects such as
 *     Keycloak's {@code realm_access.roles} (a top-level claim with that exact name wins)
 * @param clockSkew how far {@code exp}, {@code nbf} and {@code iat} may be off
 * @param jwksMinRefreshInterval at most one key fetch per interval, however many tokens name an
 *     unknown key (THREATS AU05)
 * @param cacheLifetime how long fetched keys and the discovery document are used before they are
 *     fetched again; with the provider down, logins are refused after this (fail closed)
 * @param allowedAlgorithms JWS algorithms accepted; empty means whatever each key's JWKS entry
 *     names in {@code alg}, else what its type supports. Never {@code none} or HMAC
 * @param requiredClaims claims the token must carry with these values (a string claim equal to it,
 *     or an array claim containing it)
 * @param requireVerifiedEmail matching the login name on {@code email} needs {@code email_verified:
 *     true}
 * @param jwksUri the JWKS location, skipping discovery; empty to discover it
 * @param httpTimeout the limit on each request to the provider
 */
public record OidcProviderSettings(
    String name,
    URI issuer,
    List<String> audiences,
    Optional<String> clientId,
    List<String> userClaims,
    String groupsClaim,
    Duration clockSkew,
    Duration jwksMinRefreshInterval,
    Duration cacheLifetime,
    Set<String> allowedAlgorithms,
    Map<String, String> requiredClaims,
    boolean requireVerifiedEmail,
    Optional<URI> jwksUri,
    Duration httpTimeout) {

  /** The asymmetric JWS algorithms Warden can verify (RFC 7518 §3.1, RFC 8037). */
  static final Set<String> SUPPORTED_ALGORITHMS =
      Set.of(
          "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
          "Ed25519");

  static final List<String> DEFAULT_USER_CLAIMS = List.of("email", "preferred_username", "sub");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final Pattern CLAIM = Pattern.compile("[^\\p{Cntrl}\\s]{1,128}");

  public OidcProviderSettings {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "identity provider name '"
              + name
              + "' must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    String where = "identity provider " + name + ": ";
    issuer = checkUrl(where + "issuer", issuer);
    audiences = nonBlank(where + "audience", audiences);
    Objects.requireNonNull(clientId, "clientId");
    clientId.ifPresent(c -> nonBlank(where + "client-id", List.of(c)));
    userClaims = claimNames(where + "user-claims", userClaims);
    claimNames(where + "groups-claim", List.of(Objects.requireNonNull(groupsClaim, "groupsClaim")));
    checkDuration(where + "clock-skew", clockSkew, Duration.ZERO, Duration.ofMinutes(10));
    checkDuration(
        where + "jwks-min-refresh-interval",
        jwksMinRefreshInterval,
        Duration.ofSeconds(1),
        Duration.ofDays(1));
    checkDuration(
        where + "cache-lifetime", cacheLifetime, jwksMinRefreshInterval, Duration.ofDays(7));
    allowedAlgorithms = Set.copyOf(allowedAlgorithms);
    for (String alg : allowedAlgorithms) {
      if (!SUPPORTED_ALGORITHMS.contains(alg)) {
        throw new IllegalArgumentException(
            where
                + "algorithm '"
                + alg
                + "' is not accepted"
                + (alg.equalsIgnoreCase("none")
                        || alg.toUpperCase(java.util.Locale.ROOT).startsWith("HS")
                    ? " (unsigned and shared-secret tokens never are)"
                    : "")
                + "; use some of "
                + SUPPORTED_ALGORITHMS.stream().sorted().toList());
      }
    }
    requiredClaims = Map.copyOf(requiredClaims);
    if (!requiredClaims.isEmpty()) {
      claimNames(where + "required-claims", List.copyOf(requiredClaims.keySet()));
    }
    Objects.requireNonNull(jwksUri, "jwksUri");
    jwksUri = jwksUri.map(u -> checkUrl(where + "jwks-uri", u));
    checkDuration(
        where + "http-timeout", httpTimeout, Duration.ofMillis(100), Duration.ofMinutes(1));
  }

  /** Settings with every default, for {@code issuer} and {@code audiences}. */
  public static Builder builder(String name, URI issuer, List<String> audiences) {
    return new Builder(name, issuer, audiences);
  }

  /** The URL of the provider's discovery document (OpenID Connect Discovery 1.0 §4). */
  URI discoveryUri() {
    String base = issuer.toString();
    if (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return URI.create(base + "/.well-known/openid-configuration");
  }

  /** An {@code https} URL, or {@code http} on loopback (where no one can intercept it). */
  static URI checkUrl(String what, URI url) {
    Objects.requireNonNull(url, what);
    if (!url.isAbsolute() || url.getHost() == null) {
      throw new IllegalArgumentException(what + " must be an absolute URL, not '" + url + "'");
    }
    boolean loopback = Set.of("127.0.0.1", "localhost", "[::1]", "::1").contains(url.getHost());
    if (!"https".equals(url.getScheme()) && !("http".equals(url.getScheme()) && loopback)) {
      throw new IllegalArgumentException(
          what + " must use https (plain http only on a loopback address), not '" + url + "'");
    }
    if (url.getRawQuery() != null || url.getRawFragment() != null || url.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          what + " must not carry a query, fragment or user info: '" + url + "'");
    }
    return url;
  }

  private static List<String> nonBlank(String what, List<String> values) {
    Objects.requireNonNull(values, what);
    if (values.isEmpty()) {
      throw new IllegalArgumentException(what + " needs at least one value");
    }
    for (String v : values) {
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException(what + " must not be empty");
      }
    }
    return List.copyOf(values);
  }

  private static List<String> claimNames(String what, List<String> names) {
    for (String n : nonBlank(what, names)) {
      if (!CLAIM.matcher(n).matches()) {
        throw new IllegalArgumentException(
            what + ": '" + n + "' is not a claim name (1-128 characters, no spaces)");
      }
    }
    return List.copyOf(names);
  }

  private static void checkDuration(String what, Duration d, Duration min, Duration max) {
    Objects.requireNonNull(d, what);
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          what + " must be between " + min + " and " + max + ", not " + d);
    }
  }

  /** Builds {@link OidcProviderSettings}, starting from the defaults. */
  public static final class Builder {
    private final String name;
    private final URI issuer;
    private final List<String> audiences;
    private Optional<String> clientId = Optional.empty();
    private List<String> userClaims = DEFAULT_USER_CLAIMS;
    private String groupsClaim = "groups";
    private Duration clockSkew = Duration.ofSeconds(60);
    private Duration jwksMinRefreshInterval = Duration.ofSeconds(30);
    private Duration cacheLifetime = Duration.ofMinutes(15);
    private Set<String> allowedAlgorithms = Set.of();
    private final Map<String, String> requiredClaims = new LinkedHashMap<>();
    private boolean requireVerifiedEmail = true;
    private Optional<URI> jwksUri = Optional.empty();
    private Duration httpTimeout = Duration.ofSeconds(5);

    private Builder(String name, URI issuer, List<String> audiences) {
      this.name = name;
      this.issuer = issuer;
      this.audiences = new ArrayList<>(audiences);
    }

    public Builder clientId(String clientId) {
      this.clientId = Optional.of(clientId);
      return this;
    }

    public Builder userClaims(List<String> claims) {
      this.userClaims = claims;
      return this;
    }

    public Builder groupsClaim(String claim) {
      this.groupsClaim = claim;
      return this;
    }

    public Builder clockSkew(Duration skew) {
      this.clockSkew = skew;
      return this;
    }

    public Builder jwksMinRefreshInterval(Duration interval) {
      this.jwksMinRefreshInterval = interval;
      return this;
    }

    public Builder cacheLifetime(Duration lifetime) {
      this.cacheLifetime = lifetime;
      return this;
    }

    public Builder allowedAlgorithms(Set<String> algorithms) {
      this.allowedAlgorithms = algorithms;
      return this;
    }

    public Builder requiredClaim(String claim, String value) {
      this.requiredClaims.put(claim, value);
      return this;
    }

    public Builder requireVerifiedEmail(boolean require) {
      this.requireVerifiedEmail = require;
      return this;
    }

    public Builder jwksUri(URI uri) {
      this.jwksUri = Optional.of(uri);
      return this;
    }

    public Builder httpTimeout(Duration timeout) {
      this.httpTimeout = timeout;
      return this;
    }

    public OidcProviderSettings build() {
      return new OidcProviderSettings(
          name,
          issuer,
          audiences,
          clientId,
          userClaims,
          groupsClaim,
          clockSkew,
          jwksMinRefreshInterval,
          cacheLifetime,
          allowedAlgorithms,
          requiredClaims,
          requireVerifiedEmail,
          jwksUri,
          httpTimeout);
    }
  }
}

package dev.warden.server.identity.oidc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.TokenVerifier;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Verifies OpenID Connect tokens presented as PostgreSQL passwords against one or several
 * providers, picked by the token's {@code iss} (THREATS AU01–AU07).
 *
 * <p>A token is accepted only if it is a compact JWS of bounded size and JSON ({@link CompactJws}),
 * signed with an asymmetric algorithm pinned to a key from its issuer's own JWKS ({@link
 * VerificationKey}, {@link ProviderKeys}), for one of the configured audiences (and, if it names
 * one, an authorized party Warden knows), unexpired and already valid within the clock skew,
 * carries the required claims, and names the login user in one of the configured claims. The
 * identity's expiry is the token's {@code exp}, so a session can be ended when its token ends.
 *
 * <p>All work, parsing and signature checks included, runs on the verifier's executor, never on the
 * caller's thread; network I/O is asynchronous with timeouts. Failures are {@link
 * AuthenticationFailure}s whose messages never contain the token (THREATS AU08).
 */
public final class OidcVerifier implements TokenVerifier, AutoCloseable {
  private static final int MAX_GROUPS = 256;
  private static final int MAX_GROUP_LENGTH = 256;

  private final Map<String, Provider> byIssuer = new LinkedHashMap<>();
  private final Executor executor;
  private final Clock clock;
  private final AutoCloseable owned;

  private record Provider(OidcProviderSettings settings, ProviderKeys keys) {}

  /**
   * A verifier with its own virtual-thread executor and HTTP client, closed by {@link #close()}.
   *
   * @throws IllegalArgumentException when two providers share an issuer
   */
  public OidcVerifier(List<OidcProviderSettings> providers, Clock clock) {
    this(providers, Executors.newVirtualThreadPerTaskExecutor(), clock, true);
  }

  /**
   * A verifier running its work on {@code executor} (which the caller keeps and closes) and
   * fetching keys with {@code http} (redirects should not be followed).
   */
  public OidcVerifier(
      List<OidcProviderSettings> providers, HttpClient http, Executor executor, Clock clock) {
    this.executor = executor;
    this.clock = clock;
    this.owned = null;
    register(providers, http);
  }

  private OidcVerifier(
      List<OidcProviderSettings> providers, ExecutorService executor, Clock clock, boolean own) {
    this.executor = executor;
    this.clock = clock;
    HttpClient http = defaultClient(providers, executor);
    this.owned =
        () -> {
          http.close();
          executor.close();
        };
    register(providers, http);
  }

  /** An HTTP client suited to fetching keys: no redirects, a connect timeout, HTTP/1.1. */
  public static HttpClient defaultClient(List<OidcProviderSettings> providers, Executor executor) {
    Duration connect =
        providers.stream()
            .map(OidcProviderSettings::httpTimeout)
            .max(Duration::compareTo)
            .orElse(Duration.ofSeconds(5));
    return HttpClient.newBuilder()
        .executor(executor)
        .connectTimeout(connect)
        .followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1)
        .build();
  }

  private void register(List<OidcProviderSettings> providers, HttpClient http) {
    for (OidcProviderSettings s : providers) {
      Provider previous =
          byIssuer.putIfAbsent(
              s.issuer().toString(), new Provider(s, new ProviderKeys(s, http, executor, clock)));
      if (previous != null) {
        throw new IllegalArgumentException(
            "identity providers "
                + previous.settings().name()
                + " and "
                + s.name()
                + " have the same issuer "
                + s.issuer());
      }
    }
  }

  @Override
  public boolean enabled() {
    return !byIssuer.isEmpty();
  }

  /**
   * Fetches every provider's discovery document and keys in the background, so the first login does
   * not wait for them. A provider that cannot be reached is logged and tried again when a login
   * needs it; it never stops Warden from starting.
   */
  public CompletableFuture<Void> prefetch() {
    return CompletableFuture.allOf(
        byIssuer.values().stream().map(p -> p.keys().prefetch()).toArray(CompletableFuture[]::new));
  }

  @Override
  public CompletableFuture<Identity> verify(String claimedUser, String token) {
    CompletableFuture<Identity> result = new CompletableFuture<>();
    CompletableFuture.supplyAsync(() -> parse(token), executor)
        .thenCompose(
            parsed ->
                parsed
                    .provider()
                    .keys()
                    .keysFor(parsed.jws().kid())
                    .thenApplyAsync(keys -> check(claimedUser, parsed, keys), executor))
        .whenComplete(
            (identity, failure) -> {
              if (failure == null) {
                result.complete(identity);
              } else {
                result.completeExceptionally(asFailure(failure));
              }
            });
    return result;
  }

  private record Parsed(CompactJws jws, Provider provider) {}

  private Parsed parse(String token) {
    try {
      CompactJws jws = CompactJws.parse(token);
      JsonNode iss = jws.claims().get("iss");
      if (iss == null || !iss.isTextual()) {
        throw CompactJws.invalid("the token has no issuer (iss)");
      }
      Provider provider = byIssuer.get(iss.textValue());
      if (provider == null) {
        throw CompactJws.invalid("the token's issuer is not a configured identity provider");
      }
      return new Parsed(jws, provider);
    } catch (AuthenticationFailure e) {
      throw new CompletionException(e);
    }
  }

  private Identity check(String claimedUser, Parsed parsed, ProviderKeys.KeySet keys) {
    try {
      return checkOrThrow(claimedUser, parsed, keys);
    } catch (AuthenticationFailure e) {
      throw new CompletionException(e);
    }
  }

  private Identity checkOrThrow(String claimedUser, Parsed parsed, ProviderKeys.KeySet keys)
      throws AuthenticationFailure {
    CompactJws jws = parsed.jws();
    OidcProviderSettings s = parsed.provider().settings();
    String where = " (provider " + s.name() + ")";
    verifySignature(jws, keys, where);

    JsonNode claims = jws.claims();
    List<String> audiences = strings(claims.get("aud"));
    if (audiences.stream().noneMatch(s.audiences()::contains)) {
      throw invalid("the token is for another audience" + where);
    }
    JsonNode azp = claims.get("azp");
    if (azp != null) {
      boolean known =
          azp.isTextual()
              && (s.audiences().contains(azp.textValue())
                  || s.clientId().filter(azp.textValue()::equals).isPresent());
      if (!known) {
        throw invalid("the token was issued to another client (azp)" + where);
      }
    } else if (audiences.size() > 1) {
      // OpenID Connect Core §3.1.3.7: with several audiences, azp says which client asked.
      throw invalid("the token has several audiences but no authorized party (azp)" + where);
    }

    Instant now = clock.instant();
    long skew = s.clockSkew().toSeconds();
    long exp =
        numericDate(claims, "exp", where)
            .orElseThrow(() -> invalid("the token has no expiry (exp)" + where));
    if (now.getEpochSecond() - skew >= exp) {
      throw new AuthenticationFailure(Reason.EXPIRED, "the token has expired" + where);
    }
    Optional<Long> nbf = numericDate(claims, "nbf", where);
    if (nbf.isPresent() && nbf.get() > now.getEpochSecond() + skew) {
      throw new AuthenticationFailure(Reason.EXPIRED, "the token is not valid yet (nbf)" + where);
    }
    Optional<Long> iat = numericDate(claims, "iat", where);
    if (iat.isPresent() && iat.get() > now.getEpochSecond() + skew) {
      throw new AuthenticationFailure(
          Reason.EXPIRED, "the token was issued in the future (iat)" + where);
    }

    for (Map.Entry<String, String> required : s.requiredClaims().entrySet()) {
      JsonNode value = claims.get(required.getKey());
      boolean present =
          value != null
              && (value.isArray()
                  ? strings(value).contains(required.getValue())
                  : value.isValueNode() && value.asText().equals(required.getValue()));
      if (!present) {
        throw invalid(
            "the token lacks the required claim " + required.getKey() + " or its value" + where);
      }
    }

    matchUser(claimedUser, claims, s, where);
    Set<String> groups = groups(claims, s.groupsClaim(), where);
    return new Identity(
        claimedUser,
        groups,
        AuthMethod.OIDC,
        Optional.empty(),
        Optional.of(Instant.ofEpochSecond(exp)));
  }

  private static void verifySignature(CompactJws jws, ProviderKeys.KeySet keys, String where)
      throws AuthenticationFailure {
    List<VerificationKey> candidates = new ArrayList<>();
    for (VerificationKey key : keys.keys()) {
      if (jws.kid().isEmpty() || key.kid().equals(jws.kid())) {
        candidates.add(key);
      }
    }
    if (candidates.isEmpty()) {
      throw invalid("the token is signed with a key the provider does not publish" + where);
    }
    candidates.removeIf(k -> !k.accepts(jws.alg()));
    if (candidates.isEmpty()) {
      // THREATS AU02: the algorithm is pinned per key; a known key with another alg is refused.
      throw invalid("the token's algorithm " + jws.alg() + " is not the one of its key" + where);
    }
    for (VerificationKey key : candidates) {
      if (key.verify(jws.alg(), jws.signingInput(), jws.signature())) {
        return;
      }
    }
    throw invalid("the token's signature does not verify" + where);
  }

  private static void matchUser(
      String claimedUser, JsonNode claims, OidcProviderSettings s, String where)
      throws AuthenticationFailure {
    if (claimedUser == null || claimedUser.isEmpty()) {
      throw new AuthenticationFailure(Reason.USER_MISMATCH, "no user name was given" + where);
    }
    boolean unverifiedEmail = false;
    for (String claim : s.userClaims()) {
      JsonNode value = claims.get(claim);
      if (value == null || !value.isTextual()) {
        continue;
      }
      if (claim.equals("email")) {
        if (!value.textValue().equalsIgnoreCase(claimedUser)) {
          continue;
        }
        JsonNode verified = claims.get("email_verified");
        boolean isVerified =
            verified != null
                && (verified.isBoolean() && verified.booleanValue()
                    || verified.isTextual() && verified.textValue().equals("true"));
        if (s.requireVerifiedEmail() && !isVerified) {
          unverifiedEmail = true;
          continue;
        }
        return;
      }
      if (value.textValue().equals(claimedUser)) {
        return;
      }
    }
    throw new AuthenticationFailure(
        Reason.USER_MISMATCH,
        "the user name matches none of the token's claims "
            + s.userClaims()
            + (unverifiedEmail ? " (its email matches but is not verified)" : "")
            + where);
  }

  /** The groups at {@code path}: a top-level claim of that name, else a dotted path. */
  private static Set<String> groups(JsonNode claims, String path, String where)
      throws AuthenticationFailure {
    JsonNode node = claims.get(path);
    if (node == null && path.indexOf('.') > 0) {
      node = claims;
      for (String part : path.split("\\.")) {
        node = node == null || !node.isObject() ? null : node.get(part);
      }
    }
    if (node == null || node.isNull()) {
      return Set.of();
    }
    List<JsonNode> values = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(values::add);
    } else {
      values.add(node);
    }
    if (values.size() > MAX_GROUPS) {
      throw invalid("the token has more than " + MAX_GROUPS + " groups" + where);
    }
    Set<String> groups = new HashSet<>();
    for (JsonNode v : values) {
      if (!v.isTextual()
          || v.textValue().isEmpty()
          || v.textValue().length() > MAX_GROUP_LENGTH
          || v.textValue().chars().anyMatch(Character::isISOControl)) {
        throw invalid(
            "the token's groups claim "
                + path
                + " is not a list of names (strings of 1-"
                + MAX_GROUP_LENGTH
                + " printable characters)"
                + where);
      }
      groups.add(v.textValue());
    }
    return groups;
  }

  private static Optional<Long> numericDate(JsonNode claims, String name, String where)
      throws AuthenticationFailure {
    JsonNode value = claims.get(name);
    if (value == null) {
      return Optional.empty();
    }
    // RFC 7519 §2: a NumericDate is a JSON number of seconds, possibly with a fraction.
    if (!value.isNumber() || !value.canConvertToLong()) {
      throw invalid("the token's " + name + " is not a date in seconds" + where);
    }
    return Optional.of(value.asLong());
  }

  private static List<String> strings(JsonNode node) {
    if (node == null) {
      return List.of();
    }
    if (node.isTextual()) {
      return List.of(node.textValue());
    }
    List<String> values = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(
          v -> {
            if (v.isTextual()) {
              values.add(v.textValue());
            }
          });
    }
    return values;
  }

  private static AuthenticationFailure asFailure(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof AuthenticationFailure a) {
      return a;
    }
    // An unexpected error fails closed; its message could quote input, so only its type is kept.
    return new AuthenticationFailure(
        Reason.TOKEN_INVALID,
        "the token could not be verified (" + cause.getClass().getName() + ")");
  }

  private static AuthenticationFailure invalid(String detail) {
    return new AuthenticationFailure(Reason.TOKEN_INVALID, detail);
  }

  @Override
  public void close() throws Exception {
    if (owned != null) {
      owned.close();
    }
  }
}

package dev.warden.server.api;

import dev.warden.core.audit.AuditTrail;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.identity.login.BrowserFlow;
import dev.warden.server.identity.login.ClientRegistration;
import dev.warden.server.identity.login.LoginException;
import dev.warden.server.identity.login.OidcClient;
import dev.warden.server.identity.login.Pkce;
import dev.warden.server.identity.login.ProviderMetadata;
import dev.warden.server.identity.login.TokenClaims;
import dev.warden.server.identity.login.Tokens;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signing in to the console through the identity provider: the OpenID Connect authorization code
 * flow with PKCE, for every configured provider that has a {@code client-id}.
 *
 * <ul>
 *   <li>{@code GET /api/session/providers}: the providers a person may sign in with
 *       (unauthenticated: the sign-in page lists them);
 *   <li>{@code GET /login/oidc/{provider}?return=/path}: starts a sign-in: a one-time state, nonce
 *       and PKCE verifier kept here for {@link #PENDING_LIFETIME}, the state also in a cookie
 *       scoped to {@code /login/oidc} (so the answer must come back to the same browser), and a
 *       redirect to the provider;
 *   <li>{@code GET /login/oidc/callback?code&state}: the provider's answer: the state must be
 *       pending and match the cookie (used once), the code is exchanged at the token endpoint with
 *       the verifier, and the ID token is verified exactly as a database login's ({@code
 *       OidcVerifier}: signature, issuer, audience, expiry, the nonce sent); the person then has a
 *       console session ending when the token does (or earlier, by the console's own limits), and
 *       the browser goes back to where it was.
 * </ul>
 *
 * Every sign-in, successful or not, is recorded as an {@code authenticate} event ({@code method:
 * oidc}, {@code via: console}). Nothing of a token reaches a page, a log or the trail.
 */
public final class ConsoleOidcRoutes implements RouteGroup {
  private static final Logger LOG = LoggerFactory.getLogger(ConsoleOidcRoutes.class);
  private static final String JSON = "application/json; charset=utf-8";

  /** The cookie that binds a sign-in's state to the browser that started it. */
  static final String STATE_COOKIE = "warden_oidc_state";

  static final String CALLBACK = "/login/oidc/callback";

  /** How long a started sign-in may take at the provider. */
  static final Duration PENDING_LIFETIME = Duration.ofMinutes(10);

  /** Sign-ins waiting at once, at most (a flood of starts cannot fill memory). */
  static final int MAX_PENDING = 10_000;

  /** How long discovery metadata is reused. */
  private static final Duration METADATA_LIFETIME = Duration.ofHours(1);

  private record Pending(
      OidcProviderSettings provider,
      String verifier,
      String nonce,
      String returnTo,
      URI redirect,
      Instant started) {}

  private record Metadata(ProviderMetadata metadata, Instant fetched) {}

  private final List<OidcProviderSettings> providers;
  private final TokenVerifier verifier;
  private final OidcClient oidc;
  private final AuditTrail trail;
  private final Clock clock;
  private final SecureRandom random;
  private final AuditJson json = new AuditJson();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final Map<String, Metadata> metadata = new ConcurrentHashMap<>();
  private ConsoleSessions sessions;

  ConsoleOidcRoutes(
      List<OidcProviderSettings> providers,
      TokenVerifier verifier,
      OidcClient oidc,
      AuditTrail trail,
      Clock clock,
      SecureRandom random) {
    this.providers = providers.stream().filter(p -> p.clientId().isPresent()).toList();
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.oidc = Objects.requireNonNull(oidc, "oidc");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * Console sign-in through {@code providers} (those without a {@code client-id} are left out),
   * their ID tokens verified by {@code verifier}.
   */
  public static ConsoleOidcRoutes of(
      List<OidcProviderSettings> providers,
      TokenVerifier verifier,
      AuditTrail trail,
      Clock clock,
      SecureRandom random) {
    return new ConsoleOidcRoutes(
        providers,
        verifier,
        new OidcClient(OidcClient.defaultHttpClient(), clock),
        trail,
        clock,
        random);
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    throw new IllegalStateException("registered by ApiServer with the console's sessions");
  }

  /** Registers the endpoints, signing people in to {@code sessions}. */
  void register(RoutesConfig routes, ConsoleSessions sessions) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    routes.get("/api/session/providers", this::list);
    routes.get(CALLBACK, this::callback);
    routes.get("/login/oidc/{provider}", this::start);
  }

  private void list(Context ctx) {
    List<Object> out = new ArrayList<>();
    for (OidcProviderSettings p : providers) {
      out.add(Map.of("name", p.name(), "url", "/login/oidc/" + p.name()));
    }
    ctx.status(200).contentType(JSON).result(json.write(Map.of("providers", out)));
  }

  private void start(Context ctx) {
    String name = ctx.pathParam("provider");
    OidcProviderSettings provider =
        providers.stream()
            .filter(p -> p.name().equals(name))
            .findFirst()
            .orElseThrow(
                () ->
                    new ApiServer.ApiError(
                        404,
                        "no identity provider named "
                            + ApiRequests.shorten(name)
                            + " signs people in to the console"));
    ProviderMetadata meta = metadata(provider);
    prune();
    if (pending.size() >= MAX_PENDING) {
      throw new ApiServer.ApiError(503, "too many sign-ins are under way; try again shortly");
    }
    Pkce pkce = Pkce.generate(random);
    String state = Pkce.randomToken(random);
    String nonce = Pkce.randomToken(random);
    URI redirect = URI.create(origin(ctx) + CALLBACK);
    pending.put(
        state,
        new Pending(
            provider,
            pkce.verifier(),
            nonce,
            returnTo(ctx.queryParam("return")),
            redirect,
            clock.instant()));
    Cookie cookie = new Cookie(STATE_COOKIE, state);
    cookie.setHttpOnly(true);
    // Lax: the provider's redirect back is a top-level GET from another site.
    cookie.setSameSite(SameSite.LAX);
    cookie.setPath("/login/oidc");
    cookie.setMaxAge((int) PENDING_LIFETIME.toSeconds());
    cookie.setSecure("https".equalsIgnoreCase(ctx.scheme()));
    ctx.cookie(cookie);
    Map<String, String> params = new LinkedHashMap<>();
    params.put("response_type", "code");
    params.put("client_id", provider.clientId().orElseThrow());
    params.put("redirect_uri", redirect.toString());
    params.put("scope", ClientRegistration.DEFAULT_SCOPE);
    params.put("state", state);
    params.put("nonce", nonce);
    params.put("code_challenge", pkce.challenge());
    params.put("code_challenge_method", "S256");
    ctx.redirect(BrowserFlow.authorizationUri(meta.authorizationEndpoint(), params).toString());
  }

  private void callback(Context ctx) throws InterruptedException {
    String state = ctx.queryParam("state");
    Pending p = state == null ? null : pending.remove(state);
    String cookie = ctx.cookie(STATE_COOKIE);
    ctx.removeCookie(STATE_COOKIE, "/login/oidc");
    if (p == null
        || cookie == null
        || !java.security.MessageDigest.isEqual(
            cookie.getBytes(StandardCharsets.US_ASCII), state.getBytes(StandardCharsets.US_ASCII))
        || clock.instant().isAfter(p.started().plus(PENDING_LIFETIME))) {
      record(p == null ? "" : p.provider().name(), "", ctx, false, "unknown-or-replayed-state");
      failed(ctx, "this sign-in is unknown, expired or was already used; sign in again");
      return;
    }
    String error = ctx.queryParam("error");
    if (error != null) {
      record(p.provider().name(), "", ctx, false, "provider-refused");
      failed(ctx, "the identity provider refused the sign-in: " + ApiRequests.shorten(error));
      return;
    }
    String code = ctx.queryParam("code");
    if (code == null || code.isEmpty()) {
      record(p.provider().name(), "", ctx, false, "no-code");
      failed(ctx, "the identity provider sent no authorization code");
      return;
    }
    Identity identity;
    Instant until;
    try {
      ClientRegistration client =
          new ClientRegistration(
              p.provider().issuer(),
              p.provider().clientId().orElseThrow(),
              Optional.empty(),
              ClientRegistration.DEFAULT_SCOPE);
      Tokens tokens =
          oidc.exchangeCode(
              metadata(p.provider()),
              client,
              code,
              p.redirect(),
              p.verifier(),
              Optional.of(p.nonce()));
      identity = verify(tokens);
      until = tokens.idTokenExpiresAt();
    } catch (LoginException | AuthenticationFailure e) {
      record(p.provider().name(), "", ctx, false, e.getMessage());
      failed(ctx, "the sign-in could not be completed: " + e.getMessage());
      return;
    }
    ConsoleSessions.Session session = sessions.createExternal(identity, until);
    ConsoleSessions.setCookie(ctx, session);
    record(p.provider().name(), identity.name(), ctx, true, "");
    ctx.redirect(p.returnTo());
  }

  /**
   * The identity the ID token proves. The name to check it for is the one of its claims the
   * provider's {@code user-claims} accept: e-mail, then preferred user name, then subject.
   */
  private Identity verify(Tokens tokens) throws AuthenticationFailure, InterruptedException {
    TokenClaims claims = TokenClaims.of(tokens.idToken());
    Set<String> names = new LinkedHashSet<>();
    claims.email().ifPresent(names::add);
    claims.preferredUsername().ifPresent(names::add);
    names.add(claims.subject());
    AuthenticationFailure last = null;
    for (String name : names) {
      try {
        return verifier.verify(name, tokens.idToken().reveal()).get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof AuthenticationFailure f) {
          last = f;
          if (f.reason() != AuthenticationFailure.Reason.USER_MISMATCH) {
            throw f;
          }
        } else {
          throw new LoginException("the ID token could not be verified: " + e.getCause());
        }
      } catch (TimeoutException e) {
        throw new LoginException("the identity provider's keys could not be had in time");
      }
    }
    throw last;
  }

  /** The sign-in page, saying why the sign-in failed. */
  private static void failed(Context ctx, String why) {
    ctx.redirect("/login?error=" + URLEncoder.encode(why, StandardCharsets.UTF_8));
  }

  private ProviderMetadata metadata(OidcProviderSettings provider) {
    Metadata m = metadata.get(provider.name());
    Instant now = clock.instant();
    if (m == null || now.isAfter(m.fetched().plus(METADATA_LIFETIME))) {
      try {
        m = new Metadata(oidc.discover(provider.issuer()), now);
      } catch (LoginException e) {
        LOG.warn("console sign-in: provider {} unreachable: {}", provider.name(), e.getMessage());
        throw new ApiServer.ApiError(
            503,
            "the identity provider " + provider.name() + " cannot be reached: " + e.getMessage());
      }
      metadata.put(provider.name(), m);
    }
    return m.metadata();
  }

  /** Where to go after signing in: a path on this site, never another site. */
  static String returnTo(String requested) {
    if (requested == null
        || !requested.startsWith("/")
        || requested.startsWith("//")
        || requested.contains("\\")
        || requested.startsWith("/login")
        || requested.length() > 2000
        || requested.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      return "/";
    }
    return requested;
  }

  /** This console's origin as the browser addresses it. */
  private static String origin(Context ctx) {
    String host = ctx.header("Host");
    if (host == null || !host.matches("[A-Za-z0-9.\\-\\[\\]:]{1,255}")) {
      throw new ApiServer.ApiError(400, "the request has no valid Host header");
    }
    return ("https".equalsIgnoreCase(ctx.scheme()) ? "https" : "http") + "://" + host;
  }

  private void prune() {
    Instant cutoff = clock.instant().minus(PENDING_LIFETIME);
    pending.values().removeIf(p -> p.started().isBefore(cutoff));
  }

  private void record(String provider, String user, Context ctx, boolean success, String reason) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("method", "oidc");
    details.put("via", "console");
    details.put("provider", provider);
    details.put("source", ctx.ip());
    if (!success) {
      details.put("reason", ApiRequests.shorten(reason));
    }
    ConsoleSessions.recordSignIn(trail, clock, user, success, details);
  }
}

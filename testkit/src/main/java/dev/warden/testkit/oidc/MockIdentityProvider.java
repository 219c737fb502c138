package dev.warden.testkit.oidc;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * An OpenID Connect provider running in the test's JVM on 127.0.0.1 (THREATS H10), so that token
 * verification, {@code warden login} and the proxy's OIDC logins are tested against real HTTP, real
 * discovery, real JWKS and real OAuth grants rather than mocks of them.
 *
 * <p>It serves discovery, a JWKS with RSA, EC and Ed25519 keys that tests rotate, the authorization
 * code grant with PKCE (S256), the device authorization grant (RFC 8628), refresh tokens and client
 * credentials. Tests sign in a user for the browser flow ({@link #signIn}), approve or deny device
 * codes ({@link #approveDevice}), mint good and malicious tokens ({@link #token()}), count requests
 * per endpoint ({@link #requests}) and make the provider fail ({@link #availability}).
 *
 * <p>Times (token lifetimes, code and device code expiry, slow-down) follow the injected clock, so
 * tests move time instead of sleeping.
 */
public final class MockIdentityProvider implements AutoCloseable {
  /** The provider's endpoints, for {@link #requests(Endpoint)}. */
  public enum Endpoint {
    DISCOVERY("/.well-known/openid-configuration"),
    JWKS("/jwks"),
    AUTHORIZE("/authorize"),
    TOKEN("/token"),
    DEVICE_AUTHORIZATION("/device_authorization"),
    DEVICE_PAGE("/device"),
    /**
     * The attacker's JWKS that malicious {@code jku}/{@code x5u} headers name; never to be used.
     */
    ATTACKER_JWKS("/attacker/jwks");

    private final String path;

    Endpoint(String path) {
      this.path = path;
    }

    public String path() {
      return path;
    }
  }

  /** How the provider answers. */
  public enum Availability {
    /** Normally. */
    UP,
    /** 503 Service Unavailable to every request. */
    UNAVAILABLE,
    /** Drops each connection without a complete response. */
    CLOSED,
    /** Holds each request unanswered until the availability changes or the provider closes. */
    HANG
  }

  private static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9\\-._~]{43,128}");
  private static final String USER_CODE_LETTERS = "BCDFGHJKLMNPQRSTVWXZ";
  private static final String DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

  private final Clock clock;
  private final HttpServer server;
  private final ExecutorService executor;
  private final URI issuer;
  private final SecureRandom random = new SecureRandom();
  private final Map<Endpoint, AtomicInteger> counters = new EnumMap<>(Endpoint.class);
  private final Object availabilityLock = new Object();
  private MockSigningKey attackerKey; // guarded by this; made when first needed

  // Guarded by this.
  private final Map<String, MockSigningKey> keys = new LinkedHashMap<>();
  private final Map<String, MockUser> users = new HashMap<>();
  private final Map<String, MockClient> clients = new HashMap<>();
  private final Map<String, AuthCode> codes = new HashMap<>();
  private final Map<String, DeviceGrant> deviceGrants = new HashMap<>();
  private final Map<String, RefreshGrant> refreshGrants = new HashMap<>();
  private String signingKid;
  private String signedInSubject;
  private String accessTokenAudience = "warden";
  private Duration tokenLifetime = Duration.ofMinutes(5);
  private Duration deviceCodeLifetime = Duration.ofMinutes(10);
  private Duration deviceInterval = Duration.ofSeconds(5);
  private String lastUserCode;
  private String discoveryIssuer;
  private String jwksBody;
  private Availability availability = Availability.UP; // guarded by availabilityLock
  private String attackerCertificate;

  private MockIdentityProvider(Clock clock) throws IOException {
    this.clock = clock;
    for (Endpoint e : Endpoint.values()) {
      counters.put(e, new AtomicInteger());
    }
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    issuer = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    addKey(MockSigningKey.rsa("rsa-1", "RS256", true));
    addKey(MockSigningKey.ec("ec-1", true));
    addClient(MockClient.publicLoopback("warden-cli"));
    server.start();
  }

  /** Starts a provider on an ephemeral loopback port, with the system clock. */
  public static MockIdentityProvider start() {
    return start(Clock.systemUTC());
  }

  /**
   * Starts a provider on an ephemeral loopback port. It has keys {@code rsa-1} (RS256, the one it
   * signs with) and {@code ec-1} (ES256), and a public client {@code warden-cli} that may redirect
   * to any loopback URI.
   */
  public static MockIdentityProvider start(Clock clock) {
    try {
      return new MockIdentityProvider(clock);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the mock identity provider", e);
    }
  }

  /** The issuer, {@code http://127.0.0.1:<port>}. */
  public URI issuer() {
    return issuer;
  }

  public URI discoveryUri() {
    return endpoint(Endpoint.DISCOVERY);
  }

  public URI jwksUri() {
    return endpoint(Endpoint.JWKS);
  }

  public URI authorizationEndpoint() {
    return endpoint(Endpoint.AUTHORIZE);
  }

  public URI tokenEndpoint() {
    return endpoint(Endpoint.TOKEN);
  }

  public URI deviceAuthorizationEndpoint() {
    return endpoint(Endpoint.DEVICE_AUTHORIZATION);
  }

  /** Where the attacker's JWKS is served; a verifier must never fetch it. */
  public URI attackerJwksUri() {
    return endpoint(Endpoint.ATTACKER_JWKS);
  }

  public URI endpoint(Endpoint endpoint) {
    return URI.create(issuer + endpoint.path());
  }

  // ---- keys

  /** Publishes a new RSA key (RS256, {@code alg} in the JWKS). */
  public MockSigningKey addRsaKey(String kid) {
    return addKey(MockSigningKey.rsa(kid, "RS256", true));
  }

  /** Publishes a new EC P-256 key (ES256, {@code alg} in the JWKS). */
  public MockSigningKey addEcKey(String kid) {
    return addKey(MockSigningKey.ec(kid, true));
  }

  /** Publishes a new Ed25519 key (EdDSA, {@code alg} in the JWKS). */
  public MockSigningKey addEd25519Key(String kid) {
    return addKey(MockSigningKey.ed25519(kid, true));
  }

  /**
   * Publishes {@code key} in the JWKS. The first key published is the one tokens are signed with.
   */
  public synchronized MockSigningKey addKey(MockSigningKey key) {
    keys.put(key.kid(), key);
    if (signingKid == null) {
      signingKid = key.kid();
    }
    return key;
  }

  /** Removes a key from the JWKS (rotation). */
  public synchronized void removeKey(String kid) {
    keys.remove(kid);
    if (kid.equals(signingKid)) {
      signingKid = keys.isEmpty() ? null : keys.keySet().iterator().next();
    }
  }

  /** Makes {@code kid} the key issued and minted tokens are signed with. */
  public synchronized void signWith(String kid) {
    key(kid);
    signingKid = kid;
  }

  /** A published key. */
  public synchronized MockSigningKey key(String kid) {
    MockSigningKey key = keys.get(kid);
    if (key == null) {
      throw new IllegalArgumentException("no key " + kid + "; keys are " + keys.keySet());
    }
    return key;
  }

  public synchronized List<String> keyIds() {
    return List.copyOf(keys.keySet());
  }

  /** A key never published in the JWKS (served only at {@link #attackerJwksUri()}). */
  public synchronized MockSigningKey attackerKey() {
    if (attackerKey == null) {
      attackerKey = MockSigningKey.rsa("attacker", "RS256", true);
    }
    return attackerKey;
  }

  /** A token builder with valid defaults, signed with the current signing key. */
  public synchronized TokenBuilder token() {
    if (signingKid == null) {
      throw new IllegalStateException("the provider has no keys");
    }
    return new TokenBuilder(this, keys.get(signingKid), clock.instant());
  }

  // ---- users, clients and grants

  public synchronized void addUser(MockUser user) {
    users.put(user.subject(), user);
  }

  public synchronized void addClient(MockClient client) {
    clients.put(client.clientId(), client);
  }

  /** The browser's signed-in user: {@code /authorize} issues codes for this subject. */
  public synchronized void signIn(String subject) {
    signedInSubject = subject;
  }

  /** Nobody is signed in: {@code /authorize} redirects with {@code error=login_required}. */
  public synchronized void signOut() {
    signedInSubject = null;
  }

  /** The {@code aud} of issued access tokens (default {@code warden}). */
  public synchronized void accessTokenAudience(String audience) {
    accessTokenAudience = audience;
  }

  /** How long issued tokens live (default 5 minutes). */
  public synchronized void tokenLifetime(Duration lifetime) {
    tokenLifetime = lifetime;
  }

  /** The device codes' lifetime (default 10 min) and polling interval (default 5 s; 0 for none). */
  public synchronized void deviceCodes(Duration lifetime, Duration interval) {
    deviceCodeLifetime = lifetime;
    deviceInterval = interval;
  }

  /** The user code of the latest device authorization request, if any. */
  public synchronized Optional<String> lastUserCode() {
    return Optional.ofNullable(lastUserCode);
  }

  /** The user approves the device request {@code userCode} as {@code subject}. */
  public synchronized void approveDevice(String userCode, String subject) {
    DeviceGrant grant = deviceGrant(userCode);
    grant.status = DeviceStatus.APPROVED;
    grant.subject = subject;
  }

  /** The user denies the device request {@code userCode}. */
  public synchronized void denyDevice(String userCode) {
    deviceGrant(userCode).status = DeviceStatus.DENIED;
  }

  /** Every refresh token issued so far stops working. */
  public synchronized void revokeRefreshTokens() {
    refreshGrants.clear();
  }

  // ---- failures and counters

  /** Requests made to {@code endpoint} so far (including failed ones). */
  public int requests(Endpoint endpoint) {
    return counters.get(endpoint).get();
  }

  public void resetCounters() {
    counters.values().forEach(c -> c.set(0));
  }

  public void availability(Availability availability) {
    synchronized (availabilityLock) {
      this.availability = availability;
      availabilityLock.notifyAll();
    }
  }

  /** Serves {@code issuer} in the discovery document instead of the real one (null to undo). */
  public synchronized void discoveryIssuer(String issuer) {
    discoveryIssuer = issuer;
  }

  /** Serves {@code body} as the JWKS instead of the keys (null to undo). */
  public synchronized void jwksBody(String body) {
    jwksBody = body;
  }

  @Override
  public void close() {
    availability(Availability.UP);
    server.stop(0);
    executor.shutdownNow();
  }

  // ---- HTTP

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      Endpoint endpoint = null;
      for (Endpoint e : Endpoint.values()) {
        if (e.path.equals(path)) {
          endpoint = e;
        }
      }
      if (endpoint == null) {
        respond(exchange, 404, "text/plain", "not found");
        return;
      }
      counters.get(endpoint).incrementAndGet();
      if (!available(exchange)) {
        return;
      }
      switch (endpoint) {
        case DISCOVERY -> respondJson(exchange, 200, discovery());
        case JWKS -> respond(exchange, 200, "application/json", jwks());
        case ATTACKER_JWKS ->
            respondJson(
                exchange, 200, Map.of("keys", List.of(attackerKey().publicJwk().toJSONObject())));
        case AUTHORIZE -> authorize(exchange);
        case TOKEN -> token(exchange);
        case DEVICE_AUTHORIZATION -> deviceAuthorization(exchange);
        case DEVICE_PAGE -> respond(exchange, 200, "text/plain", "Enter the code shown.");
      }
    } catch (RuntimeException e) {
      respond(exchange, 500, "text/plain", "mock provider failure: " + e);
    }
  }

  private boolean available(HttpExchange exchange) throws IOException {
    Availability now;
    synchronized (availabilityLock) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (availability == Availability.HANG && System.nanoTime() < deadline) {
        try {
          availabilityLock.wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      now = availability;
    }
    switch (now) {
      case UP -> {
        return true;
      }
      case UNAVAILABLE -> respond(exchange, 503, "text/plain", "unavailable");
      case CLOSED, HANG -> {
        // Closing an exchange before its response headers are sent closes the connection: the
        // client sees it end without an answer.
      }
    }
    return false;
  }

  private synchronized Map<String, Object> discovery() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("issuer", discoveryIssuer != null ? discoveryIssuer : issuer.toString());
    d.put("authorization_endpoint", authorizationEndpoint().toString());
    d.put("token_endpoint", tokenEndpoint().toString());
    d.put("device_authorization_endpoint", deviceAuthorizationEndpoint().toString());
    d.put("jwks_uri", jwksUri().toString());
    d.put("response_types_supported", List.of("code"));
    d.put("response_modes_supported", List.of("query"));
    d.put(
        "grant_types_supported",
        List.of("authorization_code", DEVICE_GRANT, "refresh_token", "client_credentials"));
    d.put("subject_types_supported", List.of("public"));
    d.put("id_token_signing_alg_values_supported", List.of("RS256", "ES256", "EdDSA"));
    d.put("code_challenge_methods_supported", List.of("S256"));
    d.put(
        "token_endpoint_auth_methods_supported",
        List.of("none", "client_secret_basic", "client_secret_post"));
    d.put("scopes_supported", List.of("openid", "email", "profile", "groups", "offline_access"));
    d.put(
        "claims_supported",
        List.of("sub", "iss", "aud", "exp", "iat", "email", "email_verified", "groups"));
    return d;
  }

  private synchronized String jwks() {
    if (jwksBody != null) {
      return jwksBody;
    }
    List<Object> list = new ArrayList<>();
    for (MockSigningKey key : keys.values()) {
      list.add(key.publicJwk().toJSONObject());
    }
    return TokenBuilder.write(Map.of("keys", list));
  }

  private void authorize(HttpExchange exchange) throws IOException {
    Map<String, String> q = form(exchange.getRequestURI().getRawQuery());
    String redirect;
    synchronized (this) {
      MockClient client = clients.get(q.getOrDefault("client_id", ""));
      if (client == null) {
        respond(exchange, 400, "text/plain", "unknown client_id");
        return;
      }
      String redirectUri = q.get("redirect_uri");
      if (redirectUri == null || !redirectAllowed(client, redirectUri)) {
        // RFC 6749 §4.1.2.1: never redirect to an unverified URI.
        respond(exchange, 400, "text/plain", "redirect_uri not registered for this client");
        return;
      }
      Map<String, String> answer = new LinkedHashMap<>();
      String challenge = q.get("code_challenge");
      if (!"code".equals(q.get("response_type"))) {
        answer.put("error", "unsupported_response_type");
      } else if (client.secret().isEmpty() && challenge == null) {
        answer.put("error", "invalid_request");
        answer.put("error_description", "PKCE is required for public clients");
      } else if (challenge != null && !"S256".equals(q.get("code_challenge_method"))) {
        answer.put("error", "invalid_request");
        answer.put("error_description", "code_challenge_method must be S256");
      } else if (signedInSubject == null) {
        answer.put("error", "login_required");
      } else {
        String code = randomToken();
        codes.put(
            code,
            new AuthCode(
                client.clientId(),
                redirectUri,
                Optional.ofNullable(challenge),
                signedInSubject,
                q.getOrDefault("scope", "openid"),
                Optional.ofNullable(q.get("nonce")),
                clock.instant().plusSeconds(60)));
        answer.put("code", code);
      }
      if (q.containsKey("state")) {
        answer.put("state", q.get("state"));
      }
      answer.put("iss", issuer.toString());
      redirect = redirectUri + (redirectUri.contains("?") ? "&" : "?") + encodeForm(answer);
    }
    exchange.getResponseHeaders().set("Location", redirect);
    exchange.sendResponseHeaders(302, -1);
  }

  private static boolean redirectAllowed(MockClient client, String redirectUri) {
    URI uri;
    try {
      uri = URI.create(redirectUri);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (uri.getFragment() != null) {
      return false;
    }
    boolean loopback =
        "http".equals(uri.getScheme())
            && List.of("127.0.0.1", "localhost", "[::1]").contains(uri.getHost());
    if (client.anyLoopbackRedirect() && loopback) {
      return true;
    }
    for (String registered : client.redirectUris()) {
      URI r = URI.create(registered);
      if (registered.equals(redirectUri)) {
        return true;
      }
      if (loopback
          && r.getScheme().equals(uri.getScheme())
          && r.getHost().equals(uri.getHost())
          && r.getPath().equals(uri.getPath())
          && java.util.Objects.equals(r.getQuery(), uri.getQuery())) {
        return true; // RFC 8252 §7.3: any port on loopback.
      }
    }
    return false;
  }

  private void token(HttpExchange exchange) throws IOException {
    if (!"POST".equals(exchange.getRequestMethod())) {
      tokenError(exchange, 405, "invalid_request", "use POST");
      return;
    }
    Map<String, String> f = form(readBody(exchange));
    Optional<MockClient> client = authenticateClient(exchange, f);
    if (client.isEmpty()) {
      tokenError(exchange, 401, "invalid_client", "unknown client or bad credentials");
      return;
    }
    String grant = f.getOrDefault("grant_type", "");
    switch (grant) {
      case "authorization_code" -> authorizationCodeGrant(exchange, client.get(), f);
      case DEVICE_GRANT -> deviceCodeGrant(exchange, client.get(), f);
      case "refresh_token" -> refreshGrant(exchange, client.get(), f);
      case "client_credentials" -> {
        if (client.get().secret().isEmpty()) {
          tokenError(exchange, 400, "unauthorized_client", "public clients have no credentials");
        } else {
          respondJson(
              exchange,
              200,
              issue(
                  client.get(), client.get().clientId(), f.getOrDefault("scope", ""), null, false));
        }
      }
      default -> tokenError(exchange, 400, "unsupported_grant_type", "grant_type " + grant);
    }
  }

  private synchronized Optional<MockClient> authenticateClient(
      HttpExchange exchange, Map<String, String> f) {
    String id = f.get("client_id");
    String secret = f.get("client_secret");
    String basic = exchange.getRequestHeaders().getFirst("Authorization");
    if (basic != null && basic.regionMatches(true, 0, "Basic ", 0, 6)) {
      String decoded;
      try {
        decoded =
            new String(
                Base64.getDecoder().decode(basic.substring(6).trim()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return Optional.empty();
      }
      id = URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8);
      secret = URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8);
    }
    MockClient client = id == null ? null : clients.get(id);
    if (client == null) {
      return Optional.empty();
    }
    if (client.secret().isPresent() && !client.secret().get().equals(secret)) {
      return Optional.empty();
    }
    return Optional.of(client);
  }

  private void authorizationCodeGrant(
      HttpExchange exchange, MockClient client, Map<String, String> f) throws IOException {
    Map<String, Object> tokens;
    synchronized (this) {
      AuthCode code = codes.remove(f.getOrDefault("code", ""));
      if (code == null || clock.instant().isAfter(code.expiresAt())) {
        tokenError(exchange, 400, "invalid_grant", "unknown, used or expired code");
        return;
      }
      if (!code.clientId().equals(client.clientId())) {
        tokenError(exchange, 400, "invalid_grant", "code issued to another client");
        return;
      }
      if (!code.redirectUri().equals(f.get("redirect_uri"))) {
        tokenError(exchange, 400, "invalid_grant", "redirect_uri differs from the authorization");
        return;
      }
      if (code.challenge().isPresent()) {
        String verifier = f.get("code_verifier");
        if (verifier == null || !VERIFIER.matcher(verifier).matches()) {
          tokenError(exchange, 400, "invalid_grant", "missing or malformed code_verifier");
          return;
        }
        if (!s256(verifier).equals(code.challenge().get())) {
          tokenError(exchange, 400, "invalid_grant", "code_verifier does not match");
          return;
        }
      } else if (f.containsKey("code_verifier")) {
        tokenError(exchange, 400, "invalid_grant", "no code_challenge was sent");
        return;
      }
      tokens = issue(client, code.subject(), code.scope(), code.nonce().orElse(null), true);
    }
    respondJson(exchange, 200, tokens);
  }

  private void deviceCodeGrant(HttpExchange exchange, MockClient client, Map<String, String> f)
      throws IOException {
    Map<String, Object> tokens;
    synchronized (this) {
      DeviceGrant grant = deviceGrants.get(f.getOrDefault("device_code", ""));
      if (grant == null || !grant.clientId.equals(client.clientId())) {
        tokenError(exchange, 400, "invalid_grant", "unknown device_code");
        return;
      }
      Instant now = clock.instant();
      if (now.isAfter(grant.expiresAt)) {
        tokenError(exchange, 400, "expired_token", "the device code expired");
        return;
      }
      switch (grant.status) {
        case DENIED -> {
          tokenError(exchange, 400, "access_denied", "the user denied the request");
          return;
        }
        case CONSUMED -> {
          tokenError(exchange, 400, "invalid_grant", "the device code was already used");
          return;
        }
        case PENDING -> {
          Instant last = grant.lastPoll;
          grant.lastPoll = now;
          // RFC 8628 §3.5: polling faster than the interval earns slow_down and 5 s more.
          if (last != null && now.isBefore(last.plus(grant.interval))) {
            grant.interval = grant.interval.plusSeconds(5);
            tokenError(
                exchange, 400, "slow_down", "poll every " + grant.interval.toSeconds() + " s");
          } else {
            tokenError(exchange, 400, "authorization_pending", "waiting for the user");
          }
          return;
        }
        case APPROVED -> {
          grant.status = DeviceStatus.CONSUMED;
          tokens = issue(client, grant.subject, grant.scope, null, true);
        }
        default -> throw new IllegalStateException();
      }
    }
    respondJson(exchange, 200, tokens);
  }

  private void refreshGrant(HttpExchange exchange, MockClient client, Map<String, String> f)
      throws IOException {
    Map<String, Object> tokens;
    synchronized (this) {
      RefreshGrant grant = refreshGrants.remove(f.getOrDefault("refresh_token", ""));
      if (grant == null || !grant.clientId().equals(client.clientId())) {
        tokenError(exchange, 400, "invalid_grant", "unknown or revoked refresh token");
        return;
      }
      tokens = issue(client, grant.subject(), grant.scope(), null, true);
    }
    respondJson(exchange, 200, tokens);
  }

  private void deviceAuthorization(HttpExchange exchange) throws IOException {
    if (!"POST".equals(exchange.getRequestMethod())) {
      tokenError(exchange, 405, "invalid_request", "use POST");
      return;
    }
    Map<String, String> f = form(readBody(exchange));
    Optional<MockClient> client = authenticateClient(exchange, f);
    if (client.isEmpty()) {
      tokenError(exchange, 401, "invalid_client", "unknown client or bad credentials");
      return;
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    synchronized (this) {
      DeviceGrant grant = new DeviceGrant();
      grant.deviceCode = randomToken();
      grant.userCode = userCode();
      grant.clientId = client.get().clientId();
      grant.scope = f.getOrDefault("scope", "openid");
      grant.expiresAt = clock.instant().plus(deviceCodeLifetime);
      grant.interval = deviceInterval;
      deviceGrants.put(grant.deviceCode, grant);
      lastUserCode = grant.userCode;
      URI page = endpoint(Endpoint.DEVICE_PAGE);
      answer.put("device_code", grant.deviceCode);
      answer.put("user_code", grant.userCode);
      answer.put("verification_uri", page.toString());
      answer.put("verification_uri_complete", page + "?user_code=" + grant.userCode);
      answer.put("expires_in", deviceCodeLifetime.toSeconds());
      answer.put("interval", deviceInterval.toSeconds());
    }
    respondJson(exchange, 200, answer);
  }

  private Map<String, Object> issue(
      MockClient client, String subject, String scope, String nonce, boolean withRefresh) {
    MockUser user = users.getOrDefault(subject, new MockUser(subject, null, null, List.of()));
    Instant now = clock.instant();
    Instant exp = now.plus(tokenLifetime);
    TokenBuilder access =
        profile(token(), user)
            .typ("at+jwt")
            .audience(accessTokenAudience)
            .authorizedParty(client.clientId())
            .claim("client_id", client.clientId())
            .claim("scope", scope)
            .expiresAt(exp)
            .claim("jti", randomToken());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("access_token", access.sign());
    answer.put("token_type", "Bearer");
    answer.put("expires_in", tokenLifetime.toSeconds());
    answer.put("scope", scope);
    if (List.of(scope.split(" ")).contains("openid")) {
      TokenBuilder id =
          profile(token(), user)
              .audience(client.clientId())
              .authorizedParty(client.clientId())
              .claim("auth_time", now.getEpochSecond())
              .expiresAt(exp);
      if (nonce != null) {
        id.claim("nonce", nonce);
      }
      answer.put("id_token", id.sign());
    }
    if (withRefresh) {
      String refresh = randomToken();
      refreshGrants.put(refresh, new RefreshGrant(subject, client.clientId(), scope));
      answer.put("refresh_token", refresh);
    }
    return answer;
  }

  private static TokenBuilder profile(TokenBuilder builder, MockUser user) {
    builder.subject(user.subject());
    if (user.email() != null) {
      builder.email(user.email()).emailVerified(true);
    }
    if (user.preferredUsername() != null) {
      builder.preferredUsername(user.preferredUsername());
    }
    if (!user.groups().isEmpty()) {
      builder.claim("groups", user.groups());
    }
    return builder;
  }

  private DeviceGrant deviceGrant(String userCode) {
    String wanted = userCode.replace("-", "").toUpperCase(Locale.ROOT);
    for (DeviceGrant grant : deviceGrants.values()) {
      if (grant.userCode.replace("-", "").equals(wanted)) {
        return grant;
      }
    }
    throw new IllegalArgumentException("no device request with user code " + userCode);
  }

  private String userCode() {
    StringBuilder code = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == 4) {
        code.append('-');
      }
      code.append(USER_CODE_LETTERS.charAt(random.nextInt(USER_CODE_LETTERS.length())));
    }
    return code.toString();
  }

  private String randomToken() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return TokenBuilder.b64(bytes);
  }

  private static String s256(String verifier) {
    try {
      return TokenBuilder.b64(
          MessageDigest.getInstance("SHA-256")
              .digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The attacker key's self-signed certificate, base64 DER, for {@code x5c} headers. */
  synchronized String attackerCertificateBase64() {
    if (attackerCertificate == null) {
      try {
        var pair = attackerKey().keyPair();
        X500Name name = new X500Name("CN=attacker");
        Instant now = clock.instant();
        var holder =
            new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.valueOf(now.toEpochMilli()),
                    Date.from(now.minusSeconds(3600)),
                    Date.from(now.plusSeconds(86_400)),
                    name,
                    pair.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate()));
        attackerCertificate =
            Base64.getEncoder()
                .encodeToString(
                    new JcaX509CertificateConverter().getCertificate(holder).getEncoded());
      } catch (OperatorCreationException | java.security.GeneralSecurityException e) {
        throw new IllegalStateException("cannot make the attacker certificate", e);
      }
    }
    return attackerCertificate;
  }

  private static String readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      return new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
    }
  }

  private static Map<String, String> form(String raw) {
    Map<String, String> values = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return values;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      values.putIfAbsent(
          URLDecoder.decode(name, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return values;
  }

  private static String encodeForm(Map<String, String> values) {
    List<String> pairs = new ArrayList<>();
    values.forEach(
        (k, v) ->
            pairs.add(
                URLEncoder.encode(k, StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return String.join("&", pairs);
  }

  private static void tokenError(HttpExchange exchange, int status, String error, String detail)
      throws IOException {
    respondJson(exchange, status, Map.of("error", error, "error_description", detail));
  }

  private static void respondJson(HttpExchange exchange, int status, Object body)
      throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    respond(exchange, status, "application/json", TokenBuilder.write(body));
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private record AuthCode(
      String clientId,
      String redirectUri,
      Optional<String> challenge,
      String subject,
      String scope,
      Optional<String> nonce,
      Instant expiresAt) {}

  private record RefreshGrant(String subject, String clientId, String scope) {}

  private enum DeviceStatus {
    PENDING,
    APPROVED,
    DENIED,
    CONSUMED
  }

  private static final class DeviceGrant {
    String deviceCode;
    String userCode;
    String clientId;
    String scope;
    Instant expiresAt;
    Duration interval;
    Instant lastPoll;
    DeviceStatus status = DeviceStatus.PENDING;
    String subject;
  }
}

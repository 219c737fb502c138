package dev.warden.server.identity.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.identity.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The command line's side of an OpenID provider: discovery, the device authorization endpoint and
 * the token endpoint (authorization code with PKCE, device code, refresh token). Every failure is a
 * {@link LoginException} with one line saying what went wrong; tokens never appear in messages.
 */
public final class OidcClient {
  /** The largest answer read from a provider; discovery documents and token answers are small. */
  static final int MAX_RESPONSE_BYTES = 1024 * 1024;

  static final String DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http;
  private final Clock clock;
  private final ObjectMapper json = new ObjectMapper();

  /** The answer of the token endpoint: tokens, or the OAuth error code it refused with. */
  sealed interface TokenAnswer {
    /** Tokens were issued. */
    record Issued(Tokens tokens) implements TokenAnswer {}

    /** The endpoint refused with {@code error} (RFC 6749 §5.2, RFC 8628 §3.5). */
    record Refused(String error, String description) implements TokenAnswer {}
  }

  public OidcClient(HttpClient http, Clock clock) {
    this.http = Objects.requireNonNull(http, "http");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** An HTTP client for providers: no redirects followed, a bounded connect time. */
  public static HttpClient defaultHttpClient() {
    return HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /**
   * Parses and checks an issuer URL: https, or http for this machine only (a test or local
   * provider), without query or fragment.
   *
   * @throws LoginException when it is not such a URL
   */
  public static URI issuer(String text) {
    String trimmed = text.strip();
    while (trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    URI uri;
    try {
      uri = new URI(trimmed);
    } catch (URISyntaxException e) {
      throw new LoginException(
          "the issuer '" + text + "' is not a URL, e.g. https://login.example.com/realms/main");
    }
    if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new LoginException(
          "the issuer '"
              + text
              + "' must be a URL without query or fragment, e.g."
              + " https://login.example.com/realms/main");
    }
    requireSecure(uri, "the issuer");
    return uri;
  }

  /** Fetches and checks the provider's discovery document. */
  public ProviderMetadata discover(URI issuer) {
    URI location = URI.create(issuer + "/.well-known/openid-configuration");
    JsonNode doc = send(HttpRequest.newBuilder(location).GET(), issuer, "discovery");
    if (!doc.isObject()) {
      throw new LoginException("the discovery document at " + location + " is not a JSON object");
    }
    String declared = text(doc, "issuer").orElse("");
    // OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one asked about, or a
    // document served elsewhere could name someone else's endpoints.
    if (!declared.equals(issuer.toString()) && !declared.equals(issuer + "/")) {
      throw new LoginException(
          "the discovery document at "
              + location
              + " names the issuer '"
              + declared
              + "', not "
              + issuer);
    }
    return new ProviderMetadata(
        issuer,
        endpoint(doc, "authorization_endpoint", location),
        endpoint(doc, "token_endpoint", location),
        text(doc, "device_authorization_endpoint").map(u -> secureUri(u, location)));
  }

  /** Starts the device authorization flow (RFC 8628 §3.1). */
  public DeviceAuthorization authorizeDevice(ProviderMetadata provider, ClientRegistration client) {
    URI endpoint =
        provider
            .deviceAuthorizationEndpoint()
            .orElseThrow(
                () ->
                    new LoginException(
                        "the identity provider "
                            + provider.issuer()
                            + " does not offer the device flow; use --browser"));
    Map<String, String> form = new LinkedHashMap<>();
    form.put("client_id", client.clientId());
    form.put("scope", client.scope());
    client.clientSecret().ifPresent(s -> form.put("client_secret", s.reveal()));
    Instant now = clock.instant();
    JsonNode answer = post(endpoint, form, provider.issuer(), "device authorization");
    if (answer.has("error")) {
      throw refused("the device authorization request", answer);
    }
    String deviceCode = text(answer, "device_code").orElse("");
    String userCode = text(answer, "user_code").orElse("");
    // Some providers (Google, older Okta) spell it verification_url.
    Optional<String> uri =
        text(answer, "verification_uri").or(() -> text(answer, "verification_url"));
    if (deviceCode.isEmpty() || userCode.isEmpty() || uri.isEmpty()) {
      throw new LoginException(
          "the identity provider's device authorization answer lacks a device_code, user_code or"
              + " verification_uri");
    }
    long expiresIn = answer.path("expires_in").asLong(600);
    long interval = answer.path("interval").asLong(5);
    return new DeviceAuthorization(
        Secret.of(deviceCode),
        userCode,
        parseUri(uri.get(), "verification_uri"),
        text(answer, "verification_uri_complete")
            .map(u -> parseUri(u, "verification_uri_complete")),
        now.plusSeconds(Math.max(1, expiresIn)),
        Duration.ofSeconds(Math.max(0, interval)));
  }

  /** One poll of the token endpoint with a device code (RFC 8628 §3.4). */
  TokenAnswer pollDevice(
      ProviderMetadata provider, ClientRegistration client, DeviceAuthorization device) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", DEVICE_CODE_GRANT);
    form.put("device_code", device.deviceCode().reveal());
    form.put("client_id", client.clientId());
    client.clientSecret().ifPresent(s -> form.put("client_secret", s.reveal()));
    return token(provider, client, form, Optional.empty(), Optional.empty());
  }

  /** Exchanges an authorization code and its PKCE verifier for tokens (RFC 7636 §4.5). */
  public Tokens exchangeCode(
      ProviderMetadata provider,
      ClientRegistration client,
      String code,
      URI redirectUri,
      String codeVerifier,
      Optional<String> nonce) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", redirectUri.toString());
    form.put("code_verifier", codeVerifier);
    form.put("client_id", client.clientId());
    client.clientSecret().ifPresent(s -> form.put("client_secret", s.reveal()));
    return issued(
        token(provider, client, form, Optional.empty(), nonce), "the authorization code exchange");
  }

  /**
   * Exchanges a refresh token for fresh tokens (RFC 6749 §6). A provider may answer without a new
   * ID token or refresh token (OpenID Connect Core §12.2); the previous ones are then kept.
   */
  public Tokens refresh(ProviderMetadata provider, ClientRegistration client, Tokens previous) {
    Secret refreshToken =
        previous.refreshToken().orElseThrow(() -> new LoginException("there is no refresh token"));
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "refresh_token");
    form.put("refresh_token", refreshToken.reveal());
    form.put("client_id", client.clientId());
    client.clientSecret().ifPresent(s -> form.put("client_secret", s.reveal()));
    return issued(
        token(provider, client, form, Optional.of(previous), Optional.empty()), "the refresh");
  }

  private static Tokens issued(TokenAnswer answer, String what) {
    return switch (answer) {
      case TokenAnswer.Issued issued -> issued.tokens();
      case TokenAnswer.Refused refused ->
          throw new LoginException(
              "the identity provider refused "
                  + what
                  + ": "
                  + refused.error()
                  + (refused.description().isEmpty() ? "" : " (" + refused.description() + ")"));
    };
  }

  private TokenAnswer token(
      ProviderMetadata provider,
      ClientRegistration client,
      Map<String, String> form,
      Optional<Tokens> previous,
      Optional<String> nonce) {
    Instant now = clock.instant();
    JsonNode answer = post(provider.tokenEndpoint(), form, provider.issuer(), "token");
    if (answer.has("error")) {
      return new TokenAnswer.Refused(
          answer.path("error").asText(), text(answer, "error_description").orElse(""));
    }
    Optional<String> access = text(answer, "access_token");
    if (access.isEmpty()) {
      throw new LoginException("the identity provider's token answer has no access_token");
    }
    Optional<Secret> idToken = text(answer, "id_token").map(Secret::of);
    if (idToken.isEmpty() && previous.isEmpty()) {
      throw new LoginException(
          "the identity provider issued no ID token; the scope must include openid");
    }
    Secret id = idToken.orElseGet(() -> previous.orElseThrow().idToken());
    Instant idExpiry;
    if (idToken.isPresent()) {
      TokenClaims claims = TokenClaims.of(id);
      check(claims, provider, client, nonce);
      idExpiry = claims.expiresAt();
    } else {
      idExpiry = previous.orElseThrow().idTokenExpiresAt();
    }
    Optional<Instant> accessExpiry =
        answer.path("expires_in").canConvertToLong() && answer.path("expires_in").asLong() > 0
            ? Optional.of(now.plusSeconds(answer.path("expires_in").asLong()))
            : Optional.empty();
    Optional<Secret> refresh =
        text(answer, "refresh_token")
            .map(Secret::of)
            .or(() -> previous.flatMap(Tokens::refreshToken));
    return new TokenAnswer.Issued(
        new Tokens(id, Secret.of(access.get()), refresh, idExpiry, accessExpiry));
  }

  /** The checks of OpenID Connect Core §3.1.3.7 that do not need the provider's keys. */
  private static void check(
      TokenClaims claims,
      ProviderMetadata provider,
      ClientRegistration client,
      Optional<String> nonce) {
    String issuer = provider.issuer().toString();
    if (!claims.issuer().equals(issuer) && !claims.issuer().equals(issuer + "/")) {
      throw new LoginException(
          "the ID token was issued by '" + claims.issuer() + "', not " + provider.issuer());
    }
    if (!claims.audience().contains(client.clientId())) {
      throw new LoginException(
          "the ID token is meant for "
              + claims.audience()
              + ", not the client id "
              + client.clientId());
    }
    if (nonce.isPresent() && !claims.nonce().equals(nonce)) {
      throw new LoginException(
          "the ID token's nonce does not match the one this login sent; login refused");
    }
  }

  private JsonNode post(URI endpoint, Map<String, String> form, URI issuer, String what) {
    String body =
        form.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    return send(
        HttpRequest.newBuilder(endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body)),
        issuer,
        what);
  }

  private JsonNode send(HttpRequest.Builder request, URI issuer, String what) {
    HttpRequest built =
        request.header("Accept", "application/json").timeout(REQUEST_TIMEOUT).build();
    String host =
        built.uri().getHost() + (built.uri().getPort() < 0 ? "" : ":" + built.uri().getPort());
    HttpResponse<InputStream> response;
    try {
      response = http.send(built, HttpResponse.BodyHandlers.ofInputStream());
    } catch (HttpConnectTimeoutException | ConnectException e) {
      throw new LoginException(
          "cannot reach the identity provider at " + host + " (" + reason(e) + ")", e);
    } catch (HttpTimeoutException e) {
      throw new LoginException(
          "the identity provider at " + host + " did not answer the " + what + " request in time",
          e);
    } catch (IOException e) {
      throw new LoginException(
          "cannot reach the identity provider at " + host + " (" + reason(e) + ")", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LoginException("interrupted while waiting for the identity provider", e);
    }
    byte[] bytes;
    try (InputStream in = response.body()) {
      bytes = in.readNBytes(MAX_RESPONSE_BYTES + 1);
    } catch (IOException e) {
      throw new LoginException(
          "the identity provider at " + host + " broke off its answer (" + reason(e) + ")", e);
    }
    if (bytes.length > MAX_RESPONSE_BYTES) {
      throw new LoginException(
          "the identity provider's "
              + what
              + " answer is larger than "
              + MAX_RESPONSE_BYTES
              + " bytes");
    }
    int status = response.statusCode();
    JsonNode node;
    try {
      node = json.readTree(bytes);
    } catch (IOException e) {
      node = null;
    }
    // Token endpoints answer errors with 400 or 401 and a JSON error object (RFC 6749 §5.2).
    if (node != null && node.isObject() && (status == 200 || node.has("error"))) {
      return node;
    }
    if (status == 404 && what.equals("discovery")) {
      throw new LoginException(
          "no OpenID provider at "
              + issuer
              + " ("
              + built.uri()
              + " answered 404); check --issuer");
    }
    throw new LoginException(
        "the identity provider at "
            + host
            + " answered the "
            + what
            + " request with HTTP "
            + status
            + (node == null ? " and no JSON" : ""));
  }

  private static String reason(Exception e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  static LoginException refused(String what, JsonNode answer) {
    String error = answer.path("error").asText();
    String description = text(answer, "error_description").orElse("");
    return new LoginException(
        "the identity provider refused "
            + what
            + ": "
            + error
            + (description.isEmpty() ? "" : " (" + description + ")"));
  }

  private static Optional<String> text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() && !value.asText().isBlank()
        ? Optional.of(value.asText())
        : Optional.empty();
  }

  private static URI endpoint(JsonNode doc, String field, URI location) {
    String value =
        text(doc, field)
            .orElseThrow(
                () ->
                    new LoginException(
                        "the discovery document at " + location + " has no " + field));
    return secureUri(value, location);
  }

  private static URI secureUri(String value, URI location) {
    URI uri = parseUri(value, "an endpoint in " + location);
    requireSecure(uri, "the endpoint " + value);
    return uri;
  }

  private static URI parseUri(String value, String what) {
    try {
      URI uri = new URI(value);
      if (uri.getHost() == null) {
        throw new URISyntaxException(value, "no host");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new LoginException(
          "the identity provider sent " + what + " that is not a URL: " + value);
    }
  }

  /** Tokens travel only over https, except to this machine (a local or test provider). */
  private static void requireSecure(URI uri, String what) {
    String scheme =
        uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (scheme.equals("https")) {
      return;
    }
    String host = uri.getHost() == null ? "" : uri.getHost();
    boolean loopback =
        host.equalsIgnoreCase("localhost")
            || host.startsWith("127.")
            || host.equals("[::1]")
            || host.equals("::1");
    if (!(scheme.equals("http") && loopback)) {
      throw new LoginException(what + " must be an https:// URL (http only for this machine)");
    }
  }
}

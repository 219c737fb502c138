package dev.warden.server.identity.login;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The authorization-code flow with PKCE for a native application (RFC 8252, RFC 7636 S256): the
 * person signs in in their browser, which the provider sends back to a one-shot listener on
 * 127.0.0.1 with a code; the code and the PKCE verifier are exchanged for tokens.
 */
public final class BrowserFlow {
  /** How long to wait for the browser unless told otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  private final OidcClient oidc;
  private final SecureRandom random;
  private final Duration timeout;

  public BrowserFlow(OidcClient oidc, SecureRandom random, Duration timeout) {
    this.oidc = Objects.requireNonNull(oidc, "oidc");
    this.random = Objects.requireNonNull(random, "random");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * Runs the flow: hands the authorization URL to {@code open} (which shows it and starts a
   * browser), waits for the browser to come back, and exchanges the code.
   *
   * @throws LoginException on a refused sign-in, a state mismatch, a timeout or a provider error
   */
  public Tokens run(ProviderMetadata provider, ClientRegistration client, Consumer<URI> open) {
    Pkce pkce = Pkce.generate(random);
    String state = Pkce.randomToken(random);
    String nonce = Pkce.randomToken(random);
    try (LoopbackReceiver receiver = LoopbackReceiver.start(state)) {
      URI redirect = receiver.redirectUri();
      Map<String, String> params = new LinkedHashMap<>();
      params.put("response_type", "code");
      params.put("client_id", client.clientId());
      params.put("redirect_uri", redirect.toString());
      params.put("scope", client.scope());
      params.put("state", state);
      params.put("nonce", nonce);
      params.put("code_challenge", pkce.challenge());
      params.put("code_challenge_method", "S256");
      open.accept(authorizationUri(provider.authorizationEndpoint(), params));
      String code = receiver.await(timeout);
      return oidc.exchangeCode(
          provider, client, code, redirect, pkce.verifier(), Optional.of(nonce));
    }
  }

  public static URI authorizationUri(URI endpoint, Map<String, String> params) {
    String query =
        params.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    String base = endpoint.toString();
    return URI.create(base + (endpoint.getRawQuery() == null ? "?" : "&") + query);
  }
}

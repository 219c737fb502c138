package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The authorization-code flow with PKCE against the in-test provider. The "browser" is an HTTP
 * client that follows the provider's redirect to the loopback listener, as a browser would.
 */
@Timeout(60)
class BrowserFlowTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-01T12:00:00Z"));
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  private final OidcClient oidc = new OidcClient(OidcClient.defaultHttpClient(), clock);
  private final HttpClient browser =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  private final ClientRegistration client =
      new ClientRegistration(
          idp.issuer(), "warden-cli", Optional.empty(), ClientRegistration.DEFAULT_SCOPE);

  BrowserFlowTest() {
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("dba")));
  }

  @AfterEach
  void stop() {
    idp.close();
  }

  private Tokens run(UnaryOperator<String> tamper, Duration timeout) {
    return new BrowserFlow(oidc, new SecureRandom(), timeout)
        .run(oidc.discover(idp.issuer()), client, uri -> follow(uri, tamper));
  }

  /** GETs the authorization URL, then the loopback URL it redirects to (altered by tamper). */
  private void follow(URI authorize, UnaryOperator<String> tamper) {
    try {
      HttpResponse<String> redirect =
          browser.send(
              HttpRequest.newBuilder(authorize).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(redirect.statusCode()).isEqualTo(302);
      String location = tamper.apply(redirect.headers().firstValue("Location").orElseThrow());
      browser.send(
          HttpRequest.newBuilder(URI.create(location)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theSignedInUserGetsTokensForTheClient() {
    idp.signIn("u-1");
    Tokens tokens = run(UnaryOperator.identity(), Duration.ofSeconds(30));
    TokenClaims claims = TokenClaims.of(tokens.idToken());
    assertThat(claims.userName()).isEqualTo("alice@corp.example");
    assertThat(claims.audience()).containsExactly("warden-cli");
    // The nonce the flow sent came back in the ID token (and was checked).
    assertThat(claims.nonce()).isPresent();
    assertThat(tokens.refreshToken()).isPresent();
  }

  @Test
  void theAuthorizationRequestUsesS256AndALoopbackRedirect() {
    idp.signIn("u-1");
    Map<String, String> seen = new LinkedHashMap<>();
    new BrowserFlow(oidc, new SecureRandom(), Duration.ofSeconds(30))
        .run(
            oidc.discover(idp.issuer()),
            client,
            uri -> {
              seen.putAll(query(uri));
              follow(uri, UnaryOperator.identity());
            });
    assertThat(seen.get("code_challenge_method")).isEqualTo("S256");
    assertThat(seen.get("code_challenge")).hasSize(43);
    assertThat(seen.get("state")).hasSize(43);
    assertThat(seen.get("redirect_uri")).matches("http://127\\.0\\.0\\.1:\\d+/callback");
  }

  @Test
  void aRedirectWithAnotherStateIsRefused() {
    idp.signIn("u-1");
    assertThatThrownBy(
            () ->
                run(
                    location -> location.replaceFirst("state=[^&]+", "state=forged"),
                    Duration.ofSeconds(30)))
        .isInstanceOf(LoginException.class)
        .hasMessageContaining("different state than this login sent; login refused");
  }

  @Test
  void aRefusalAtTheProviderSaysWhy() {
    idp.signOut();
    assertThatThrownBy(() -> run(UnaryOperator.identity(), Duration.ofSeconds(30)))
        .isInstanceOf(LoginException.class)
        .hasMessage("the identity provider refused the sign-in: login_required");
  }

  @Test
  void noAnswerFromTheBrowserTimesOut() {
    assertThatThrownBy(
            () ->
                new BrowserFlow(oidc, new SecureRandom(), Duration.ofMillis(200))
                    .run(oidc.discover(idp.issuer()), client, uri -> {}))
        .isInstanceOf(LoginException.class)
        .hasMessageStartingWith("no answer from the browser within");
  }

  @Test
  void theProviderRefusesACodeWithTheWrongVerifier() throws Exception {
    idp.signIn("u-1");
    ProviderMetadata provider = oidc.discover(idp.issuer());
    Pkce pkce = Pkce.generate(new SecureRandom());
    String redirect = "http://127.0.0.1:9/callback";
    URI authorize =
        BrowserFlow.authorizationUri(
            provider.authorizationEndpoint(),
            Map.of(
                "response_type", "code",
                "client_id", "warden-cli",
                "redirect_uri", redirect,
                "scope", "openid email",
                "state", "s",
                "code_challenge", pkce.challenge(),
                "code_challenge_method", "S256"));
    HttpResponse<String> answer =
        browser.send(
            HttpRequest.newBuilder(authorize).build(), HttpResponse.BodyHandlers.ofString());
    String code =
        query(URI.create(answer.headers().firstValue("Location").orElseThrow())).get("code");
    String wrongVerifier = Pkce.generate(new SecureRandom()).verifier();

    assertThatThrownBy(
            () ->
                oidc.exchangeCode(
                    provider, client, code, URI.create(redirect), wrongVerifier, Optional.empty()))
        .isInstanceOf(LoginException.class)
        .hasMessage(
            "the identity provider refused the authorization code exchange: invalid_grant"
                + " (code_verifier does not match)");
  }

  @Test
  void theChallengeIsTheS256OfTheVerifier() {
    // RFC 7636 Appendix B.
    assertThat(Pkce.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
        .isEqualTo("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> params = new LinkedHashMap<>();
    for (String pair : uri.getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      params.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return params;
  }
}

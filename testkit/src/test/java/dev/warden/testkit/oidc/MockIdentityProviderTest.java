package dev.warden.testkit.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.testkit.oidc.MockIdentityProvider.Availability;
import dev.warden.testkit.oidc.MockIdentityProvider.Endpoint;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The mock provider's OAuth grants behave as their RFCs say, so clients tested on it are right. */
class MockIdentityProviderTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra";

  private final AtomicReference<Instant> now =
      new AtomicReference<>(Instant.parse("2026-03-01T10:00:00Z"));
  private final Clock clock =
      new Clock() {
        @Override
        public Instant instant() {
          return now.get();
        }

        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }
      };
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void close() {
    idp.close();
    http.close();
  }

  @Test
  void discoveryNamesTheIssuerAndEndpoints() throws Exception {
    JsonNode doc = json(get(idp.discoveryUri()).body());
    assertThat(doc.get("issuer").asText()).isEqualTo(idp.issuer().toString());
    assertThat(doc.get("jwks_uri").asText()).isEqualTo(idp.jwksUri().toString());
    assertThat(doc.get("device_authorization_endpoint").asText())
        .isEqualTo(idp.deviceAuthorizationEndpoint().toString());
    assertThat(idp.requests(Endpoint.DISCOVERY)).isEqualTo(1);

    idp.addEd25519Key("ed-1");
    idp.removeKey("ec-1");
    JsonNode jwks = json(get(idp.jwksUri()).body());
    assertThat(jwks.get("keys").findValuesAsText("kid")).containsExactly("rsa-1", "ed-1");
    assertThat(jwks.toString()).doesNotContain("\"d\"");
  }

  @Test
  void theCodeFlowNeedsPkceAndItsVerifierAndEachCodeWorksOnce() throws Exception {
    idp.addUser(new MockUser("alice", "alice@corp.example", "alice", List.of("dba")));
    idp.signIn("alice");
    String redirect = "http://127.0.0.1:49152/callback";
    Map<String, String> answer = authorize(redirect, s256(VERIFIER));
    assertThat(answer).containsEntry("state", "st-1").containsKey("code");

    HttpResponse<String> wrong = token(codeGrant(answer.get("code"), redirect, VERIFIER + "x"));
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(json(wrong.body()).get("error").asText()).isEqualTo("invalid_grant");

    Map<String, String> again = authorize(redirect, s256(VERIFIER));
    HttpResponse<String> ok = token(codeGrant(again.get("code"), redirect, VERIFIER));
    assertThat(ok.statusCode()).isEqualTo(200);
    JsonNode tokens = json(ok.body());
    JsonNode id = claims(tokens.get("id_token").asText());
    assertThat(id.get("sub").asText()).isEqualTo("alice");
    assertThat(id.get("aud").asText()).isEqualTo("warden-cli");
    assertThat(id.get("nonce").asText()).isEqualTo("n-1");
    assertThat(id.get("email").asText()).isEqualTo("alice@corp.example");
    JsonNode access = claims(tokens.get("access_token").asText());
    assertThat(access.get("aud").asText()).isEqualTo("warden");
    assertThat(access.get("groups").get(0).asText()).isEqualTo("dba");
    assertThat(tokens.get("refresh_token").asText()).isNotEmpty();

    HttpResponse<String> reused = token(codeGrant(again.get("code"), redirect, VERIFIER));
    assertThat(json(reused.body()).get("error").asText()).isEqualTo("invalid_grant");
  }

  @Test
  void authorizeRefusesWhatTheSpecRefuses() throws Exception {
    idp.signIn("alice");
    String redirect = "http://127.0.0.1:50000/cb";
    assertThat(authorize(redirect, null)).containsEntry("error", "invalid_request");
    idp.signOut();
    assertThat(authorize(redirect, s256(VERIFIER))).containsEntry("error", "login_required");

    URI offsite =
        URI.create(
            idp.authorizationEndpoint()
                + "?response_type=code&client_id=warden-cli&redirect_uri="
                + enc("https://evil.example/cb"));
    assertThat(get(offsite).statusCode()).isEqualTo(400);
  }

  @Test
  void theDeviceFlowAnswersPendingSlowDownApprovedAndThenUsed() throws Exception {
    idp.deviceCodes(Duration.ofMinutes(10), Duration.ofSeconds(5));
    JsonNode start =
        json(
            post(
                    idp.deviceAuthorizationEndpoint(),
                    Map.of("client_id", "warden-cli", "scope", "openid"))
                .body());
    String device = start.get("device_code").asText();
    String userCode = start.get("user_code").asText();
    assertThat(userCode).matches("[A-Z]{4}-[A-Z]{4}");
    assertThat(idp.lastUserCode()).contains(userCode);
    assertThat(start.get("verification_uri_complete").asText()).endsWith("user_code=" + userCode);
    assertThat(start.get("interval").asInt()).isEqualTo(5);

    assertThat(deviceError(device)).isEqualTo("authorization_pending");
    assertThat(deviceError(device)).isEqualTo("slow_down");
    now.updateAndGet(t -> t.plusSeconds(10));
    assertThat(deviceError(device)).isEqualTo("authorization_pending");

    idp.approveDevice(userCode.toLowerCase(java.util.Locale.ROOT), "alice");
    HttpResponse<String> ok = token(deviceGrant(device));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(claims(json(ok.body()).get("id_token").asText()).get("sub").asText())
        .isEqualTo("alice");
    assertThat(deviceError(device)).isEqualTo("invalid_grant");
  }

  @Test
  void aDeniedOrExpiredDeviceCodeSaysSo() throws Exception {
    String denied =
        json(post(idp.deviceAuthorizationEndpoint(), Map.of("client_id", "warden-cli")).body())
            .get("device_code")
            .asText();
    idp.denyDevice(idp.lastUserCode().orElseThrow());
    assertThat(deviceError(denied)).isEqualTo("access_denied");

    String expiring =
        json(post(idp.deviceAuthorizationEndpoint(), Map.of("client_id", "warden-cli")).body())
            .get("device_code")
            .asText();
    now.updateAndGet(t -> t.plus(Duration.ofMinutes(11)));
    assertThat(deviceError(expiring)).isEqualTo("expired_token");
    assertThatThrownBy(() -> idp.approveDevice("ZZZZ-ZZZZ", "alice"))
        .hasMessageContaining("no device request");
  }

  @Test
  void refreshTokensRotateAndConfidentialClientsUseTheirSecret() throws Exception {
    idp.addClient(MockClient.confidential("batch", "s3cret"));
    HttpRequest cc =
        HttpRequest.newBuilder(idp.tokenEndpoint())
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString("batch:s3cret".getBytes(StandardCharsets.UTF_8)))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
            .build();
    HttpResponse<String> issued = http.send(cc, HttpResponse.BodyHandlers.ofString());
    assertThat(issued.statusCode()).isEqualTo(200);
    assertThat(claims(json(issued.body()).get("access_token").asText()).get("sub").asText())
        .isEqualTo("batch");
    assertThat(
            token(
                    Map.of(
                        "grant_type",
                        "client_credentials",
                        "client_id",
                        "batch",
                        "client_secret",
                        "nope"))
                .statusCode())
        .isEqualTo(401);

    String first =
        json(post(idp.deviceAuthorizationEndpoint(), Map.of("client_id", "warden-cli")).body())
            .get("device_code")
            .asText();
    idp.approveDevice(idp.lastUserCode().orElseThrow(), "alice");
    String refresh = json(token(deviceGrant(first)).body()).get("refresh_token").asText();
    HttpResponse<String> renewed =
        token(
            Map.of(
                "grant_type",
                "refresh_token",
                "client_id",
                "warden-cli",
                "refresh_token",
                refresh));
    assertThat(renewed.statusCode()).isEqualTo(200);
    HttpResponse<String> replayed =
        token(
            Map.of(
                "grant_type",
                "refresh_token",
                "client_id",
                "warden-cli",
                "refresh_token",
                refresh));
    assertThat(json(replayed.body()).get("error").asText()).isEqualTo("invalid_grant");
  }

  @Test
  void anUnavailableProviderAnswers503OrDropsTheConnection() throws Exception {
    idp.availability(Availability.UNAVAILABLE);
    assertThat(get(idp.jwksUri()).statusCode()).isEqualTo(503);
    idp.availability(Availability.CLOSED);
    assertThatThrownBy(() -> get(idp.jwksUri())).isInstanceOf(IOException.class);
    idp.availability(Availability.UP);
    assertThat(get(idp.jwksUri()).statusCode()).isEqualTo(200);
    // The JDK client retries an idempotent GET once when the connection is dropped.
    assertThat(idp.requests(Endpoint.JWKS)).isBetween(3, 4);
  }

  private Map<String, String> authorize(String redirect, String challenge) throws Exception {
    String query =
        "response_type=code&client_id=warden-cli&scope=openid&state=st-1&nonce=n-1&redirect_uri="
            + enc(redirect)
            + (challenge == null ? "" : "&code_challenge_method=S256&code_challenge=" + challenge);
    HttpResponse<String> response = get(URI.create(idp.authorizationEndpoint() + "?" + query));
    assertThat(response.statusCode()).isEqualTo(302);
    URI location = URI.create(response.headers().firstValue("Location").orElseThrow());
    assertThat(location.toString()).startsWith(redirect + "?");
    Map<String, String> params = new LinkedHashMap<>();
    for (String pair : location.getRawQuery().split("&")) {
      String[] kv = pair.split("=", 2);
      params.put(kv[0], java.net.URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
    }
    return params;
  }

  private static Map<String, String> codeGrant(String code, String redirect, String verifier) {
    return Map.of(
        "grant_type", "authorization_code",
        "client_id", "warden-cli",
        "code", code,
        "redirect_uri", redirect,
        "code_verifier", verifier);
  }

  private static Map<String, String> deviceGrant(String deviceCode) {
    return Map.of(
        "grant_type",
        "urn:ietf:params:oauth:grant-type:device_code",
        "client_id",
        "warden-cli",
        "device_code",
        deviceCode);
  }

  private String deviceError(String deviceCode) throws Exception {
    HttpResponse<String> response = token(deviceGrant(deviceCode));
    assertThat(response.statusCode()).isEqualTo(400);
    return json(response.body()).get("error").asText();
  }

  private HttpResponse<String> token(Map<String, String> form) throws Exception {
    return post(idp.tokenEndpoint(), form);
  }

  private HttpResponse<String> post(URI uri, Map<String, String> form) throws Exception {
    String body =
        form.entrySet().stream()
            .map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
            .collect(Collectors.joining("&"));
    return http.send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode claims(String jwt) throws Exception {
    return json(
        new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  private static JsonNode json(String body) throws Exception {
    return JSON.readTree(body);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String s256(String verifier) throws Exception {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(
            MessageDigest.getInstance("SHA-256")
                .digest(verifier.getBytes(StandardCharsets.US_ASCII)));
  }
}

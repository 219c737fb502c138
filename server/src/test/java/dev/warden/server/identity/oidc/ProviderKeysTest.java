package dev.warden.server.identity.oidc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.Identity;
import dev.warden.testkit.oidc.MockIdentityProvider.Availability;
import dev.warden.testkit.oidc.MockIdentityProvider.Endpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the verifier fetches, caches and refetches a provider's keys: rotation, floods of unknown
 * kids (THREATS AU05), and a provider that is down, slow or misconfigured (F11).
 */
class ProviderKeysTest {
  private OidcFixture f;

  @AfterEach
  void close() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aFloodOfUnknownKidsFetchesTheKeysAtMostOncePerInterval() throws Exception {
    f = new OidcFixture();
    List<CompletableFuture<Identity>> results = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      tokens.add(f.idp.token().kid(UUID.randomUUID().toString()).sign());
    }
    for (String token : tokens) {
      results.add(f.verifier.verify("alice", token));
    }
    for (CompletableFuture<Identity> result : results) {
      assertThat(reasonOf(result)).isEqualTo(Reason.TOKEN_INVALID);
    }
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(1);
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isEqualTo(1);

    // The next interval allows one more fetch, however many tokens ask.
    f.clock.advance(Duration.ofSeconds(31));
    results.clear();
    for (String token : tokens) {
      results.add(f.verifier.verify("alice", token));
    }
    for (CompletableFuture<Identity> result : results) {
      assertThat(reasonOf(result)).isEqualTo(Reason.TOKEN_INVALID);
    }
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(2);
    // A good token still verifies with the cached keys.
    assertThat(f.accept("alice", f.idp.token().sign())).isNotNull();
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(2);
  }

  @Test
  void aRotatedKeyIsFetchedOnceWhenAllowedAndThenUsed() {
    f = new OidcFixture();
    assertThat(f.accept("alice", f.idp.token().sign())).isNotNull();
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(1);

    f.idp.addRsaKey("rsa-2");
    f.idp.signWith("rsa-2");
    f.idp.removeKey("rsa-1");
    String rotated = f.idp.token().sign();
    // Within the minimum interval the new kid stays unknown, without a fetch.
    assertThat(f.refuse("alice", rotated).getMessage()).contains("does not publish");
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(1);

    f.clock.advance(Duration.ofSeconds(30));
    assertThat(f.accept("alice", rotated)).isNotNull();
    assertThat(f.accept("alice", f.idp.token().sign())).isNotNull();
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(2);
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isEqualTo(1);
  }

  @Test
  void aProviderDownAtStartDoesNotFailStartAndIsTriedAgainLater() throws Exception {
    f = new OidcFixture();
    f.idp.availability(Availability.UNAVAILABLE);
    f.verifier.prefetch().get(30, TimeUnit.SECONDS); // completes normally
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isEqualTo(1);

    String token = f.idp.token().sign();
    AuthenticationFailure failure = f.refuse("alice", token);
    assertThat(failure.reason()).isEqualTo(Reason.PROVIDER_UNAVAILABLE);
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isEqualTo(1); // refused without asking again

    f.idp.availability(Availability.UP);
    f.clock.advance(Duration.ofSeconds(30));
    assertThat(f.accept("alice", token)).isNotNull();
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isEqualTo(2);
  }

  @Test
  void droppedConnectionsAndTimeoutsAreProviderUnavailable() {
    f = new OidcFixture(b -> b.httpTimeout(Duration.ofMillis(300)));
    f.idp.availability(Availability.CLOSED);
    assertThat(f.refuse("alice", f.idp.token().sign()).reason())
        .isEqualTo(Reason.PROVIDER_UNAVAILABLE);

    f.idp.availability(Availability.HANG);
    f.clock.advance(Duration.ofSeconds(30));
    AuthenticationFailure failure = f.refuse("alice", f.idp.token().sign());
    assertThat(failure.reason()).isEqualTo(Reason.PROVIDER_UNAVAILABLE);
    assertThat(failure.getMessage()).contains("Timeout");
    f.idp.availability(Availability.UP);
  }

  @Test
  void cachedKeysServeWhileFreshAndLoginsFailClosedAfterwards() {
    f = new OidcFixture(b -> b.cacheLifetime(Duration.ofMinutes(10)));
    assertThat(f.accept("alice", f.idp.token().sign())).isNotNull();
    f.idp.availability(Availability.UNAVAILABLE);

    f.clock.advance(Duration.ofMinutes(9));
    assertThat(f.accept("alice", f.idp.token().sign())).isNotNull();
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(1);

    f.clock.advance(Duration.ofMinutes(2));
    assertThat(f.refuse("alice", f.idp.token().sign()).reason())
        .isEqualTo(Reason.PROVIDER_UNAVAILABLE);
  }

  @Test
  void aKeyRemovedFromTheJwksStopsWorkingWhenTheCacheExpires() {
    f = new OidcFixture(b -> b.cacheLifetime(Duration.ofMinutes(10)));
    String old = f.idp.token().signedWith("ec-1").sign();
    assertThat(f.accept("alice", old)).isNotNull();
    f.idp.removeKey("ec-1");
    f.clock.advance(Duration.ofMinutes(4)); // the token is still unexpired by its own exp
    String stillValid = f.idp.token().signedWith(f.idp.key("rsa-1")).sign();
    assertThat(f.accept("alice", stillValid)).isNotNull();
    f.clock.advance(Duration.ofMinutes(7));
    String late = f.idp.token().signedWith(f.idp.key("rsa-1")).sign();
    assertThat(f.accept("alice", late)).isNotNull(); // refetched
    String oldKeyNewToken =
        f.idp.token().signedWith(dev.warden.testkit.oidc.MockSigningKey.ec("ec-1", true)).sign();
    assertThat(f.refuse("alice", oldKeyNewToken).reason()).isEqualTo(Reason.TOKEN_INVALID);
  }

  @Test
  void aDiscoveryDocumentForAnotherIssuerIsNotTrusted() {
    f = new OidcFixture();
    f.idp.discoveryIssuer("https://evil.example");
    AuthenticationFailure failure = f.refuse("alice", f.idp.token().sign());
    assertThat(failure.reason()).isEqualTo(Reason.PROVIDER_UNAVAILABLE);
    assertThat(failure.getMessage()).contains("names issuer 'https://evil.example'");
    assertThat(f.idp.requests(Endpoint.JWKS)).isZero();
  }

  @Test
  void aMalformedOrHugeJwksIsProviderUnavailable() {
    f = new OidcFixture();
    f.idp.jwksBody("{\"keys\": [");
    assertThat(f.refuse("alice", f.idp.token().sign()).getMessage()).contains("not valid JSON");

    f.clock.advance(Duration.ofSeconds(30));
    f.idp.jwksBody("{\"keys\":[],\"pad\":\"" + "x".repeat(600_000) + "\"}");
    assertThat(f.refuse("alice", f.idp.token().sign()).getMessage()).contains("larger than");

    f.clock.advance(Duration.ofSeconds(30));
    f.idp.jwksBody("{\"keys\":{}}");
    assertThat(f.refuse("alice", f.idp.token().sign()).reason())
        .isEqualTo(Reason.PROVIDER_UNAVAILABLE);
  }

  @Test
  void aConfiguredJwksUriSkipsDiscovery() throws Exception {
    f = new OidcFixture();
    OidcProviderSettings direct =
        OidcProviderSettings.builder("direct", f.idp.issuer(), List.of("warden"))
            .jwksUri(f.idp.jwksUri())
            .build();
    try (OidcVerifier verifier = new OidcVerifier(List.of(direct), f.clock)) {
      assertThat(verifier.verify("alice", f.idp.token().sign()).get(30, TimeUnit.SECONDS))
          .isNotNull();
    }
    assertThat(f.idp.requests(Endpoint.DISCOVERY)).isZero();
    assertThat(f.idp.requests(Endpoint.JWKS)).isEqualTo(1);
  }

  @Test
  void noSingleCharacterChangeToAGoodTokenIsAccepted() {
    f = new OidcFixture();
    String token = f.idp.token().email("alice@corp.example").emailVerified(true).sign();
    assertThat(f.accept("alice@corp.example", token)).isNotNull();
    Random random = new Random(20260301L);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for (int i = 0; i < 2000; i++) {
      int at = random.nextInt(token.length());
      char c = alphabet.charAt(random.nextInt(alphabet.length()));
      if (token.charAt(at) == c) {
        continue;
      }
      String mutated = token.substring(0, at) + c + token.substring(at + 1);
      assertThat(f.refuse("alice@corp.example", mutated).reason())
          .as("mutation at %d", at)
          .isIn(Reason.TOKEN_INVALID, Reason.EXPIRED, Reason.USER_MISMATCH);
    }
  }

  private static Reason reasonOf(CompletableFuture<Identity> result) throws Exception {
    try {
      result.get(30, TimeUnit.SECONDS);
      throw new AssertionError("accepted");
    } catch (ExecutionException e) {
      return ((AuthenticationFailure) e.getCause()).reason();
    }
  }
}
